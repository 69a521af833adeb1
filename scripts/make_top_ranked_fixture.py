#!/usr/bin/env python3
"""Small fixtures of MTEB 2's *reranking form* (corpus / queries / qrels / top_ranked configs) and the peer's scores.

Usage (peer venv, see ../shared/peer/README.md; paths relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_top_ranked_fixture.py [--model DIR] [--threads 1] [--batch-size 32]
    ~/.cache/peer-venv/bin/python scripts/make_top_ranked_fixture.py --check   # rebuild in a temp dir, compare

Inputs  none but this file: the texts below are hand-written and synthetic (English); candidate order comes from a
        seeded random.Random, so the output is deterministic. The model is the sentence-transformers folder
        --model (default .cache/models/all-MiniLM-L6-v2, the real sentence-transformers/all-MiniLM-L6-v2).

Writes, for TASK in AskUbuntuDupQuestions, MindSmallReranking, under tests/fixtures/reranking/top_ranked/TASK/:
    README.md                              dataset card, as datasets' push_to_hub writes it (see below)
    corpus/test-00000-of-00001.parquet     id, text (MindSmallReranking: id, text, title; one title is "")
    queries/test-00000-of-00001.parquet    id, text
    qrels/test-00000-of-00001.parquet      query-id (string), corpus-id (string), score (int64)
    top_ranked/test-00000-of-00001.parquet query-id (string), corpus-ids (list of string)
    peer_scores.json                       {"provenance": {...}, "scores": {every metric mteb reports, main_score,
                                            main_score_name}}; NaN (if any) is written as null and listed
    stats.json                             mteb's descriptive statistics of the split, {"test": {...}}
and tests/fixtures/reranking/top_ranked/data_stats.json: those statistics as the figures leafbench checks, under
the task keys AskUbuntuDupQuestions@mteb2 and MindSmallReranking@mteb2.

The repo layout is the one mteb's AbsTaskRetrieval._push_dataset_to_hub publishes: one DatasetDict({"test": ...})
per config, pushed in the order queries, corpus, qrels, top_ranked. The shards are written with
Dataset.to_parquet (batch size as push_to_hub picks it), and README.md is produced by datasets' own card updater
(datasets.arrow_dataset._get_updated_dataset_card, the function push_to_hub calls) run over the local folder, so the
YAML front matter (dataset_info: features / splits / sizes, configs: data_files test -> <config>/test-*) is the
one a real push would leave. No "default" config: mteb's loader then reads the qrels from the "qrels" config.

The data (deliberate edge cases):
  AskUbuntuDupQuestions-like: 12 queries q0..q11 (Ubuntu questions), each with its own top_ranked list of 6-10
    candidates (lengths differ), in shuffled order (never relevance-sorted: the first candidate is always a
    non-duplicate); every candidate has a qrels row (1 duplicate / 0 not); 1-3 positives per query, except q7
    whose qrels are all 0 (kept by mteb: it has qrels rows). Queries q0 q1 q4 q5 q6 q8 q10 also get a
    same-topic non-duplicate (u<i>_h0, a hard negative) so that not every ranking is perfect. Several documents are candidates of two queries;
    u_dup_a / u_dup_b have identical text (both positives of q3, same label, so their tied cosine cannot change
    a metric); q_extra is in queries only (no qrels, no top_ranked: mteb's loader drops it); some corpus
    documents are in no list (mteb encodes the whole corpus anyway).
  MindSmallReranking-like: 6 requests test_user<k>; request k has 2-4 sub-queries test_user<k>_<n> (the text
    of each is one history headline), all sharing the request's candidate list (4-8 news ids, shuffled) and
    the same qrels (clicked 1 / not clicked 0, every candidate listed). mteb's max_over_subqueries groups by the
    id up to the last "_" (so test_user3_0 -> test_user3). Corpus rows have title and text (mteb reads
    "title text"; N10007 has an empty title, so it is read as its text only). One corpus row is in no list.
    Some requests list same-topic news that was not clicked, so the rankings are not all perfect.

Peer run: task = mteb.get_task(TASK) (the real task class, metadata unchanged except the dataset path), with
task.metadata replaced on the instance by a copy whose dataset["path"] is the absolute fixture folder. The
revision stays the task's own hub commit: datasets ignores `revision` for a local folder (get_dataset_config_names
and load_dataset resolve the folder's README configs), so RetrievalDatasetLoader runs unmodified. Then
task.load_data() (mteb's RetrievalDatasetLoader); the loaded split is checked against the expected counts
(corpus rows, queries after q_extra is dropped, top_ranked rows, qrels); descriptive statistics come from
task._calculate_descriptive_statistics_from_split("test") -- what task.calculate_descriptive_statistics() runs for a
monolingual task, without its side effects (it would return the task's cached stats of the real dataset, or with
overwrite_results=True write into mteb's installed descriptive_stats/ folder); then
mteb.evaluate(SentenceTransformerEncoderWrapper(SentenceTransformer(model, device="cpu")), task, cache=None,
encode_kwargs={"batch_size": 32}), i.e. the v2 path: queries encoded with prompt_type=query, the whole corpus
with prompt_type=document (rerank_top_ranked_documents), cosine of each query against its own candidates,
pytrec_eval; MindSmallReranking adds max_over_subqueries_* (its task_specific_scores). Every score mteb returns
for the test split / default subset is recorded. RetrievalEvaluator.evaluate is wrapped (not changed) to capture
the run mteb scores; from it provenance.ranking_margins gives the smallest cosine gap between two differently
labelled candidates of one query (and, for MindSmallReranking, of one merged request): the float tolerance under
which another implementation must reproduce every score exactly. Note: mteb's qrels dict comes from a polars
group_by without maintain_order, so the request order inside max_over_subqueries varies between runs and its
unrounded max_over_subqueries_mrr_at_* can differ in the last bits from run to run (--check allows 1e-12).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

T0 = time.perf_counter()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_ROOT = os.path.join(REPO, "tests", "fixtures", "reranking", "top_ranked")
TASKS = ["AskUbuntuDupQuestions", "MindSmallReranking"]
CONFIGS = ["queries", "corpus", "qrels", "top_ranked"]  # mteb's _push_dataset_to_hub order
SPLIT = "test"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, ".cache", "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=OUT_ROOT, help="root folder (one subfolder per task)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--task", choices=TASKS, action="append", help="only this task (repeatable)")
    ap.add_argument("--check", action="store_true",
                    help="rebuild into a temporary folder and compare with --out (data files, README and "
                         "stats byte for byte, scores exactly up to 1e-12); writes nothing under --out")
    return ap.parse_args()


ARGS = parse_args()
for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[var] = "1"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import datasets  # noqa: E402
from datasets import Dataset, Features, Sequence, Value  # noqa: E402
from datasets.arrow_dataset import _get_updated_dataset_card  # noqa: E402
from datasets.arrow_writer import (  # noqa: E402
    get_writer_batch_size_from_data_size,
    get_writer_batch_size_from_features,
)
from datasets.splits import SplitInfo  # noqa: E402
from fsspec.implementations.dirfs import DirFileSystem  # noqa: E402
from fsspec.implementations.local import LocalFileSystem  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
import transformers  # noqa: E402
import mteb  # noqa: E402
from mteb._evaluators.retrieval_evaluator import RetrievalEvaluator  # noqa: E402
from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper  # noqa: E402

SCRIPT = "scripts/make_top_ranked_fixture.py"

# ----------------------------------------------------------------------------------------------------------------
# AskUbuntuDupQuestions-like data
# ----------------------------------------------------------------------------------------------------------------
# (query text, [duplicate questions]) -- one topic per query; the duplicates are paraphrases of the query.
UBUNTU_TOPICS = [
    ("How do I install an NVIDIA graphics driver on Ubuntu 22.04?",
     ["Installing the proprietary NVIDIA driver on Ubuntu 22.04",
      "Which command installs the recommended Nvidia GPU driver in Ubuntu?"]),
    ("Wifi adapter not detected after upgrading to Ubuntu 20.04",
     ["Wireless network card disappeared after the 20.04 upgrade",
      "No wifi networks shown since I upgraded Ubuntu",
      "Ubuntu 20.04 does not find my wireless adapter anymore"]),
    ("How can I change the default shell from bash to zsh?",
     ["Make zsh my login shell instead of bash"]),
    ("Ubuntu freezes at the purple screen during boot",
     ["Ubuntu hangs on the boot splash screen"]),  # + u_dup_a / u_dup_b (identical text), added below
    ("How to mount an external NTFS hard drive automatically at startup?",
     ["Automount an NTFS USB disk on boot with fstab",
      "Add my external NTFS drive to /etc/fstab so it mounts at login"]),
    ("apt-get update fails with a GPG key error for a PPA",
     ["NO_PUBKEY error when running sudo apt update after adding a PPA"]),
    ("How do I increase the size of the swap file?",
     ["Resize /swapfile to 8 GB on Ubuntu",
      "Make the swap file bigger without repartitioning"]),
    ("Bluetooth headphones connect but there is no sound",
     []),  # q7: no duplicate among its candidates (all qrels 0)
    ("How to schedule a script to run every night with cron?",
     ["Run a shell script daily at midnight using crontab",
      "Crontab entry for a nightly backup script"]),
    ("Terminal keyboard shortcut to open a new tab",
     ["What is the hotkey for a new tab in GNOME Terminal?"]),
    ("Screen resolution stuck at 1024x768 on a second monitor",
     ["External monitor only offers 1024x768 resolution",
      "Cannot set 1920x1080 on my second display in Ubuntu"]),
    ("How do I uninstall a snap package completely?",
     ["Remove a snap app and all of its data"]),
]
# Non-duplicate Ubuntu questions (near-topic distractors, and a few that no list uses).
UBUNTU_DISTRACTORS = [
    "How do I check which version of Ubuntu I am running?",
    "Sound stops working after suspend and resume",
    "Firefox is very slow to start on a fresh install",
    "How to set a static IP address with netplan?",
    "Disk usage analyzer shows the root partition is full",
    "How can I take a screenshot of a selected area?",
    "Keyboard layout resets to US after every reboot",
    "How to enable SSH server on Ubuntu?",
    "Laptop battery drains quickly on Ubuntu compared to Windows",
    "Where are the system logs stored?",
    "How can I run a Windows program with Wine?",
    "Touchpad scrolling direction is reversed",
    "How do I add a user to the sudo group?",
    "Grub menu does not show Windows after installing Ubuntu",
    "Printer is detected but prints blank pages",
    "How to compress a folder into a tar.gz archive?",
]
UBUNTU_DUP_TEXT = "Stuck on the purple boot screen after a kernel update"
N_UNUSED_UBUNTU = 3  # last distractors kept out of every list
# Same-topic non-duplicates (hard negatives, so that not every ranking is perfect): query index -> texts.
UBUNTU_HARD = {
    0: ["NVIDIA driver installed but the screen stays black on Ubuntu 22.04"],
    1: ["Wifi keeps disconnecting every few minutes on Ubuntu 20.04"],
    4: ["External NTFS drive mounts as read-only"],
    5: ["apt update shows a Release file is not valid yet error"],
    6: ["How do I disable swap permanently?"],
    8: ["Cron job runs manually but not from crontab"],
    10: ["Second monitor is not detected at all on Ubuntu"],
}


def build_askubuntu():
    rng = random.Random(20240601)
    corpus = []  # (id, text)
    pos_ids = []
    for qi, (_, dups) in enumerate(UBUNTU_TOPICS):
        ids = []
        for j, t in enumerate(dups):
            did = f"u{qi}_{j}"
            corpus.append((did, t))
            ids.append(did)
        if qi == 3:
            for did in ("u_dup_a", "u_dup_b"):
                corpus.append((did, UBUNTU_DUP_TEXT))
                ids.append(did)
        pos_ids.append(ids)
    hard_ids = {}
    for qi, texts in UBUNTU_HARD.items():
        hard_ids[qi] = []
        for j, t in enumerate(texts):
            did = f"u{qi}_h{j}"
            corpus.append((did, t))
            hard_ids[qi].append(did)
    distractor_ids = []
    for j, t in enumerate(UBUNTU_DISTRACTORS):
        did = f"u_x{j:02d}"
        corpus.append((did, t))
        distractor_ids.append(did)
    usable = distractor_ids[:-N_UNUSED_UBUNTU]
    unused = distractor_ids[-N_UNUSED_UBUNTU:]

    queries = [(f"q{qi}", q) for qi, (q, _) in enumerate(UBUNTU_TOPICS)]
    queries.insert(5, ("q_extra", "How do I reset a forgotten root password?"))  # in queries only
    qrels, top_ranked = [], []
    used = set()
    for qi in range(len(UBUNTU_TOPICS)):
        n_total = 6 + (qi * 7) % 5  # 6..10, differs between queries
        positives = list(pos_ids[qi])
        # negatives: other topics' duplicates (an id shared with another query's list) + distractors
        other = [d for k, ids in enumerate(pos_ids) if k != qi for d in ids]
        hard = list(hard_ids.get(qi, []))
        n_neg = n_total - len(positives) - len(hard)
        n_other = min(2, n_neg)
        negatives = hard + rng.sample(other, n_other) + rng.sample(usable, n_neg - n_other)
        cands = positives + negatives
        rng.shuffle(cands)
        if cands[0] in positives:  # never relevance-sorted: a non-duplicate first
            k = next(i for i, d in enumerate(cands) if d not in positives)
            cands[0], cands[k] = cands[k], cands[0]
        top_ranked.append({"query-id": f"q{qi}", "corpus-ids": cands})
        for d in cands:
            qrels.append({"query-id": f"q{qi}", "corpus-id": d, "score": int(d in positives)})
        used.update(cands)
    # a fixed shared document: u_x00 is a candidate (negative) of both q0 and q1
    for qi in (0, 1):
        row = top_ranked[qi]
        if "u_x00" not in row["corpus-ids"]:
            victim = next(d for d in reversed(row["corpus-ids"]) if d.startswith("u_x"))
            row["corpus-ids"][row["corpus-ids"].index(victim)] = "u_x00"
            for r in qrels:
                if r["query-id"] == f"q{qi}" and r["corpus-id"] == victim:
                    r["corpus-id"] = "u_x00"
    # u_dup_a appears also (as a non-duplicate) in q9's list
    row = top_ranked[9]
    if "u_dup_a" not in row["corpus-ids"]:
        victim = next(d for d in reversed(row["corpus-ids"]) if d.startswith("u_x"))
        row["corpus-ids"][row["corpus-ids"].index(victim)] = "u_dup_a"
        for r in qrels:
            if r["query-id"] == "q9" and r["corpus-id"] == victim:
                r["corpus-id"] = "u_dup_a"
    used = {d for row in top_ranked for d in row["corpus-ids"]}
    corpus_rows = [{"id": i, "text": t} for i, t in corpus]
    query_rows = [{"id": i, "text": t} for i, t in queries]
    notes = {"unused_corpus_ids": sorted(set(d for d, _ in corpus) - used),
             "query_without_positive": "q7", "query_dropped_by_loader": "q_extra",
             "identical_text_ids": ["u_dup_a", "u_dup_b"]}
    assert set(unused) <= set(notes["unused_corpus_ids"])
    return corpus_rows, query_rows, qrels, top_ranked, notes


# ----------------------------------------------------------------------------------------------------------------
# MindSmallReranking-like data
# ----------------------------------------------------------------------------------------------------------------
# news id -> (title, text/abstract)
MIND_NEWS = {
    # sports
    "N10001": ("Lakers beat Celtics in overtime thriller", "LeBron James scored 38 points as Los Angeles edged Boston."),
    "N10002": ("Premier League: Liverpool extend lead at the top", "A late header secured three points at Anfield."),
    "N10003": ("Serena Williams announces return to tennis", "The former world number one will play in Auckland."),
    "N10004": ("NFL trade deadline: five deals that shook the league", "Contenders added pass rushers and receivers."),
    # finance
    "N10005": ("Stocks rally as Federal Reserve holds interest rates", "The Dow gained 400 points after the decision."),
    "N10006": ("Mortgage rates fall to a three-year low", "Homebuyers rush to refinance as borrowing costs drop."),
    "N10007": ("", "Oil prices slide as inventories rise for a third straight week."),  # empty title
    "N10008": ("How to build an emergency fund on a tight budget", "Experts suggest saving a small amount every payday."),
    # food
    "N10009": ("Ten easy weeknight pasta recipes", "Quick dinners ready in under thirty minutes."),
    "N10010": ("The best chocolate chip cookies you will ever bake", "Brown butter is the secret ingredient."),
    "N10011": ("Slow cooker chili for a cold autumn evening", "Beans, beef and spices simmer all afternoon."),
    # weather / science
    "N10012": ("Hurricane heads toward the Gulf Coast", "Residents are urged to prepare for storm surge."),
    "N10013": ("NASA rover finds signs of ancient lake on Mars", "Sediment layers suggest water flowed for millions of years."),
    "N10014": ("First snowstorm of the season blankets the Midwest", "Several inches fell overnight in Chicago."),
    # entertainment
    "N10015": ("Box office: superhero sequel tops the weekend", "The film earned 90 million dollars in North America."),
    "N10016": ("Grammy nominations announced: full list", "Pop and hip-hop artists lead this year's nominees."),
    "N10017": ("Streaming service raises subscription prices", "The standard plan will cost two dollars more per month."),
    # travel / autos
    "N10018": ("The most beautiful national parks to visit in fall", "Autumn colors peak in late October."),
    "N10019": ("Electric pickup truck review: range and towing tested", "We drove it 300 miles with a trailer."),
    "N10020": ("Airlines add holiday flights to warm destinations", "Extra routes to Florida and the Caribbean."),
    "N10021": ("Recall issued for popular SUV over brake problem", "Owners should contact their dealer."),  # in no list
}
# request id -> (history headlines = sub-query texts, candidate ids in impression order, clicked ids)
MIND_REQUESTS = {
    "test_user1": (["NBA season preview: contenders and sleepers", "Tom Brady throws three touchdowns in win"],
                   ["N10005", "N10001", "N10009", "N10004", "N10017", "N10002"], {"N10001", "N10004"}),
    "test_user2": (["Wall Street closes higher on strong earnings", "Inflation report surprises economists",
                    "Treasury yields jump after the jobs report"],
                   ["N10002", "N10006", "N10012", "N10005", "N10007", "N10015", "N10008", "N10018"],
                   {"N10005", "N10007", "N10006"}),
    "test_user3": (["Easy banana bread recipe", "Thanksgiving turkey tips from a chef",
                    "Five soups to make this winter", "How to make perfect pancakes"],
                   ["N10013", "N10010", "N10003", "N10011", "N10009"], {"N10010", "N10011"}),
    "test_user4": (["Tropical storm forms in the Atlantic", "Scientists track a giant iceberg"],
                   ["N10016", "N10014", "N10001", "N10012", "N10019", "N10013"], {"N10013"}),
    "test_user5": (["Oscar winners: the complete list", "New season of hit drama series premieres",
                    "Concert tour sells out in minutes"],
                   ["N10006", "N10020", "N10016", "N10002", "N10015"], {"N10016", "N10015"}),
    "test_user6": (["Road trip ideas for the long weekend", "Cheapest cities to fly to this winter"],
                   ["N10019", "N10009", "N10020", "N10003", "N10018", "N10014", "N10017"], {"N10018", "N10020"}),
}


def build_mind():
    rng = random.Random(20191012)
    corpus_rows = [{"id": i, "text": t, "title": ti} for i, (ti, t) in MIND_NEWS.items()]
    query_rows, qrels, top_ranked = [], [], []
    for req, (history, cands, clicked) in MIND_REQUESTS.items():
        cands = list(cands)
        rng.shuffle(cands)
        if cands[0] in clicked:
            k = next(i for i, d in enumerate(cands) if d not in clicked)
            cands[0], cands[k] = cands[k], cands[0]
        assert 2 <= len(history) <= 4 and 4 <= len(cands) <= 8 and clicked <= set(cands)
        for n, h in enumerate(history):
            qid = f"{req}_{n}"
            query_rows.append({"id": qid, "text": h})
            top_ranked.append({"query-id": qid, "corpus-ids": list(cands)})
            for d in cands:
                qrels.append({"query-id": qid, "corpus-id": d, "score": int(d in clicked)})
    used = {d for row in top_ranked for d in row["corpus-ids"]}
    notes = {"unused_corpus_ids": sorted(set(MIND_NEWS) - used),
             "empty_title_ids": sorted(i for i, (ti, _) in MIND_NEWS.items() if ti == ""),
             "requests": {r: len(h) for r, (h, _, _) in MIND_REQUESTS.items()}}
    return corpus_rows, query_rows, qrels, top_ranked, notes


# ----------------------------------------------------------------------------------------------------------------
# writing the repo like push_to_hub
# ----------------------------------------------------------------------------------------------------------------
FEATURES = {
    "queries": Features({"id": Value("string"), "text": Value("string")}),
    "corpus": Features({"id": Value("string"), "text": Value("string")}),
    "corpus_titled": Features({"id": Value("string"), "text": Value("string"), "title": Value("string")}),
    "qrels": Features({"query-id": Value("string"), "corpus-id": Value("string"), "score": Value("int64")}),
    "top_ranked": Features({"query-id": Value("string"), "corpus-ids": Sequence(Value("string"))}),
}


def write_repo(folder: str, sections: dict[str, tuple[list[dict], Features]]) -> None:
    """One config after another, as DatasetDict({"test": ds}).push_to_hub(repo, config) would leave the repo."""
    os.makedirs(folder, exist_ok=True)
    fs = DirFileSystem(path=folder, fs=LocalFileSystem())
    for config in CONFIGS:
        rows, features = sections[config]
        ds = Dataset.from_list(rows, features=features)
        nbytes = ds._estimate_nbytes()
        wbs = get_writer_batch_size_from_features(ds.features) or get_writer_batch_size_from_data_size(len(ds), nbytes)
        os.makedirs(os.path.join(folder, config), exist_ok=True)
        path = os.path.join(folder, config, f"{SPLIT}-00000-of-00001.parquet")
        ds.to_parquet(path, batch_size=wbs)
        card, legacy = _get_updated_dataset_card(
            fs=fs, config_name=config, splits_info=[SplitInfo(name=SPLIT, num_bytes=nbytes, num_examples=len(ds))],
            features=ds.features, data_dir=config, set_default=None, uploaded_sizes=[os.path.getsize(path)],
            deleted_sizes=[], remove_other_splits=True)
        assert legacy is None
        with open(os.path.join(folder, "README.md"), "w", encoding="utf-8", newline="") as f:
            f.write(str(card))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rel(p: str) -> str:
    return os.path.relpath(os.path.abspath(p), REPO).replace(os.sep, "/")


def no_nan(x):
    if isinstance(x, dict):
        return {k: no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [no_nan(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    return x


ORDER_NOTE = (
    "mteb's RetrievalDatasetLoader._load_qrels builds the qrels dict from polars group_by(maintain_order=False), so "
    "the order of the query ids in it varies from run to run. Per-query metrics do not care, and the pytrec_eval "
    "means are rounded to 5 decimals, but the unrounded means that follow that order (max_over_subqueries_mrr_at_*, "
    "whose request order comes from the qrels keys) can change in the last bits (sum of floats in another "
    "order). Compare such values with a tolerance of ~1e-12, not bit for bit.")


def label_gap(qrels: dict, results: dict) -> tuple[float, str]:
    """Smallest |score difference| between two candidates of one query that carry different qrels labels.

    Only such pairs can change a metric if their order flips, so this is the margin another implementation's
    float noise must stay under to reproduce the scores exactly."""
    best, where = float("inf"), ""
    for qid, docs in results.items():
        items = sorted(docs.items(), key=lambda kv: kv[1])
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                (da, sa), (db, sb) = items[i], items[j]
                if qrels[qid].get(da, 0) != qrels[qid].get(db, 0) and abs(sa - sb) < best:
                    best, where = abs(sa - sb), f"{qid}: {da} / {db}"
    return best, where


def merge_subqueries(qrels: dict, results: dict) -> tuple[dict, dict]:
    """max_over_subqueries' grouping (mteb._evaluators.retrieval_metrics), for the margin check only."""
    groups: dict[str, list[str]] = {}
    for key in qrels:
        groups.setdefault("_".join(key.split("_")[:-1]), []).append(key)
    new_qrels, new_results = {}, {}
    for base, keys in groups.items():
        merged: dict[str, float] = {}
        for k in keys:
            for d, sc in results[k].items():
                merged[d] = sc if d not in merged else max(sc, merged[d])
        new_results[base], new_qrels[base] = merged, qrels[keys[-1]]
    return new_qrels, new_results


