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
#   scripts/bench.sh tasks [THREADS...]      `leafbench run` against mteb on STSBenchmark,
#                                            Banking77Classification and SciFact, one task at
#                                            a time: wall time and peak memory, default: 2
#
# `encode`: tokens/s of leafbench at each compute precision (float32, bfloat16, int8) and of
# sentence-transformers (PyTorch, float32) on the peer's bench inputs: all-MiniLM-L6-v2 on 2,000
# short STS sentences and 500 SciFact passages of 256 tokens (batch 32, best of 3), and a
# random-weight BERT-large (mxbai-embed-large-v1's shape, scripts/make_bench_model.py) on 16 of
# those passages (batch 16, best of 2). Also this CPU's measured peak of each arithmetic
# (`leafbench bench-peak`) and each side's achieved GOP/s as a share of it, with the ratios
# leafbench / peer and precision / float32 per input and thread count.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="${LEAFBENCH_SHARED:-$root/../shared}"
peer_venv="${PEER_VENV:-$HOME/.cache/peer-venv}"

what="${1:-}"
shift || true
case "$what" in
  encode|search|grid|report|tasks) ;;
  *) echo "usage: scripts/bench.sh encode|search|grid|report|tasks [THREADS...]" >&2; exit 2 ;;
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

# `tasks`: whole runs, one task at a time, against mteb's own (the peer's run_mteb_local.py,
# the same model, data and threads): wall time and peak resident memory of each process.
if [ "$what" = tasks ]; then
  [ ${#threads[@]} -gt 0 ] || threads=(2)
  model="$(scripts/fetch-model.sh)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Wall seconds and peak RSS (MiB) of a command, from GNU time.
  measure() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" \
      || { tail -20 "$work/err" >&2; exit 1; }
    awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time"
  }
  printf '%-26s %7s %12s %9s %13s %10s %6s\n' task threads "leafbench s" "peer s" "leafbench MiB" "peer MiB" ratio
  for t in "${threads[@]}"; do
    for task in STSBenchmark Banking77Classification SciFact; do
      printf 'models:\n  - name: sentence-transformers/all-MiniLM-L6-v2\n    path: %s\ntasks: [%s]\ndata_dir: %s\noutput_dir: %s\n' \
        "$model" "$task" "$shared/data" "$work/results-$task-$t" >"$work/run.yaml"
      read -r ours ours_mib < <(RAYON_NUM_THREADS=$t measure target/release/leafbench run "$work/run.yaml" --quiet --no-cache)
      read -r peer peer_mib < <(measure "$peer_venv/bin/python" "$shared/peer/run_mteb_local.py" \
        --task "$task" --model "$model" --threads "$t" --data-root "$shared/data" --quiet)
      python3 -c "print(f'{\"$task\":<26} {$t:>7} {$ours:>12.1f} {$peer:>9.1f} {$ours_mib:>13} {$peer_mib:>10} {$peer / $ours:>6.2f}')"
    done
  done
  exit 0
fi

[ ${#threads[@]} -gt 0 ] || threads=(1 2)
model="$(scripts/fetch-model.sh)"
# BERT-large (mxbai-embed-large-v1's shape) with random weights: the real ones are not here.
large="$root/.cache/models/bert-large-random"
[ -f "$large/model.safetensors" ] || "$peer_venv/bin/python" scripts/make_bench_model.py "$model" "$large" >&2
short="$shared/peer/bench/bench_short_2000.txt"
passages="$shared/peer/bench/bench_passages_500.txt"
log="$(mktemp)"
large_dir="$(mktemp -d)"
trap 'rm -rf "$log" "$large_dir"' EXIT
large_input="$large_dir/bench_passages_16.txt"
head -16 "$passages" >"$large_input"

# One line per side, model, threads and precision; the peer (PyTorch) computes in float32.
bench_pair() { # NAME MODEL BATCH REPEATS THREADS INPUT...
  local name="$1" dir="$2" batch="$3" repeats="$4" t="$5"
  shift 5
  local args=()
  for f in "$@"; do args+=(--input "$f"); done
  for p in float32 bfloat16 int8; do
    target/release/leafbench bench-encode --model "$dir" --threads "$t" --batch-size "$batch" \
      --repeats "$repeats" --precision "$p" --quiet "${args[@]}" | sed "s/^/leafbench $name /" >>"$log"
  done
  "$peer_venv/bin/python" "$shared/peer/bench_encode.py" --model "$dir" --threads "$t" \
    --batch-size "$batch" --repeats "$repeats" "${args[@]}" | sed "s/^/peer $name /" >>"$log"
}

for t in "${threads[@]}"; do
  target/release/leafbench bench-peak --threads "$t" | sed "s/^/peak - /" >>"$log"
  bench_pair MiniLM "$model" 32 3 "$t" "$short" "$passages"
  bench_pair BERT-large "$large" 16 2 "$t" "$large_input"
done

python3 - "$log" "$model" "$large" <<'PY'
import json, sys
log, dirs = sys.argv[1], {"MiniLM": sys.argv[2], "BERT-large": sys.argv[3]}

def flops_per_token(name, tokens_per_text):
    """Multiply-adds ×2 of the linear layers plus attention's two products, per token."""
    c = json.load(open(f"{dirs[name]}/config.json"))
    h, i, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    return layers * (2 * (4 * h * h + 2 * h * i) + 4 * tokens_per_text * h)

peaks, rows = {}, {}
for line in open(log):
    side, name, payload = line.split(" ", 2)
    r = json.loads(payload)
    if side == "peak":
        peaks[(r["arithmetic"], r["threads"])] = r["gops"]
        continue
    rows[(side, name, r["input"], r["threads"], r.get("precision", "float32"))] = r
arith = {"float32": "float32 fma", "bfloat16": "bf16 dot", "int8": "int8 dot"}
print("peak GOP/s (512-bit):", ", ".join(f"{a} {t}t {v:.0f}" for (a, t), v in sorted(peaks.items())))
print(f"{'model':<10} {'input':<26} {'thr':>3} {'precision':<9} {'tok/s':>8} {'GOP/s':>7} {'of peak':>7} "
      f"{'peer tok/s':>10} {'peer of peak':>12} {'vs peer':>7} {'vs float32':>10}")
for (side, name, inp, t, p), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][3], kv[0][2])):
    if side != "leafbench":
        continue
    fpt = flops_per_token(name, r["tokens"] / r["n_texts"])
    gops = r["tok_per_s_best"] * fpt / 1e9
    peak = peaks.get((arith[p], t))
    peer = rows.get(("peer", name, inp, t, "float32"))
    f32 = rows[("leafbench", name, inp, t, "float32")]
    share = lambda g, a: f"{100 * g / a:.0f}%" if a else "-"
    peer_tok = peer["tok_per_s_best"] if peer else None
    print(f"{name:<10} {inp:<26} {t:>3} {p:<9} {r['tok_per_s_best']:>8.0f} {gops:>7.1f} {share(gops, peak):>7} "
          f"{peer_tok or 0:>10.0f} {share(peer_tok * fpt / 1e9, peaks.get(('float32 fma', t))) if peer_tok else '-':>12} "
          f"{r['tok_per_s_best'] / peer_tok if peer_tok else 0:>7.2f} {r['tok_per_s_best'] / f32['tok_per_s_best']:>10.2f}")
print("GOP/s: the model's multiply-adds ×2 per token (linear layers and attention) × tokens/s; "
      "'of peak': of this CPU's peak of the precision's arithmetic (bench-peak), the peer's of float32 FMA. "
      "At bfloat16 and int8, attention's two products run in bf16; softmax, layer norm and GELU stay float32.")
PY
