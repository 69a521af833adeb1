#!/usr/bin/env bash
# A real OpenAI-compatible embedding server for leafbench's tests and for users: infinity-emb
# (PyPI, torch engine, CPU) serving the real all-MiniLM-L6-v2 folder offline on 127.0.0.1.
#
#   scripts/embedding-server.sh install
#       create (once) the venv .cache/infinity-venv and print its path; a second run only
#       checks the marker file and prints the path
#   scripts/embedding-server.sh start [--port P] [--model DIR] [--log FILE] [--pid-file F]
#       install if needed, start the server in the background, wait for GET /health
#       (at most $INFINITY_START_TIMEOUT s, default 180; on timeout print the log tail and exit 1),
#       then print machine-readable lines on stdout:  url=http://127.0.0.1:P/v1  pid=N  model=NAME
#   scripts/embedding-server.sh stop [--pid-file F]
#       stop the server started by `start` (SIGTERM, then SIGKILL after 15 s)
#
# Example:
#   eval "$(scripts/embedding-server.sh start | grep -E '^(url|pid|model)=')"
#   curl -s "$url/embeddings" -H 'content-type: application/json' \
#        -d '{"model":"all-MiniLM-L6-v2","input":["hello world"]}'
#   scripts/embedding-server.sh stop
#
# Defaults: --port a free port (bound to 0 and released), --model .cache/models/all-MiniLM-L6-v2
# (made by scripts/fetch-model.sh when missing), --log .cache/embedding-server.log,
# --pid-file .cache/embedding-server.pid. The model name to send is the folder's basename
# (infinity serves it as `--served-model-name`; with one model served, any or no name is accepted).
# The server ALWAYS L2-normalises the vectors (infinity's torch engine hard-codes it, even for a
# model folder without a Normalize module), and `usage` counts characters, not tokens.
# Texts longer than the model's max_seq_length (256) are truncated, as in sentence-transformers;
# `input` takes 1..2048 texts (else HTTP 422).
# Environment: INFINITY_VENV (venv dir), INFINITY_VERSION (0.0.78), INFINITY_BATCH_SIZE (32).
#
# Torch comes from PyPI alone (not the download.pytorch.org CPU index), so
# the install pulls the CUDA build with its nvidia-* wheels (~5-6 GB); all runs are CPU.
#
# Pins: none was needed for the server to start. infinity-emb 0.0.78's own bounds
# (sentence-transformers<4, numpy<2, click<8.2, typer<0.13, uvicorn<0.33) already steer pip
# to a working set; the unpinned install of 2026-12-05 served vectors equal to
# sentence-transformers'. PINS freezes that working resolution of the packages most likely to
# break it when newer releases appear (fastapi already warns that ORJSONResponse, which
# infinity uses, is deprecated; transformers/optimum/huggingface-hub move fast); torch is the
# peer venv's version. Set INFINITY_UNPINNED=1 to resolve fresh versions instead. The full
# pip freeze is kept in $VENV/INSTALLED.txt.
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# infinity phones home (posthog) unless told not to.
export INFINITY_ANONYMOUS_USAGE_STATS=0 DO_NOT_TRACK=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/background-server.sh
. "$root/scripts/lib/background-server.sh"
VENV="${INFINITY_VENV:-$root/.cache/infinity-venv}"
INFINITY_VERSION="${INFINITY_VERSION:-0.0.78}"
PINS=(
  torch==2.15.0 sentence-transformers==3.4.1 transformers==4.57.6 tokenizers==0.22.2
  optimum==2.1.0 huggingface-hub==0.36.2 numpy==1.26.4 fastapi==0.165.0 pydantic==2.14.4
)
[ -z "${INFINITY_UNPINNED:-}" ] || PINS=()
SPEC="infinity-emb[server,torch,optimum,einops]==${INFINITY_VERSION}"
MARKER="$VENV/INSTALLED.txt"
# The marker's first line: what was asked for; a change of version or pins reinstalls.
WANT="# infinity-venv: $SPEC ${PINS[*]:-}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

installed() { [ -x "$VENV/bin/infinity_emb" ] && [ -f "$MARKER" ] && [ "$(head -1 "$MARKER")" = "$WANT" ]; }

do_install() {
  if installed; then
    echo "venv=$VENV (already installed: $SPEC)" >&2
    echo "$VENV"
    return 0
  fi
  echo "installing $SPEC ${PINS[*]:-} into $VENV ..." >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  rm -f "$MARKER"
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q "$SPEC" "${PINS[@]}" >&2
  # smoke test: the CLI imports and the torch engine's modules load
  "$VENV/bin/infinity_emb" v2 --help >/dev/null
  {
    echo "$WANT"
    echo "# written by scripts/embedding-server.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "python: $("$VENV/bin/python" -c 'import sys;print(sys.version.split()[0])')"
    for p in infinity-emb torch sentence-transformers transformers tokenizers optimum \
             huggingface-hub numpy fastapi uvicorn click typer pydantic; do
      v="$("$VENV/bin/pip" show "$p" 2>/dev/null | awk '/^Version:/{print $2}')"
      echo "$p: ${v:-not installed}"
    done
    echo
    echo "# full pip freeze"
    "$VENV/bin/pip" freeze
  } > "$MARKER"
  echo "venv=$VENV (installed; versions in $MARKER)" >&2
  echo "$VENV"
}


cmd="${1:-}"
shift || true
port="" model="" log="$root/.cache/embedding-server.log" pidfile="$root/.cache/embedding-server.pid"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    --pid-file) pidfile="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done

case "$cmd" in
  install)
    do_install
    ;;
  start)
    do_install >/dev/null
    if [ -z "$model" ]; then
      model="$("$root/scripts/fetch-model.sh")"
    fi
    model="$(cd "$model" && pwd)"
    [ -f "$model/config.json" ] || { echo "not a model folder (no config.json): $model" >&2; exit 1; }
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "already running: pid $(cat "$pidfile") (from $pidfile); stop it first" >&2
      exit 1
    fi
    if [ -z "$port" ]; then
      port="$(free_port)"
    elif ! port_is_free "$port"; then
      # else /health could be answered by whatever holds the port
      echo "port $port on 127.0.0.1 is in use" >&2
      exit 1
    fi
    mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
    name="$(basename "$model")"
    # setsid: its own process group, so `stop` can end the server and any children together.
    setsid "$VENV/bin/infinity_emb" v2 --model-id "$model" --served-model-name "$name" \
      --engine torch --device cpu --batch-size "${INFINITY_BATCH_SIZE:-32}" \
      --url-prefix /v1 --host 127.0.0.1 --port "$port" >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$pidfile"
    timeout="${INFINITY_START_TIMEOUT:-180}"
    wait_healthy infinity_emb "$pid" "$port" "$timeout" "$log" "$pidfile" 1
    echo "url=http://127.0.0.1:$port/v1"
    echo "pid=$pid"
    echo "model=$name"
    ;;
  stop)
    stop_server "$pidfile"
    ;;
  *)
    usage
    ;;
esac
