"""Write tasks/data_stats.json: for every task file, the figures of MTEB's own descriptive statistics
that identify each split's data (rows, characters per text column, distinct texts, label counts,
corpus/query/judgement counts, score ranges), which `leafbench run` checks every loaded split against.

Run with the peer venv (mteb installed; works offline):
    ~/.cache/peer-venv/bin/python scripts/make_data_stats.py [--mteb-repo DIR]

Sources:
 - mteb/descriptive_stats/<Type>/<Task>.json of the installed mteb (2.26.24). mteb computes them in
   AbsTask.calculate_descriptive_statistics after load_data(), so they describe each split after the
   task's dataset_transform (test cuts, flattening, merges): the data leafbench holds at the same point.
 - AskUbuntuDupQuestions: mteb 2 re-packaged the task in its retrieval format and counts that, so its
   figures come from the statistics file of mteb's git tag 1.38.39, which describes the v1 rows
   (query, positive, negative) the task file pins. --mteb-repo names a clone of
   embeddings-benchmark/mteb that holds that tag.

Figure names (one flat map per split; src/data_check.rs computes the same from a loaded split):
    rows                     rows of the split (clustering: texts; reranking: samples)
    <column>.chars           total characters (Python len: code points) of a text column
    <column>.min_chars / .max_chars / .unique   shortest, longest, distinct texts
    unique_pairs             distinct (sentence1, sentence2) pairs
    labels                   label -> rows (clustering with levels: each level's label counts)
    score.min / .avg / .max  gold scores (STS) or flattened relevance (summarization)
    documents / queries      corpus size, and queries with judgements (retrieval)
    qrels.relevant           judgements with a non-zero grade; .min_per_query / .max_per_query
    qrels.documents          distinct documents judged
    positives / negatives    candidate counts (reranking)
Retrieval documents are (title + " " + text).strip(), as mteb measures them.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import mteb
import yaml

ROOT = Path(__file__).resolve().parent.parent
PKG = Path(mteb.__file__).parent
STATS_DIR = PKG / "descriptive_stats"
V1_TAG = "1.38.39"

TEXT_FIGURES = {"total_text_length": "chars", "min_text_length": "min_chars",
                "max_text_length": "max_chars", "unique_texts": "unique"}

# mteb's name of each text block -> leafbench's column, per task type
COLUMNS = {
    "Classification": {"text_statistics": "text"},
    "Clustering": {"text_statistics": "text"},
    "STS": {"text1_statistics": "sentence1", "text2_statistics": "sentence2"},
    "PairClassification": {"text1_statistics": "sentence1", "text2_statistics": "sentence2"},
    "Summarization": {"text_statistics": "text", "human_summaries_statistics": "human_summaries",
                      "machine_summaries_statistics": "machine_summaries"},
    "Retrieval": {"documents_text_statistics": "documents", "queries_text_statistics": "queries"},
}

NOTES = {
    "MTOPDomainClassification": "mteb's statistics describe mteb/MTOPDomainClassification, the "
        "re-upload mteb 2 reads; the task file pins mteb/mtop_domain.",
    "AmazonCounterfactualClassification": "mteb's statistics are of revision 1f7e6a9d; the task file "
        "pins e8379541. The offline copy of the en subset agrees with them on every figure.",
    "SciFact": "mteb's statistics are of revision d56462d0; the task file pins 0228b52c. The offline "
        "copy agrees with them on every figure.",
    "MindSmallReranking": "mteb 2 counts its re-packaged retrieval form of the data; only the "
        "figures that do not depend on that form are kept: the numbers of distinct candidate "
        "documents and of distinct query texts.",
    "AskUbuntuDupQuestions": f"figures of mteb {V1_TAG}'s statistics, which describe the v1 rows the "
        "task file pins (mteb 2 counts its re-packaged retrieval form).",
    "AskUbuntuDupQuestions@mteb2": "mteb's statistics of the reranking form; its min and max "
        "judgements per query count every judgement, not the relevant ones, and are left out.",
    "MindSmallReranking@mteb2": "mteb's statistics of the reranking form; left out: the min and "
        "max judgements per query (they count every judgement) and the document characters "
        "(whether they include the title is not stated).",
    "ClimateFEVERHardNegatives": "mteb's statistics give no corpus or query count here; both are "
        "worked out as total / average characters.",
    "FEVERHardNegatives": "corpus and query counts worked out as total / average characters.",
    "HotpotQAHardNegatives": "corpus and query counts worked out as total / average characters.",
}


def text_figures(column, block):
    return {f"{column}.{ours}": block[theirs] for theirs, ours in TEXT_FIGURES.items()
            if block.get(theirs) is not None}


def count_of(block):
    """A text block's count: given, or total / average characters for older statistics."""
    return round(block["total_text_length"] / block["average_text_length"])


