#!/usr/bin/env bash
# Quickstart: all-MiniLM-L6-v2 (fetched and cached by scripts/fetch-model.sh) on the MTEB tasks
# held offline in ../shared/data; prints each task's score beside the published one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release --locked
scripts/fetch-model.sh >/dev/null
target/release/leafbench run configs/quickstart.yaml "$@"
