#!/usr/bin/env bash
# Benchmarks that print numbers, each paired with the peer (Python sentence-transformers on
# PyTorch, installed by ../shared/peer/setup.sh) measured in the same run.
#
#   scripts/bench.sh encode [THREADS...]     encode throughput, default threads: 1 2
#   scripts/bench.sh search [THREADS...]     exact top-1000 search over 300,000 random
#                                            384-dim documents and 1,000 queries, default: 2
#   scripts/bench.sh grid                    configs/compression-grid.yaml: wall time of the
#                                            float32 full-size run alone, of the whole grid
#                                            (cold cache) and of the grid again (warm cache)
#   scripts/bench.sh report                  `leafbench report` over 100 result files of a
#                                            compression grid (25 tasks x 4 cells), made up
#
# `encode`: tokens/s of leafbench and of sentence-transformers on the peer's bench inputs
# (2,000 short STS sentences; 500 SciFact passages of 256 tokens), all-MiniLM-L6-v2, batch 32,
# best of 3, with the ratio leafbench / peer per input and thread count.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="${LEAFBENCH_SHARED:-$root/../shared}"
peer_venv="${PEER_VENV:-$HOME/.cache/peer-venv}"

what="${1:-}"
shift || true
case "$what" in
  encode|search|grid|report) ;;
  *) echo "usage: scripts/bench.sh encode|search|grid|report [THREADS...]" >&2; exit 2 ;;
esac
threads=("$@")

cargo build --release --locked >&2