def figures(kind, block):
    """leafbench's figures of one split (one hf subset of it) from mteb's block."""
    out = {}
    if kind not in ("Retrieval", "Reranking"):
        out["rows"] = block["num_samples"]
    if "unique_pairs" in block:
        out["unique_pairs"] = block["unique_pairs"]
    for theirs, ours in COLUMNS[kind].items():
        if theirs in block:
            out.update(text_figures(ours, block[theirs]))
    labels = block.get("label_statistics") or block.get("labels_statistics") or {}
    if "labels" in labels:
        out["labels"] = {k: v["count"] for k, v in labels["labels"].items()}
    scores = labels if kind == "STS" else block.get("score_statistics") or {}
    for k in ("min", "avg", "max"):
        if scores.get(f"{k}_score") is not None:
            out[f"score.{k}"] = scores[f"{k}_score"]
    if kind == "Retrieval":
        out["documents"] = block.get("num_documents") or block["num_samples"] - count_of(
            block["queries_text_statistics"])
        out["queries"] = block.get("num_queries") or count_of(block["queries_text_statistics"])
        rel = block["relevant_docs_statistics"]
        out.update({"qrels.relevant": rel["num_relevant_docs"],
                    "qrels.min_per_query": rel["min_relevant_docs_per_query"],
                    "qrels.max_per_query": rel["max_relevant_docs_per_query"],
                    "qrels.documents": rel["unique_relevant_docs"]})
    return out


def top_ranked_form_figures(name):
    """mteb 2's own statistics of a task in its reranking form (the `mteb2` edition): the
    retrieval figures and the candidate-list counts. A min/max per query outside the stated
    average was computed by an older formula (all judgements, not the relevant ones) and is
    left out; so are MindSmall's document characters, whose title join is not stated."""
    def convert(block):
        out = figures("Retrieval", block)
        rel = block["relevant_docs_statistics"]
        avg = rel["average_relevant_docs_per_query"]
        if not rel["min_relevant_docs_per_query"] <= avg <= rel["max_relevant_docs_per_query"]:
            del out["qrels.min_per_query"], out["qrels.max_per_query"]
        if name == "MindSmallReranking":
            for k in [k for k in out if k.startswith("documents.")]:
                del out[k]
        top = block["top_ranked_statistics"]
        out.update({"top_ranked.total": top["num_top_ranked"],
                    "top_ranked.min_per_query": top["min_top_ranked_per_query"],
                    "top_ranked.max_per_query": top["max_top_ranked_per_query"]})
        return out
    return convert


def mind_small_figures(block):
    """Distinct candidate documents and distinct query texts: the same in either form. (The
    characters of mteb 2's corpus are not kept: its documents carry a title field as well.)"""
    docs, queries = block["documents_text_statistics"], block["queries_text_statistics"]
    return {"documents.unique": docs["unique_texts"], "queries.unique": queries["unique_texts"]}


def v1_reranking_figures(block):
    """mteb 1.38's reranking statistics: lengths given as min/avg/max per column."""
    out = {"rows": block["num_samples"], "positives": block["num_positive"],
           "negatives": block["num_negative"]}
    counts = {"query": block["num_samples"], "positive": block["num_positive"],
              "negative": block["num_negative"]}
    for col, n in counts.items():
        out[f"{col}.chars"] = round(block[f"avg_{col}_length"] * n)
        out[f"{col}.min_chars"] = block[f"min_{col}_length"]
        out[f"{col}.max_chars"] = block[f"max_{col}_length"]
        out[f"{col}.unique"] = block[f"unique_{col}"]
    return out


