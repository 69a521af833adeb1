"""Write tasks/text_stats.json: per task of configs/mteb-eng-v2.yaml, how many texts of which role
leafbench encodes and their total characters, so `leafbench plan` can size shards for tasks whose
data is not held locally.

Run with the peer venv (mteb installed, works offline):
    ~/.cache/peer-venv/bin/python scripts/make_text_stats.py

Source: mteb's per-split descriptive statistics (mteb/descriptive_stats/<Type>/<Task>.json,
computed after each task's dataset_transform), restricted to the task's hf subset. What the harness
encodes per type (see src/evaluate.rs), and how it is estimated from those statistics:
 - STS: every sentence1 and every sentence2 of each eval split, not de-duplicated (the harness
   encodes both columns whole), so 2 x num_samples texts, text1 + text2 characters.
 - PairClassification: the distinct sentences of both columns (the harness de-duplicates); the sum
   of each column's unique_texts, an upper bound since a text shared by both columns counts twice;
   characters scaled by unique/total per column.
 - Summarization: all human and all machine summaries (not de-duplicated).
 - Classification: the eval split (cut to test_subsample.size if larger; the stats usually already
   hold the cut set) plus the distinct train rows the experiments draw: at most n_experiments x
   samples_per_label per label (defaults 10 and 8, as in src/spec.rs and the protocol doc), capped
   by the label's train count; characters at the train split's average length. This is an upper
   bound: the ten draws overlap.
 - Clustering: the eval split after its transform (test_subsample cut), then the share
   int(max_fraction_of_documents_to_embed x N), or max_document_to_embed, that is embedded;
   characters at the split's average length.
 - Retrieval: the queries (with qrels) and the whole corpus of each eval split.
 - Reranking: the distinct queries (MindSmall: distinct history titles) and the distinct candidate
   documents; characters scaled by unique/total. The stats describe mteb 2's re-packaged datasets,
   while the YAMLs pin the v1 ones, so these two tasks are approximate.
Counts of a text column whose statistics give no count are total_text_length / average_text_length.
"""

import json
import sys
from pathlib import Path

import mteb
import yaml

ROOT = Path(__file__).resolve().parent.parent
STATS_DIR = Path(mteb.__file__).parent / "descriptive_stats"


def load_stats(name):
    """The task's descriptive stats: from its metadata, else straight from the package's JSON."""
    try:
        stats = mteb.get_task(name).metadata.descriptive_stats
        if stats:
            return stats
    except Exception as e:  # unknown task or a loader that wants the network
        print(f"{name}: mteb.get_task failed ({e}); reading the JSON", file=sys.stderr)
    files = list(STATS_DIR.glob(f"*/{name}.json"))
    return json.loads(files[0].read_text()) if files else {}


def split_stats(name, stats, split, subset):
    """One split's stats for the task's subset (multilingual tasks nest them per subset)."""
    s = stats.get(split)
    if s is None:
        print(f"{name}: no stats for split {split!r}", file=sys.stderr)
        return None
    return s.get("hf_subset_descriptive_stats", {}).get(subset, s)


def count(ts):
    """Number of texts behind a text-statistics block (it gives lengths, not always a count)."""
    return round(ts["total_text_length"] / ts["average_text_length"]) if ts["average_text_length"] else 0


def scaled(chars, of, keep):
    """Characters of `keep` texts out of `of`, at their average length."""
    return round(chars * keep / of) if of else 0


def entry(split, role, texts, chars):
    return {"split": split, "role": role, "texts": int(texts), "chars": int(chars)}


def classification(name, spec, stats, split, subset):
    p = spec.get("params") or {}
    s = split_stats(name, stats, split, subset)
    n, chars = s["num_samples"], s["text_statistics"]["total_text_length"]
    cut = (p.get("test_subsample") or {}).get("size")
    if cut and n > cut:
        n, chars = cut, scaled(chars, n, cut)
    out = [entry(split, "plain", n, chars)]
    if split != spec["eval_splits"][0]:  # the train draws are encoded once per task
        return out
    train = split_stats(name, stats, p.get("train_split", "train"), subset)
    if train is not None:
        per_label = p.get("n_experiments", 10) * p.get("samples_per_label", 8)
        labels = train["label_statistics"]["labels"]
        used = sum(min(v["count"], per_label) for v in labels.values())
        tn, tchars = train["num_samples"], train["text_statistics"]["total_text_length"]
        out.append(entry(p.get("train_split", "train"), "plain", used, scaled(tchars, tn, used)))
    return out


