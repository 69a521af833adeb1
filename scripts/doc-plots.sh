#!/usr/bin/env bash
# Renders the README's example charts into docs/plots/: the compression grid of
# configs/compression-grid.yaml (all-MiniLM-L6-v2; its embeddings come from the cache after a
# first run) and the shipped published scores of the mdbr-leaf-mt model card's models on
# MTEB(eng, v2).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release --locked >&2
scripts/fetch-model.sh >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin=target/release/leafbench
"$bin" run configs/compression-grid.yaml --quiet >/dev/null
"$bin" plot results --out "$work/grid" >/dev/null
models=(MongoDB/mdbr-leaf-mt sentence-transformers/all-MiniLM-L6-v2 thenlper/gte-small intfloat/e5-small-v2
        Snowflake/snowflake-arctic-embed-s ibm-granite/granite-embedding-small-english-r2)
"$bin" plot "${models[@]/#/published:}" --benchmark "MTEB(eng, v2)" --out "$work/models" >/dev/null
minilm=sentence-transformers__all-MiniLM-L6-v2
mkdir -p docs/plots
cp "$work/grid/score-vs-dim_${minilm}_SciFact.png" docs/plots/score-vs-dim.png
cp "$work/grid/retention_${minilm}.png" docs/plots/retention.png
cp "$work/grid/score-vs-bytes_${minilm}.png" docs/plots/score-vs-bytes.png
cp "$work/models/models-by-task.png" docs/plots/models-by-task.png
ls -l docs/plots
