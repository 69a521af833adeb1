#!/usr/bin/env bash
# The test suite: fetches the real all-MiniLM-L6-v2 and installs the real components the
# tests start (Slurm and munge from Debian, the Kubernetes schema validator from PyPI; all
# cached under .cache/), then runs every test. Tests never reach the network; these steps
# are the only ones that may.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export LEAFBENCH_MINILM="${LEAFBENCH_MINILM:-$root/.cache/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh >/dev/null
scripts/slurm/local-cluster.sh install
scripts/validate-kubernetes.sh --install
cargo test --locked "$@"
