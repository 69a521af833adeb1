#!/usr/bin/env bash
# A second, independent port of all-MiniLM-L6-v2 for leafbench: the model converted to GGUF and
# served by llama.cpp's `llama-server` (OpenAI-compatible /v1/embeddings), CPU, on 127.0.0.1.
# llama.cpp comes from the llama-cpp-python sdist on PyPI, which vendors it whole
# (vendor/llama.cpp: the C++ sources, tools/server, convert_hf_to_gguf.py and gguf-py).
#
#   scripts/llama-server.sh build
#       once: download the sdist llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (0.3.36) with pip,
#       unpack it under .cache/llama.cpp/src, build `llama-server` (static, Release, CPU, no
#       curl/openssl/web UI) into .cache/llama.cpp/build/bin. cmake and ninja come from the system
#       when present, else from PyPI into the small venv .cache/llama.cpp/venv. The marker
#       .cache/llama.cpp/BUILT.txt records the version and flags; a second `build` is a no-op.
#       Only the llama-server target is built: 3.5 min on 2 AMD EPYC cores (2026-12-05);
#       $LLAMA_BUILD_JOBS (default 2) is ninja's -j.
#   scripts/llama-server.sh convert [--type f16|q8_0] [--model DIR]
#       convert the sentence-transformers folder (default .cache/models/all-MiniLM-L6-v2) to
#       .cache/llama.cpp/minilm-<type>.gguf (default f16) with the vendored convert_hf_to_gguf.py,
#       offline. Skipped when that file exists (delete it to convert again).
#   scripts/llama-server.sh start [--type f16|q8_0] [--port P] [--pid-file F] [--log F]
#       build and convert if needed, start llama-server in the background with
#         -m <gguf> --embedding --pooling mean -c 512 -b 512 -ub 512 -np 1
#       wait for GET /health (at most $LLAMA_START_TIMEOUT s, default 120), then print
#       machine-readable lines on stdout:  url=http://127.0.0.1:P/v1  pid=N  gguf=PATH
#   scripts/llama-server.sh stop [--pid-file F]
#       stop the server started by `start` (SIGTERM, then SIGKILL after 15 s)
#
# Example:
#   scripts/llama-server.sh build && scripts/llama-server.sh convert --type q8_0
#   eval "$(scripts/llama-server.sh start --type q8_0 | grep -E '^(url|pid)=')"
#   curl -s "$url/embeddings" -H 'content-type: application/json' -d '{"input":["hello world"]}'
#   # leafbench run config:  endpoint: {url: <url>/embeddings, concurrency: 1, normalize: true,
#   #                                  truncate_like: .cache/models/all-MiniLM-L6-v2}
#   scripts/llama-server.sh stop
#
# Defaults: --type f16, --port a free port (bound to 0 and released), --log
# .cache/llama.cpp/server-<type>.log, --pid-file .cache/llama.cpp/server.pid.
#
# How it differs from the model (what a client must know):
#  - /v1/embeddings returns L2-normalised mean-pooled vectors (llama.cpp's default
#    embd_normalize=2; send "embd_normalize": -1 in the body for the raw pooled vectors, norms
#    about 4.6-6.6 for this model). `normalize: true` in leafbench is harmless and guards that.
#  - One slot (-np 1) and a 512-token context/batch: use `concurrency: 1`. llama.cpp does not
#    truncate: a text over 512 tokens is refused with HTTP 500 ("input (549 tokens) is too
#    large to process. increase the physical batch size"), whatever the request's batch size
#    (SciFact's corpus has such texts), and texts of 257..512 tokens are embedded whole where
#    sentence-transformers cuts at max_seq_length 256. Cut the texts client-side as the model
#    does: leafbench's endpoint `truncate_like: .cache/models/all-MiniLM-L6-v2`.
#    (BERT has 512 positions, so a larger -b/-ub cannot help.)
#  - `usage.prompt_tokens` counts real tokens, [CLS] and [SEP] included.
#  Pass LLAMA_SERVER_EXTRA_ARGS for other server flags (e.g. "-t 4" threads).
#
# Conversion Python: the one of .cache/infinity-venv (scripts/embedding-server.sh install),
# which already has torch, transformers, numpy, safetensors, pyyaml, tqdm and requests. Nothing
# is installed into it: the vendored gguf-py is imported from the source tree (the convert
# script puts it on sys.path itself), so the pinned numpy 1.26 of that venv stays (gguf-py's
# metadata asks for numpy>=2.2.6, which would break infinity; the code it runs works with 1.26).
# BERT's WordPiece vocab needs neither sentencepiece nor protobuf. Set LLAMA_CONVERT_PYTHON to
# use another Python with torch + transformers.
set -euo pipefail
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/background-server.sh
. "$root/scripts/lib/background-server.sh"
CACHE="$root/.cache/llama.cpp"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
SRC="$CACHE/src/llama_cpp_python-$VERSION"
LLAMA="$SRC/vendor/llama.cpp"
BUILD="$CACHE/build"
SERVER="$BUILD/bin/llama-server"
TOOLS_VENV="$CACHE/venv"
MARKER="$CACHE/BUILT.txt"
JOBS="${LLAMA_BUILD_JOBS:-2}"
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
)
# The marker's first line: what was built; a change of version or flags rebuilds.
WANT="# llama-server: llama-cpp-python==$VERSION ${CMAKE_FLAGS[*]}"
CONVERT_PY="${LLAMA_CONVERT_PYTHON:-$root/.cache/infinity-venv/bin/python}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