# `report`: the time to read 100 result files and print the leaderboard table.
if [ "$what" = report ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  python3 - "$work" <<'PY'
import json, os, sys
root = sys.argv[1]
bench = open("tasks/benchmarks/mteb-eng-v2.yaml").read().splitlines()
tasks = [l.strip()[2:] for l in bench if l.startswith("  - ")][:25]
for i, cell in enumerate(["dim384-float32", "dim256-int8", "dim128-binary", "dim64-ubinary"]):
    for j, task in enumerate(tasks):
        d = os.path.join(root, "org__model", "rev", "experiments", cell)
        os.makedirs(d, exist_ok=True)
        score = 0.8 - 0.05 * i - 0.001 * j
        body = {"dataset_revision": "x", "task_name": task, "mteb_version": None, "evaluation_time": 1.0,
                "kg_co2_emissions": None,
                "scores": {s: [{"main_score": score, "hf_subset": h, "languages": ["eng-Latn"]}
                               for h in ("default", "en", "en-en")]
                           for s in ("test", "dev", "validation")}}
        with open(os.path.join(d, task + ".json"), "w") as f:
            json.dump(body, f)
PY
  files="$(find "$work" -name '*.json' | wc -l)"
  start="$(date +%s.%N)"
  target/release/leafbench report "$work" --format md >"$work/table.md"
  end="$(date +%s.%N)"
  python3 -c "print(f'leafbench report: {$files} result files, {$end - $start:.3f} s')"
  head -3 "$work/table.md" | cut -c1-160
  exit 0
fi

# `grid`: leafbench against itself — the price of a whole compression grid next to the price
# of its float32 full-size cell alone (each text encoded once, so the ratio should stay near 1),
# and a second grid run that reads every embedding from the cache.
if [ "$what" = grid ]; then
  scripts/fetch-model.sh >/dev/null
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # The config's relative paths, made absolute for copies outside configs/.
  absolute() { sed "s#: \.\./#: $root/configs/../#" configs/compression-grid.yaml; }
  absolute | sed "s#^output_dir:.*#output_dir: $work/grid#" >"$work/grid.yaml"
  absolute | sed '/^compression:/,$d' | sed "s#^output_dir:.*#output_dir: $work/float32#" >"$work/float32.yaml"
  timed() {
    local start end
    start="$(date +%s.%N)"
    target/release/leafbench run "$@" --quiet --overwrite >"$work/last.out" 2>"$work/last.err" \
      || { cat "$work/last.err" >&2; exit 1; }
    end="$(date +%s.%N)"
    python3 -c "print(f'{$end - $start:.2f}')"
  }
  alone="$(timed "$work/float32.yaml" --no-cache)"
  cold="$(timed "$work/grid.yaml" --cache-dir "$work/cache")"
  cells="$(grep -c . <(find "$work/grid" -path '*experiments*' -name '*.json'))"
  warm="$(timed "$work/grid.yaml" --cache-dir "$work/cache")"
  grep '^embeddings:' "$work/last.err" >&2
  python3 - "$alone" "$cold" "$warm" "$cells" <<'PY'
import sys
alone, cold, warm, cells = map(float, sys.argv[1:])
print(f"float32/full-size run alone  {alone:8.2f} s")
print(f"grid, cold cache             {cold:8.2f} s   {cold / alone:5.2f}x the float32 run   ({int(cells)} result files)")
print(f"grid again, warm cache       {warm:8.2f} s   {cold / warm:5.2f}x faster than the cold grid")
PY
  exit 0
fi
[ -x "$peer_venv/bin/python" ] || bash "$shared/peer/setup.sh" >&2

# `search`: scoring and top-k merging alone (random embeddings stand in for the encoder), the
# peer being MTEB's own chunked search; time and peak resident memory of each side.
if [ "$what" = search ]; then
  [ ${#threads[@]} -gt 0 ] || threads=(2)
  shape=(--docs 300000 --queries 1000 --dim 384 --chunk 50000 --top-k 1000)
  printf '%-8s %14s %12s %6s %18s %14s\n' threads "leafbench s" "peer s" ratio "leafbench MiB" "peer MiB"
  for t in "${threads[@]}"; do
    ours="$(RAYON_NUM_THREADS=$t CANDLE_NUM_THREADS=$t target/release/leafbench bench-search "${shape[@]}")"
    peer="$("$peer_venv/bin/python" scripts/peer_bench_search.py --threads "$t" "${shape[@]}" 2>/dev/null)"
    python3 - "$t" "$ours" "$peer" <<'PY'
import json, sys
t, ours, peer = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"{t:<8} {ours['seconds']:>14.2f} {peer['seconds']:>12.2f} {peer['seconds'] / ours['seconds']:>6.2f} "
      f"{ours['peak_rss_mib']:>18.0f} {peer['peak_rss_mib']:>14.0f}")
PY
  done
  exit 0
fi

[ ${#threads[@]} -gt 0 ] || threads=(1 2)
model="$(scripts/fetch-model.sh)"
inputs=("$shared/peer/bench/bench_short_2000.txt" "$shared/peer/bench/bench_passages_500.txt")
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

for t in "${threads[@]}"; do
  args=()
  for f in "${inputs[@]}"; do args+=(--input "$f"); done
  target/release/leafbench bench-encode --model "$model" --threads "$t" --batch-size 32 --repeats 3 --quiet "${args[@]}" \
    | sed 's/^/leafbench /' >>"$log"
  "$peer_venv/bin/python" "$shared/peer/bench_encode.py" --model "$model" --threads "$t" --batch-size 32 --repeats 3 "${args[@]}" \
    | sed 's/^/peer /' >>"$log"
done

python3 - "$log" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    side, _, payload = line.partition(" ")
    r = json.loads(payload)
    rows[(side, r["input"], r["threads"])] = r
print(f"{'input':<26} {'threads':>7} {'leafbench tok/s':>16} {'peer tok/s':>11} {'ratio':>6}  peer other_cores_busy")
for (side, inp, t), r in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][1])):
    if side != "leafbench":
        continue
    p = rows.get(("peer", inp, t))
    if p is None:
        continue
    ratio = r["tok_per_s_best"] / p["tok_per_s_best"]
    print(f"{inp:<26} {t:>7} {r['tok_per_s_best']:>16.0f} {p['tok_per_s_best']:>11.0f} {ratio:>6.2f}  {p.get('other_cores_busy')}")
PY