def clustering(name, spec, stats, split, subset):
    p = spec.get("params") or {}
    s = split_stats(name, stats, split, subset)
    n, chars = s["num_samples"], s["text_statistics"]["total_text_length"]
    cut = (p.get("test_subsample") or {}).get("size")
    m = min(n, cut) if cut else n
    if p.get("max_fraction_of_documents_to_embed") is not None:
        m = int(p["max_fraction_of_documents_to_embed"] * m)  # Python's int() truncates, as mteb
    elif p.get("max_document_to_embed") is not None:
        m = min(m, p["max_document_to_embed"])
    return [entry(split, "plain", m, scaled(chars, n, m))]


def sts(name, spec, stats, split, subset):
    s = split_stats(name, stats, split, subset)
    chars = s["text1_statistics"]["total_text_length"] + s["text2_statistics"]["total_text_length"]
    return [entry(split, "plain", 2 * s["num_samples"], chars)]


def pair_classification(name, spec, stats, split, subset):
    s = split_stats(name, stats, split, subset)
    cols = [s["text1_statistics"], s["text2_statistics"]]
    texts = sum(c["unique_texts"] for c in cols)
    chars = sum(scaled(c["total_text_length"], s["num_samples"], c["unique_texts"]) for c in cols)
    return [entry(split, "plain", texts, chars)]


def summarization(name, spec, stats, split, subset):
    s = split_stats(name, stats, split, subset)
    cols = [s["human_summaries_statistics"], s["machine_summaries_statistics"]]
    return [entry(split, "plain", sum(map(count, cols)), sum(c["total_text_length"] for c in cols))]


def retrieval(name, spec, stats, split, subset):
    s = split_stats(name, stats, split, subset)
    out = []
    for role, key, n_key in (("query", "queries_text_statistics", "num_queries"),
                             ("document", "documents_text_statistics", "num_documents")):
        ts = s[key]
        n = s.get(n_key)
        if n is None:  # older stats files (the HardNegatives tasks) give lengths only
            n = count(ts)
            print(f"{name}: stats lack {n_key}; using total/average length = {n}", file=sys.stderr)
        out.append(entry(split, role, n, ts["total_text_length"]))
    return out


def reranking(name, spec, stats, split, subset):
    s = split_stats(name, stats, split, subset)
    out = []
    for role, key in (("query", "queries_text_statistics"), ("document", "documents_text_statistics")):
        ts = s[key]
        out.append(entry(split, role, ts["unique_texts"], scaled(ts["total_text_length"], count(ts), ts["unique_texts"])))
    return out


BY_TYPE = {
    "Classification": classification,
    "Clustering": clustering,
    "STS": sts,
    "PairClassification": pair_classification,
    "Summarization": summarization,
    "Retrieval": retrieval,
    "Reranking": reranking,
}


def main():
    config = yaml.safe_load((ROOT / "configs/mteb-eng-v2.yaml").read_text())
    result = {}
    for name in config["tasks"]:
        spec = yaml.safe_load((ROOT / "tasks" / f"{name}.yaml").read_text())
        stats = load_stats(name)
        subset = spec["dataset"].get("subset", "default")
        entries = []
        for split in spec["eval_splits"]:
            try:
                entries += BY_TYPE[spec["type"]](name, spec, stats, split, subset)
            except (KeyError, TypeError, AttributeError) as e:
                # A missing statistic: say which, and leave the task listed with what is known.
                print(f"{name}: stats lack {e} for split {split!r}", file=sys.stderr)
        result[name] = entries

    out = {
        "provenance": f"mteb {mteb.__version__} descriptive_stats, made by scripts/make_text_stats.py",
        "tasks": result,
    }
    (ROOT / "tasks/text_stats.json").write_text(json.dumps(out, indent=2) + "\n")

    row = "{:40} {:6} {:9} {:>10,} {:>13,}"
    print(f"{'task':40} {'split':6} {'role':9} {'texts':>10} {'chars':>13}", file=sys.stderr)
    totals = {}
    for name, entries in result.items():
        for e in entries:
            print(row.format(name, e["split"], e["role"], e["texts"], e["chars"]), file=sys.stderr)
            t = totals.setdefault(e["role"], [0, 0])
            t[0], t[1] = t[0] + e["texts"], t[1] + e["chars"]
    for role, (texts, chars) in totals.items():
        print(row.format("TOTAL", "", role, texts, chars), file=sys.stderr)


if __name__ == "__main__":
    main()