def per_subset(stats, convert):
    """{subset: {split: figures}}; a task without hf subsets has the one subset 'default'."""
    out = {}
    for split, block in stats.items():
        subs = block.get("hf_subset_descriptive_stats") or {"default": block}
        for sub, b in subs.items():
            out.setdefault(sub, {})[split] = convert(b)
    return out


def stats_file(name):
    files = sorted(STATS_DIR.glob(f"*/{name}.json"))
    if not files:
        sys.exit(f"mteb {mteb.__version__} has no descriptive statistics for {name}")
    return files[0]


def v1_stats(repo, name):
    path = f"mteb/descriptive_stats/Reranking/{name}.json"
    text = subprocess.run(["git", "-C", repo, "show", f"{V1_TAG}:{path}"], check=True,
                          capture_output=True).stdout
    return json.loads(text), f"mteb {V1_TAG} (git tag): {path}", text


def task_entry(spec, repo):
    name, kind = spec["name"], spec["type"]
    if spec.get("edition") == "mteb2":
        path = stats_file(name)
        stats, raw = json.loads(path.read_text()), path.read_bytes()
        source = f"mteb {mteb.__version__}: {path.relative_to(PKG.parent)}"
        convert = top_ranked_form_figures(name)
    elif name == "AskUbuntuDupQuestions":
        stats, source, raw = v1_stats(repo, name)
        convert = v1_reranking_figures
    else:
        path = stats_file(name)
        stats, raw = json.loads(path.read_text()), path.read_bytes()
        source = f"mteb {mteb.__version__}: {path.relative_to(PKG.parent)}"
        convert = mind_small_figures if name == "MindSmallReranking" else (
            lambda b: figures(kind, b))
    entry = {"source": source, "source_sha256": hashlib.sha256(raw).hexdigest()}
    note = NOTES.get(key_of(spec))
    if note:
        entry["note"] = note
    entry["subsets"] = per_subset(stats, convert)
    check_coverage(spec, entry["subsets"])
    return entry


def key_of(spec):
    """How leafbench names a task file: `name`, or `name@edition`."""
    return f"{spec['name']}@{spec['edition']}" if spec.get("edition") else spec["name"]


def check_coverage(spec, subsets):
    """Every subset and evaluated split of the task file must have figures."""
    ds = spec["dataset"]
    names = ds.get("subsets") or [ds.get("subset", "default")]
    splits = list(spec["eval_splits"])
    train = (spec.get("params") or {}).get("train_split", "train")
    if spec["type"] == "Classification":
        splits.append(train)
    missing = [f"{s}/{sp}" for s in names for sp in splits if sp not in subsets.get(s, {})]
    if missing:
        sys.exit(f"{spec['name']}: no figures for {', '.join(missing)}")


def main():
    repo = sys.argv[sys.argv.index("--mteb-repo") + 1] if "--mteb-repo" in sys.argv else "."
    tasks = {}
    for path in sorted((ROOT / "tasks").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        tasks[key_of(spec)] = task_entry(spec, repo)
    toxic = tasks["ToxicConversationsClassification"]["subsets"]["default"]["test"]
    assert toxic["rows"] == 2048 and toxic["text.chars"] == 591942, toxic
    assert toxic["labels"] == {"0": 1886, "1": 162}, toxic
    out = {
        "provenance": f"mteb {mteb.__version__} descriptive statistics (AskUbuntuDupQuestions: mteb "
                      f"{V1_TAG}'s), made by scripts/make_data_stats.py",
        "tasks": tasks,
    }
    text = json.dumps(out, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    (ROOT / "tasks/data_stats.json").write_text(text)
    print(f"wrote tasks/data_stats.json: {len(tasks)} tasks, {len(text):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