def run_task(name: str, folder: str, wrapper, model_dir: str) -> tuple[dict, dict]:
    builder = build_askubuntu if name == "AskUbuntuDupQuestions" else build_mind
    corpus_rows, query_rows, qrels, top_ranked, notes = builder()
    write_repo(folder, {
        "queries": (query_rows, FEATURES["queries"]),
        "corpus": (corpus_rows, FEATURES["corpus_titled" if "title" in corpus_rows[0] else "corpus"]),
        "qrels": (qrels, FEATURES["qrels"]),
        "top_ranked": (top_ranked, FEATURES["top_ranked"]),
    })

    task = mteb.get_task(name)
    orig_dataset = dict(task.metadata.dataset)
    task.metadata = task.metadata.model_copy(update={"dataset": {**orig_dataset, "path": os.path.abspath(folder)}})
    assert type(task).metadata.dataset["path"] == orig_dataset["path"]  # class attribute untouched
    task.load_data()
    split = task.dataset["default"][SPLIT]
    qrel_qids = {r["query-id"] for r in qrels}
    expect = {
        "corpus": len(corpus_rows),
        "queries": sum(1 for q in query_rows if q["id"] in qrel_qids),
        "top_ranked": len(top_ranked),
        "qrels_queries": len(qrel_qids),
        "qrels_rows": len(qrels),
    }
    got = {
        "corpus": len(split["corpus"]),
        "queries": len(split["queries"]),
        "top_ranked": len(split["top_ranked"]),
        "qrels_queries": len(split["relevant_docs"]),
        "qrels_rows": sum(len(v) for v in split["relevant_docs"].values()),
    }
    assert got == expect, (name, got, expect)
    assert set(split["queries"]["id"]) == qrel_qids == set(split["top_ranked"])
    assert "q_extra" not in split["queries"]["id"]
    assert {r["query-id"]: r["corpus-ids"] for r in top_ranked} == split["top_ranked"]
    assert split["corpus"].column_names == list(corpus_rows[0]), split["corpus"].column_names
    print(f"[{name}] loaded by mteb: {got}", file=sys.stderr)

    stats = {SPLIT: task._calculate_descriptive_statistics_from_split(SPLIT)}

    captured: dict = {}
    orig_eval = RetrievalEvaluator.evaluate

    def capturing_eval(self, qrels, results, k_values, *a, **kw):
        captured["qrels"] = {q: dict(v) for q, v in qrels.items()}
        captured["results"] = {q: dict(v) for q, v in results.items()}
        return orig_eval(self, qrels, results, k_values, *a, **kw)

    RetrievalEvaluator.evaluate = capturing_eval
    t_eval = time.perf_counter()
    try:
        res = mteb.evaluate(
            wrapper, task, cache=None, overwrite_strategy="always",
            encode_kwargs={"batch_size": ARGS.batch_size, "show_progress_bar": False},
            show_progress_bar=False, co2_tracker=False, raise_error=True,
        )
    finally:
        RetrievalEvaluator.evaluate = orig_eval
    t_eval = time.perf_counter() - t_eval
    assert {q: set(v) for q, v in captured["results"].items()} == {r["query-id"]: set(r["corpus-ids"]) for r in top_ranked}
    margins = {}
    gap, where = label_gap(captured["qrels"], captured["results"])
    margins["per_query"] = {"min_abs_score_diff": gap, "between": where}
    if name == "MindSmallReranking":
        gap, where = label_gap(*merge_subqueries(captured["qrels"], captured["results"]))
        margins["max_over_subqueries"] = {"min_abs_score_diff": gap, "between": where}
    if res.exceptions:
        sys.exit(f"mteb reported errors: {res.exceptions}")
    tr = res.task_results[0]
    entries = [s for s in tr.scores[SPLIT] if s.get("hf_subset") == "default"]
    assert len(entries) == 1, tr.scores
    entry = dict(entries[0])
    hf_subset, languages = entry.pop("hf_subset"), entry.pop("languages", None)
    main_name = task.metadata.main_score
    assert entry["main_score"] == entry[main_name], (entry["main_score"], main_name)
    nan_metrics = sorted(k for k, v in entry.items() if isinstance(v, float) and v != v)
    scores = dict(sorted((k, v) for k, v in entry.items() if k != "main_score"))
    scores["main_score"] = entry["main_score"]
    scores["main_score_name"] = main_name

    cmd = f"~/.cache/peer-venv/bin/python {SCRIPT} --threads {ARGS.threads} --batch-size {ARGS.batch_size}"
    if os.path.abspath(ARGS.model) != os.path.join(REPO, ".cache", "models", "all-MiniLM-L6-v2"):
        cmd += f" --model {ARGS.model}"
    files = {f"{c}/{SPLIT}-00000-of-00001.parquet": sha256_file(os.path.join(folder, c, f"{SPLIT}-00000-of-00001.parquet"))
             for c in CONFIGS}
    files["README.md"] = sha256_file(os.path.join(folder, "README.md"))
    provenance = {
        "task": name,
        "generator": SCRIPT,
        "command": cmd,
        "how": ("mteb.get_task(TASK) with metadata.dataset['path'] set (on the instance) to this folder, revision "
                "unchanged (ignored by datasets for a local folder); task.load_data() via RetrievalDatasetLoader; "
                "mteb.evaluate(SentenceTransformerEncoderWrapper(SentenceTransformer(model, device='cpu')), task, "
                "cache=None, encode_kwargs={'batch_size': %d}); scores = task_results[0].scores['test'] entry of "
                "hf_subset 'default'. See the docstring of %s." % (ARGS.batch_size, SCRIPT)),
        "task_metadata_dataset": orig_dataset,
        "hf_subset": hf_subset,
        "languages": languages,
        "k_values": list(task.k_values),
        "loaded_counts": got,
        "fixture_notes": notes,
        "files_sha256": files,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_path": rel(model_dir) if os.path.abspath(model_dir).startswith(REPO + os.sep) else model_dir,
        "model_safetensors_sha256": sha256_file(os.path.join(model_dir, "model.safetensors")),
        "device": "cpu", "threads": ARGS.threads, "batch_size": ARGS.batch_size,
        "versions": {"mteb": mteb.__version__, "sentence_transformers": sentence_transformers.__version__,
                     "datasets": datasets.__version__, "torch": torch.__version__, "numpy": np.__version__,
                     "transformers": transformers.__version__, "python": platform.python_version()},
        "nan_metrics_written_as_null": nan_metrics,
        "summation_order_note": ORDER_NOTE,
        "ranking_margins": dict(margins, what=(
            "smallest cosine difference between two candidates of one query with different qrels labels, in the "
            "run mteb scored (captured from RetrievalEvaluator.evaluate); a reimplementation reproduces every "
            "score exactly if its cosines are within half this of mteb's")),
        "evaluate_seconds": round(t_eval, 2),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    peer = no_nan({"provenance": provenance, "scores": scores})
    with open(os.path.join(folder, "peer_scores.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(peer, indent=2, allow_nan=False) + "\n")
    with open(os.path.join(folder, "stats.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(stats, indent=4) + "\n")
    print(f"[{name}] {main_name} = {scores['main_score']}  ({len(scores) - 2} metrics)", file=sys.stderr)
    return peer, stats


def compare(name: str, new: str, old: str) -> list[str]:
    problems = []
    for c in CONFIGS:
        p = f"{c}/{SPLIT}-00000-of-00001.parquet"
        if not os.path.exists(os.path.join(old, p)) or sha256_file(os.path.join(new, p)) != sha256_file(os.path.join(old, p)):
            problems.append(f"{name}: {p} differs")
    for p in ("README.md", "stats.json"):
        a, b = os.path.join(new, p), os.path.join(old, p)
        if not os.path.exists(b) or open(a, "rb").read() != open(b, "rb").read():
            problems.append(f"{name}: {p} differs")
    try:
        with open(os.path.join(old, "peer_scores.json"), encoding="utf-8") as f:
            old_scores = json.load(f)["scores"]
    except FileNotFoundError:
        old_scores = None
    with open(os.path.join(new, "peer_scores.json"), encoding="utf-8") as f:
        new_scores = json.load(f)["scores"]
    old_scores = old_scores or {}
    keys = set(old_scores) | set(new_scores)
    differ = sorted(k for k in keys if old_scores.get(k) != new_scores.get(k))
    # ulp-level differences are expected in the unrounded mean-of-queries metrics (see ORDER_NOTE)
    close = [k for k in differ if isinstance(old_scores.get(k), float) and isinstance(new_scores.get(k), float)
             and abs(old_scores[k] - new_scores[k]) <= 1e-12]
    if close:
        worst = max(abs(old_scores[k] - new_scores[k]) for k in close)
        print(f"[{name}] {len(close)} scores equal within 1e-12, not bit for bit (max diff {worst:.3g}): "
              f"{close}", file=sys.stderr)
    wrong = [k for k in differ if k not in close]
    if wrong:
        problems.append(f"{name}: scores differ: {wrong[:10]}")
    return problems


def write_data_stats(root: str) -> None:
    """tests/fixtures/reranking/top_ranked/data_stats.json: each fixture's stats.json in the figures
    leafbench checks (scripts/make_data_stats.py's retrieval figures, plus the candidate-list counts),
    under the key of the task file that reads the form (`<TASK>@mteb2`), every figure kept."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_data_stats", os.path.join(REPO, "scripts", "make_data_stats.py"))
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    tasks = {}
    for name in TASKS:
        path = os.path.join(root, name, "stats.json")
        block = json.load(open(path, encoding="utf-8"))[SPLIT]
        figures = maker.figures("Retrieval", block)
        top = block["top_ranked_statistics"]
        figures.update({"top_ranked.total": top["num_top_ranked"],
                        "top_ranked.min_per_query": top["min_top_ranked_per_query"],
                        "top_ranked.max_per_query": top["max_top_ranked_per_query"]})
        tasks[f"{name}@mteb2"] = {"source": f"{rel(path)} (mteb {mteb.__version__})",
                                  "subsets": {"default": {SPLIT: figures}}}
    out = {"provenance": f"mteb {mteb.__version__} statistics of the fixtures, made by {SCRIPT}", "tasks": tasks}
    with open(os.path.join(root, "data_stats.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(out, indent=1) + "\n")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    torch.set_num_threads(ARGS.threads)
    datasets.disable_progress_bars()
    model = SentenceTransformer(ARGS.model, device="cpu")
    model.eval()
    wrapper = SentenceTransformerEncoderWrapper(model)
    tasks = ARGS.task or TASKS
    if ARGS.check:
        tmp = tempfile.mkdtemp(prefix="top_ranked_check_")
        problems = []
        try:
            for name in tasks:
                run_task(name, os.path.join(tmp, name), wrapper, ARGS.model)
                problems += compare(name, os.path.join(tmp, name), os.path.join(ARGS.out, name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if problems:
            sys.exit("CHECK FAILED:\n  " + "\n  ".join(problems))
        print(f"check OK ({', '.join(tasks)}) in {time.perf_counter() - T0:.1f}s", file=sys.stderr)
        return
    for name in tasks:
        folder = os.path.join(ARGS.out, name)
        if os.path.isdir(folder):  # a fresh repo each time (the card is built incrementally)
            shutil.rmtree(folder)
        run_task(name, folder, wrapper, ARGS.model)
        print(f"wrote {rel(folder)}", file=sys.stderr)
    write_data_stats(ARGS.out)
    print(f"done in {time.perf_counter() - T0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