built() { [ -x "$SERVER" ] && [ -f "$MARKER" ] && [ "$(head -1 "$MARKER")" = "$WANT" ]; }

# cmake (>= 3.21 for this llama.cpp) and ninja: the system's, else PyPI's wheels in a venv.
build_tools() {
  if command -v cmake >/dev/null && command -v ninja >/dev/null &&
     cmake -P /dev/stdin <<<'cmake_minimum_required(VERSION 3.21)' >/dev/null 2>&1; then
    return 0
  fi
  if [ ! -x "$TOOLS_VENV/bin/cmake" ] || [ ! -x "$TOOLS_VENV/bin/ninja" ]; then
    echo "installing cmake and ninja (PyPI) into $TOOLS_VENV ..." >&2
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install -q --only-binary :all: cmake ninja >&2
  fi
  export PATH="$TOOLS_VENV/bin:$PATH"
}

do_build() {
  if built; then
    echo "llama-server=$SERVER (already built: llama-cpp-python==$VERSION)" >&2
    return 0
  fi
  mkdir -p "$CACHE/src" "$CACHE/dl"
  if [ ! -f "$LLAMA/CMakeLists.txt" ]; then
    local sdist="$CACHE/dl/llama_cpp_python-$VERSION.tar.gz"
    if [ ! -f "$sdist" ]; then
      echo "downloading the llama-cpp-python==$VERSION sdist ..." >&2
      # --no-binary for this package only: with :all: pip would also build the sdist's build
      # dependencies (cmake itself!) from source just to read its metadata.
      python3 -m pip download -q --no-deps --no-binary llama-cpp-python \
        -d "$CACHE/dl" "llama-cpp-python==$VERSION" >&2
    fi
    rm -rf "$SRC"
    tar -xzf "$sdist" -C "$CACHE/src"
  fi
  build_tools
  rm -f "$MARKER"
  echo "building llama-server (cmake $(cmake --version | head -1 | awk '{print $3}'), -j$JOBS) ..." >&2
  local t0; t0=$(date +%s)
  cmake -S "$LLAMA" -B "$BUILD" -G Ninja "${CMAKE_FLAGS[@]}" >"$CACHE/cmake-configure.log" 2>&1 ||
    { tail -n 40 "$CACHE/cmake-configure.log" >&2; exit 1; }
  cmake --build "$BUILD" --target llama-server -j "$JOBS" >"$CACHE/cmake-build.log" 2>&1 ||
    { tail -n 40 "$CACHE/cmake-build.log" >&2; exit 1; }
  "$SERVER" --version >/dev/null 2>&1
  {
    echo "$WANT"
    echo "# written by scripts/llama-server.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
         "after $(( $(date +%s) - t0 ))s of cmake, -j$JOBS"
    echo "cmake: $(cmake --version | head -1)"
    echo "cc: $(cc --version | head -1)"
    "$SERVER" --version 2>&1 | sed 's/^/llama-server --version: /'
  } > "$MARKER"
  echo "llama-server=$SERVER (built in $(( $(date +%s) - t0 ))s; $MARKER)" >&2
}

