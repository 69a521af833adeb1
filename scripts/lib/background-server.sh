# Shared by scripts/embedding-server.sh and scripts/llama-server.sh (sourced, not run): a
# server started in the background on 127.0.0.1, waited for on GET /health, stopped by the pid
# its start wrote.

# A port the kernel gives free, released for the server to take.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Whether PORT can be bound (else /health could be answered by whatever holds it).
# SO_REUSEADDR, as the servers set it, so a port left in TIME_WAIT by a stopped server counts
# as free.
port_is_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# wait_healthy NAME PID PORT TIMEOUT_S LOG PIDFILE POLL_S: returns once GET /health answers;
# exits 1 with the log's tail when the server dies first or TIMEOUT_S passes (killing it then).
wait_healthy() {
  local name="$1" pid="$2" port="$3" timeout="$4" log="$5" pidfile="$6" poll="$7"
  local t0
  t0=$(date +%s)
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before becoming healthy; log $log:" >&2
      tail -n 40 "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if [ $(( $(date +%s) - t0 )) -ge "$timeout" ]; then
      echo "$name not healthy after ${timeout}s; log $log:" >&2
      tail -n 40 "$log" >&2
      kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      exit 1
    fi
    sleep "$poll"
  done
  echo "healthy after $(( $(date +%s) - t0 ))s (log $log)" >&2
}

# stop_server PIDFILE: SIGTERM to the server's process group, SIGKILL after 15 s.
stop_server() {
  local pidfile="$1" pid
  if [ ! -f "$pidfile" ]; then
    echo "no pid file $pidfile: nothing to stop" >&2
    return 0
  fi
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -- -"$pid" 2>/dev/null || kill "$pid"
    for _ in $(seq 15); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 -- -"$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    fi
    echo "stopped pid $pid" >&2
  else
    echo "pid $pid (from $pidfile) is not running" >&2
  fi
  rm -f "$pidfile"
}
