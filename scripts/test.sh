#!/usr/bin/env bash
# The test suite: fetches the real all-MiniLM-L6-v2 (cached), then runs every test.
# Tests never reach the network; the model fetch is the only step that may.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export LEAFBENCH_MINILM="${LEAFBENCH_MINILM:-$root/.cache/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh >/dev/null
cargo test --locked "$@"