gguf_path() { echo "$CACHE/minilm-$1.gguf"; }

do_convert() {
  local type="$1" model="$2" out
  out="$(gguf_path "$type")"
  if [ -f "$out" ]; then
    echo "gguf=$out (already converted)" >&2
    return 0
  fi
  [ -f "$LLAMA/convert_hf_to_gguf.py" ] || do_build
  [ -x "$CONVERT_PY" ] || {
    echo "no conversion Python at $CONVERT_PY: run scripts/embedding-server.sh install" \
         "(or set LLAMA_CONVERT_PYTHON to a Python with torch + transformers)" >&2
    exit 1
  }
  if [ -z "$model" ]; then model="$("$root/scripts/fetch-model.sh")"; fi
  [ -f "$model/config.json" ] || { echo "not a model folder (no config.json): $model" >&2; exit 1; }
  echo "converting $model to $type GGUF ..." >&2
  local t0; t0=$(date +%s)
  # unset NO_LOCAL_GGUF: the script then imports the vendored gguf-py, matching the server.
  env -u NO_LOCAL_GGUF "$CONVERT_PY" "$LLAMA/convert_hf_to_gguf.py" "$model" \
    --outtype "$type" --outfile "$out.part" >"$CACHE/convert-$type.log" 2>&1 ||
    { tail -n 40 "$CACHE/convert-$type.log" >&2; rm -f "$out.part"; exit 1; }
  mv "$out.part" "$out"
  echo "gguf=$out (converted in $(( $(date +%s) - t0 ))s; log $CACHE/convert-$type.log)" >&2
}


cmd="${1:-}"
shift || true
type="f16" port="" model="" log="" pidfile="$CACHE/server.pid"
while [ $# -gt 0 ]; do
  case "$1" in
    --type) type="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --log) log="$2"; shift 2 ;;
    --pid-file) pidfile="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
case "$type" in f16|q8_0) ;; *) echo "--type must be f16 or q8_0, not $type" >&2; exit 2 ;; esac
[ -n "$log" ] || log="$CACHE/server-$type.log"

case "$cmd" in
  build)
    do_build
    echo "$SERVER"
    ;;
  convert)
    do_convert "$type" "$model"
    gguf_path "$type"
    ;;
  start)
    do_build
    do_convert "$type" "$model"
    gguf="$(gguf_path "$type")"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "already running: pid $(cat "$pidfile") (from $pidfile); stop it first" >&2
      exit 1
    fi
    if [ -z "$port" ]; then
      port="$(free_port)"
    elif ! port_is_free "$port"; then
      echo "port $port on 127.0.0.1 is in use" >&2
      exit 1
    fi
    mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
    # setsid: its own process group, so `stop` can end it as a group.
    # shellcheck disable=SC2086
    setsid "$SERVER" -m "$gguf" --embedding --pooling mean -c 512 -b 512 -ub 512 -np 1 \
      --host 127.0.0.1 --port "$port" ${LLAMA_SERVER_EXTRA_ARGS:-} >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$pidfile"
    timeout="${LLAMA_START_TIMEOUT:-120}"
    wait_healthy llama-server "$pid" "$port" "$timeout" "$log" "$pidfile" 0.2
    echo "url=http://127.0.0.1:$port/v1"
    echo "pid=$pid"
    echo "gguf=$gguf"
    ;;
  stop)
    stop_server "$pidfile"
    ;;
  *)
    usage
    ;;
esac
