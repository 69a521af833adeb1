#!/usr/bin/env bash
# Quickstart: embed the offline STSBenchmark test sentences with all-MiniLM-L6-v2 (fetched and
# cached by scripts/fetch-model.sh) and check them against sentence-transformers' embeddings.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${LEAFBENCH_DATA:-$root/../shared/data}"
cargo build --release --locked
model="$(scripts/fetch-model.sh)"
out="results/quickstart"
mkdir -p "$out"
python3 - "$data/STSBenchmark/test.jsonl" "$out/sentences.txt" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in f:
        row = json.loads(line)
        for key in ("sentence1", "sentence2"):
            out.write(row[key].replace("\n", " ") + "\n")
PY
target/release/leafbench embed --model "$model" --input "$out/sentences.txt" --output "$out/STSBenchmark.npy"
target/release/leafbench parity --model "$model" --quiet \
  --texts tests/fixtures/minilm/texts.txt --reference tests/fixtures/minilm/reference.npy
