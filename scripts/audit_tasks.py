"""Audit leafbench's task definitions against mteb's own task objects.

Reads leafbench's tasks as leafbench itself loads them (`leafbench tasks --json`: every task file
with its defaults resolved) and, for each, mteb's task of the same name, and compares field by
field:

* dataset path and revision, task type, eval splits, every hf subset in mteb's order and each
  one's languages, fast loading, column renames, splits concatenated into the evaluated one;
* main score;
* every evaluator parameter that changes a number (samples per label, experiments, clustering
  fractions / caps / bootstrap size and count / k-means batch / label levels, STS and
  summarization score range, retrieval k values, identical-id filtering, ...), including the
  settings leafbench fixes in code (LEAF_FIXED below) and the overrides a task's
  `dataset_transform` makes (e.g. `self.max_fraction_of_documents_to_embed = None`);
* the test cut: `stratified_subsampling(...)` / `train_test_split(...)` calls found by parsing
  the task's own methods (size, seed, stratified or not), against `params.test_subsample`;
* for the tasks of MTEB(eng, v2), the subsets leafbench's benchmark file selects against the
  ones mteb's benchmark selects;
* tasks/data_stats.json, which leafbench checks loaded data against, against the figures
  scripts/make_data_stats.py draws now from the installed mteb's statistics (a task whose figures
  come from another source, such as a git tag, is named and left out).

A difference listed in the known-differences file (task, field and the reason it stands) is
reported as KNOWN; any other is a DIFF, and a listed difference that no longer occurs is STALE.

Run with the peer environment, offline:

    target/debug/leafbench tasks --json > leafbench-tasks.json
    HF_HUB_OFFLINE=1 ~/.cache/peer-venv/bin/python scripts/audit_tasks.py \
        --leafbench-json leafbench-tasks.json [--known tasks/audit/known_differences.yaml] \
        [--benchmark-file tasks/benchmarks/mteb-eng-v2.yaml] [--json OUT.json] [--markdown OUT.md]

Exits 1 when there is a DIFF or a STALE entry, else 0.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import os
import re
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import yaml  # noqa: E402

BENCHMARK = "MTEB(eng, v2)"

# Leafbench type name -> mteb `metadata.type` (the names coincide today; kept explicit so a
# renamed type on either side is a visible edit here).
TYPE_MAP = {
    "STS": "STS",
    "Classification": "Classification",
    "PairClassification": "PairClassification",
    "Summarization": "Summarization",
    "Clustering": "Clustering",
    "Reranking": "Reranking",
    "Retrieval": "Retrieval",
}

# Settings leafbench does not read from the task file but fixes in code, per type.
# Classification: src/learn/logistic_regression.rs (`LogisticRegression::default()`, sklearn's
# defaults with max_iter=100), no cross-validation. Clustering: all label levels. Retrieval /
# reranking: no skipped first hit, top-k = max(k_values). Summarization: the v2 evaluator
# (src/task/summarization.rs). The seed is 42 everywhere (src/rng).
LEAF_FIXED = {
    "*": {"seed": 42},
    "Classification": {
        "is_cross_validation": False,
        "classifier": {
            "class": "LogisticRegression",
            "C": 1.0,
            "max_iter": 100,
            "tol": 0.0001,
            "penalty": "l2",
            "solver": "lbfgs",
            "fit_intercept": True,
            "class_weight": None,
        },
    },
    "Clustering": {"max_depth": None},
    "Retrieval": {"skip_first_result": False},
    "Reranking": {"ignore_identical_ids": False, "skip_first_result": False},
    "Summarization": {"evaluator": "SummarizationEvaluator"},
}

# The leafbench params struct of each type's evaluator-relevant mteb attribute:
# leafbench param name -> mteb task attribute name.
MTEB_ATTRS = {
    "Classification": {
        "samples_per_label": "samples_per_label",
        "n_experiments": "n_experiments",
        "train_split": "train_split",
        "is_cross_validation": "is_cross_validation",
    },
    "Clustering": {
        "max_fraction_of_documents_to_embed": "max_fraction_of_documents_to_embed",
        "max_document_to_embed": "max_document_to_embed",
        "max_documents_per_cluster": "max_documents_per_cluster",
        "n_bootstrap": "n_clusters",
        "kmeans_batch_size": "k_mean_batch_size",
        "max_depth": "max_depth",
    },
    "STS": {"min_score": "min_score", "max_score": "max_score"},
    "Summarization": {"min_score": "min_score", "max_score": "max_score"},
    "Retrieval": {
        "ignore_identical_ids": "ignore_identical_ids",
        "k_values": "k_values",
        "skip_first_result": "skip_first_result",
    },
    "Reranking": {
        "ignore_identical_ids": "ignore_identical_ids",
        "k_values": "k_values",
        "skip_first_result": "skip_first_result",
    },
    "PairClassification": {},
}

TABLE_COLUMNS = [
    "path",
    "revision",
    "type",
    "eval_splits",
    "subset",
    "fast_loading",
    "rename_columns",
    "main_score",
    "params",
    "test_subsample",
    "transform",
]


# --------------------------------------------------------------------------- leafbench side


def load_leaf_task(entry: dict) -> dict:
    """One task of `leafbench tasks --json`, with the settings leafbench fixes in code added."""
    params = dict(entry.get("params") or {})
    params.update(LEAF_FIXED["*"])
    params.update(LEAF_FIXED.get(entry["type"], {}))
    dataset = {"subset": "default", "subsets": [], "fast_loading": False, "rename_columns": {},
               "concat_splits": [], "top_ranked": False, **entry["dataset"]}
    if entry["type"] == "Reranking":
        params.setdefault("max_over_subqueries", False)
    subsets = dataset["subsets"] or [dataset["subset"]]
    languages = entry.get("languages") or ["eng-Latn"]
    if isinstance(languages, list):
        languages = {s: languages for s in subsets}
    return {
        "name": entry["name"],
        "key": f"{entry['name']}@{entry['edition']}" if entry.get("edition") else entry["name"],
        "type": entry["type"],
        "dataset": dataset,
        "subsets": subsets,
        "languages": languages,
        "eval_splits": list(entry["eval_splits"]),
        "main_score": entry["main_score"],
        "params": params,
    }


def benchmark_selection(path: Path) -> dict:
    """{task: {"subsets": list or None, "eval_splits": list or None}} of leafbench's benchmark
    file (None: the task's own)."""
    out = {}
    for item in yaml.safe_load(path.read_text())["tasks"]:
        if isinstance(item, str):
            item = {"name": item}
        out[item["name"]] = {"subsets": item.get("subsets"), "eval_splits": item.get("eval_splits")}
    return out


# --------------------------------------------------------------------------- mteb side


def _resolve(node: ast.AST, task, module_globals: dict):
    """Value of a small expression from task source: a literal, a module constant, or
    `self.<attr>...` read from the task object; otherwise its source text."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        pass
    if isinstance(node, ast.Name) and node.id in module_globals:
        return module_globals[node.id]
    chain, cur = [], node
    while isinstance(cur, ast.Attribute):
        chain.append(cur.attr)
        cur = cur.value
    if isinstance(cur, ast.Name) and cur.id == "self":
        value = task
        for attr in reversed(chain):
            value = getattr(value, attr, None)
        return list(value) if isinstance(value, tuple) else value
    return ast.unparse(node)


def _own_methods(task):
    """(function AST, module globals) of each method written in mteb's task files for this
    task's class chain (not the abstract task classes)."""
    out = []
    for klass in type(task).__mro__:
        if not klass.__module__.startswith("mteb.tasks."):
            continue
        module_globals = vars(sys.modules[klass.__module__])
        for value in vars(klass).values():
            if inspect.isfunction(value):
                tree = ast.parse(textwrap.dedent(inspect.getsource(value)))
                out.append((tree, module_globals))
    return out


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _stratified_call(node: ast.Call, task, module_globals) -> dict:
    from mteb.abstasks.abstask import AbsTask

    sig = inspect.signature(AbsTask.stratified_subsampling)
    bound = sig.bind(*node.args, **{k.arg: k.value for k in node.keywords})
    args = {
        name: _resolve(value, task, module_globals)
        for name, value in bound.arguments.items()
    }
    for name, param in sig.parameters.items():
        args.setdefault(name, param.default)
    return {
        "size": args["n_samples"],
        "seed": args["seed"],
        "stratify": True,
        "by": args["label"],
        "splits": list(args["splits"]),
        "how": "stratified_subsampling",
    }


def _train_test_split_call(node: ast.Call, task, module_globals) -> dict:
    kw = {k.arg: _resolve(k.value, task, module_globals) for k in node.keywords}
    return {
        "size": kw.get("test_size"),
        "seed": kw.get("seed"),
        "stratify": "stratify_by_column" in kw,
        "by": kw.get("stratify_by_column"),
        "how": "train_test_split",
    }


def _split_separator(func_name: str, module_globals: dict) -> str | None:
    """The `.split(sep)` separator used by a record-mapping function of the task module."""
    func = module_globals.get(func_name)
    if not inspect.isfunction(func):
        return None
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(func)))):
        if isinstance(node, ast.Call) and _call_name(node) == "split" and node.args:
            return _resolve(node.args[0], None, module_globals)
    return None


def scan_transforms(task) -> dict:
    """What the task's own methods do to the data and to evaluator attributes."""
    found = {"cuts": [], "renames": {}, "overrides": {}, "label_separator": None,
             "drop_singleton_labels": False, "merged_splits": None}
    for tree, module_globals in _own_methods(task):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if name == "stratified_subsampling":
                    found["cuts"].append(_stratified_call(node, task, module_globals))
                elif name == "train_test_split":
                    found["cuts"].append(_train_test_split_call(node, task, module_globals))
                elif name == "rename_column" and len(node.args) == 2:
                    old, new = (_resolve(a, task, module_globals) for a in node.args)
                    found["renames"][old] = new
                elif name == "rename_columns" and node.args:
                    value = _resolve(node.args[0], task, module_globals)
                    if isinstance(value, dict):
                        found["renames"].update(value)
                elif name == "map" and node.args and isinstance(node.args[0], ast.Name):
                    sep = _split_separator(node.args[0].id, module_globals)
                    found["label_separator"] = sep or found["label_separator"]
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id == "self" and target.attr != "dataset"):
                        found["overrides"][target.attr] = _resolve(node.value, task, module_globals)
            elif isinstance(node, ast.Compare) and _is_count_eq_one(node):
                found["drop_singleton_labels"] = True
            elif isinstance(node, ast.For) and isinstance(node.iter, (ast.List, ast.Tuple)):
                splits = _resolve(node.iter, task, module_globals)
                if isinstance(splits, list) and all(isinstance(s, str) for s in splits):
                    found["merged_splits"] = splits
    return found


def _is_count_eq_one(node: ast.Compare) -> bool:
    """`counts == 1`: the singleton-label filter of StackExchangeClusteringP2P.v2."""
    return (isinstance(node.left, ast.Name) and "count" in node.left.id
            and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
            and isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value == 1)


def _classifier(task) -> dict:
    model = task.evaluator_model
    params = model.get_params()
    keys = ["C", "max_iter", "tol", "penalty", "solver", "fit_intercept", "class_weight"]
    out = {"class": type(model).__name__, **{k: params.get(k) for k in keys}}
    if out["penalty"] == "deprecated":  # sklearn >= 1.8: the penalty follows l1_ratio
        ratio = params.get("l1_ratio") or 0.0
        out["penalty"] = {0.0: "l2", 1.0: "l1"}.get(float(ratio), "elasticnet")
    return out


def _plain(value):
    """Tuples (mteb's k_values) as lists, for JSON and comparison."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def mteb_view(task, bench_task) -> dict:
    """mteb's side, in leafbench's field names, with dataset_transform overrides applied."""
    from mteb.abstasks.clustering_legacy import AbsTaskClusteringLegacy
    from mteb.abstasks.retrieval import AbsTaskRetrieval

    meta = task.metadata
    transforms = scan_transforms(task)
    kind = meta.type
    params = {}
    for leaf_name, attr in MTEB_ATTRS.get(kind, {}).items():
        value = transforms["overrides"].get(attr, getattr(task, attr, None))
        params[leaf_name] = _plain(value)
    params["seed"] = task.seed
    if kind == "Classification":
        params["classifier"] = _classifier(task)
    if kind == "Clustering":
        params["legacy"] = isinstance(task, AbsTaskClusteringLegacy)
        params["label_separator"] = transforms["label_separator"]
        params["drop_singleton_labels"] = transforms["drop_singleton_labels"]
    if kind == "Summarization":
        params["evaluator"] = getattr(type(task), "evaluator", None).__name__
    if kind == "Reranking":
        params["max_over_subqueries"] = _merges_subqueries(task)
    if kind in ("Classification", "Clustering"):
        params["test_subsample"] = _test_cut(transforms["cuts"])
    source = bench_task if bench_task is not None else task
    return {
        "type": kind,
        "class": type(task).__mro__[1].__name__,
        "dataset": {
            "path": meta.dataset.get("path"),
            "revision": meta.dataset.get("revision"),
            "fast_loading": bool(getattr(task, "fast_loading", False)),
            # mteb 2 reads every Reranking task as a retrieval split with its top_ranked config.
            "top_ranked": kind == "Reranking" and isinstance(task, AbsTaskRetrieval),
            "rename_columns": transforms["renames"],
        },
        "hf_subsets": list(meta.hf_subsets),
        "eval_langs": {k: list(v) for k, v in meta.hf_subsets_to_langscripts.items()},
        "selected_subsets": list(source.hf_subsets),
        "in_benchmark": bench_task is not None,
        "eval_splits": list(source.eval_splits),
        "metadata_eval_splits": list(meta.eval_splits),
        "main_score": meta.main_score,
        "params": params,
        "cuts": transforms["cuts"],
        "merged_splits": transforms["merged_splits"],
    }


def _merges_subqueries(task) -> bool:
    """Whether the task's own scores merge sub-queries (MindSmall's task_specific_scores)."""
    for tree, _ in _own_methods(task):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "max_over_subqueries":
                return True
    return False


def _test_cut(cuts: list[dict]):
    """The test cut in leafbench's `test_subsample` form, or None."""
    for cut in cuts:
        if "test" in cut.get("splits", ["test"]):
            return {"size": cut["size"], "seed": cut["seed"], "stratify": cut["stratify"]}
    return None


# --------------------------------------------------------------------------- comparison


def compare(leaf: dict, mteb: dict, selected) -> list[tuple[str, str, object, object]]:
    """(column, field, leafbench value, mteb value) for each difference. `selected`: what
    leafbench's benchmark file selects of the task (see `benchmark_selection`), or None."""
    diffs = []

    def check(column, field, ours, theirs):
        if _norm(ours) != _norm(theirs):
            diffs.append((column, field, ours, theirs))

    ds = leaf["dataset"]
    check("path", "dataset.path", ds["path"], mteb["dataset"]["path"])
    check("revision", "dataset.revision", ds["revision"], mteb["dataset"]["revision"])
    check("type", "type", TYPE_MAP.get(leaf["type"], leaf["type"]), mteb["type"])
    check("eval_splits", "eval_splits", leaf["eval_splits"], mteb["metadata_eval_splits"])
    check("subset", "dataset.subsets", leaf["subsets"], mteb["hf_subsets"])
    check("subset", "languages", leaf["languages"], mteb["eval_langs"])
    if mteb["in_benchmark"]:
        selected = selected or {}
        check("subset", "benchmark.subsets", selected.get("subsets") or leaf["subsets"],
              mteb["selected_subsets"])
        check("eval_splits", "benchmark.eval_splits",
              selected.get("eval_splits") or leaf["eval_splits"], mteb["eval_splits"])
    elif selected is not None:
        check("subset", "benchmark", "in leafbench's benchmark file", "not in mteb's benchmark")
    check("fast_loading", "dataset.fast_loading", ds["fast_loading"],
          mteb["dataset"]["fast_loading"])
    check("path", "dataset.top_ranked", ds["top_ranked"], mteb["dataset"]["top_ranked"])
    check("rename_columns", "dataset.rename_columns", ds["rename_columns"],
          mteb["dataset"]["rename_columns"])
    check("transform", "dataset.concat_splits", ds["concat_splits"], mteb["merged_splits"] or [])
    check("main_score", "main_score", leaf["main_score"], mteb["main_score"])
    ours = leaf["params"]
    for key, theirs in mteb["params"].items():
        column = "test_subsample" if key == "test_subsample" else "params"
        check(column, f"params.{key}", ours.get(key, "<not in spec>"), theirs)
    for key in ours:
        if key not in mteb["params"]:
            check("params", f"params.{key}", ours[key], "<no mteb counterpart>")
    return diffs


def _norm(value):
    """Equal-as-data form: tuples as lists, ints and floats alike, empty mappings as None."""
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()} or None
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


# --------------------------------------------------------------------------- reports


def fmt(value, limit: int | None = 12) -> str:
    """JSON text of a value; a list longer than `limit` shows its head and its length."""
    if limit and isinstance(value, list) and len(value) > limit:
        value = value[:5] + [f"... {len(value)} in all"]
    return json.dumps(value, default=str, ensure_ascii=False)


def subset_line(name: str, mteb: dict) -> str:
    subsets = mteb["hf_subsets"]
    shown = f"{subsets} ({len(subsets)})" if len(subsets) > 1 else str(subsets)
    chosen = (f"{BENCHMARK} selects {mteb['selected_subsets']} (splits {mteb['eval_splits']})"
              if mteb["in_benchmark"] else f"not in {BENCHMARK}")
    return f"SUBSETS {name}: mteb hf_subsets={shown}; {chosen}"


def markdown_table(rows: list[dict]) -> str:
    head = "| task | " + " | ".join(TABLE_COLUMNS) + " |"
    sep = "|" + "---|" * (len(TABLE_COLUMNS) + 1)
    lines = [head, sep]
    for row in rows:
        cells = []
        for column in TABLE_COLUMNS:
            found = [d for d in row["diffs"] if d["column"] == column]
            if row.get("error"):
                cells.append("n/a")
            elif not found:
                cells.append("✓")
            else:
                cells.append("<br>".join(
                    f"{d['field'].split('.')[-1]}: {_short(d['leafbench'])} → {_short(d['mteb'])}"
                    for d in found))
        lines.append(f"| {row['task']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _short(value) -> str:
    text = fmt(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{40}", value):
        text = value[:10]
    return text.replace("|", "\\|")


def load_known(path: Path | None) -> list[dict]:
    """The known differences: [{task, field, reason}]."""
    if path is None or not path.exists():
        return []
    entries = yaml.safe_load(path.read_text()) or []
    for e in entries:
        if not all(e.get(k) for k in ("task", "field", "reason")):
            raise SystemExit(f"{path}: every entry needs task, field and reason: {e}")
    return entries


def audit(leaf_tasks: list[dict], selection: dict, known: list[dict]):
    """(rows, report lines, number of unexplained differences and stale entries)."""
    import mteb

    bench = {t.metadata.name: t for t in mteb.get_benchmark(BENCHMARK).tasks}
    rows, lines, used = [], [], set()
    failures = 0
    for entry in sorted(leaf_tasks, key=lambda t: (t["name"], t.get("edition") or "")):
        leaf = load_leaf_task(entry)
        # An edition (`name@mteb2`) is audited against mteb's task of its name, under its key.
        name, key = leaf["name"], leaf["key"]
        try:
            task = mteb.get_task(name)
        except Exception as err:  # noqa: BLE001 - an unknown task is itself a finding
            rows.append({"task": name, "error": str(err), "diffs": [
                {"column": "type", "field": "task", "leafbench": name, "mteb": f"missing: {err}"}]})
            lines.append(f"DIFF {name} task: leafbench={name!r} mteb=missing ({err})")
            failures += 1
            continue
        theirs = mteb_view(task, bench.get(name))
        diffs = [
            {"column": c, "field": f, "leafbench": o, "mteb": t}
            for c, f, o, t in compare(leaf, theirs, selection.get(key))
        ]
        rows.append({"task": key, "leafbench": leaf, "mteb": theirs, "diffs": diffs})
        for d in diffs:
            why = next((i for i, k in enumerate(known)
                        if k["task"] == key and k["field"] == d["field"]), None)
            tag = "DIFF" if why is None else "KNOWN"
            failures += why is None
            if why is not None:
                used.add(why)
                d["known"] = known[why]["reason"]
            lines.append(f"{tag} {key} {d['field']}: leafbench={fmt(d['leafbench'])} "
                         f"mteb={fmt(d['mteb'])}" + (f" ({d['known']})" if why is not None else ""))
    for i, k in enumerate(known):
        if i not in used:
            lines.append(f"STALE {k['task']} {k['field']}: listed as known, but no longer differs")
            failures += 1
    lines.append("")
    for row in rows:
        if "mteb" in row:
            lines.append(subset_line(row["task"], row["mteb"]))
    n_diff = sum(len(r["diffs"]) for r in rows)
    n_tasks = sum(1 for r in rows if r["diffs"])
    lines.append("")
    lines.append(f"{len(rows)} tasks audited; {n_diff} differences in {n_tasks} tasks, "
                 f"{failures} unexplained or stale.")
    return rows, lines, failures


def data_stats_lines(root: Path) -> tuple[list[str], int]:
    """tasks/data_stats.json against a fresh draw from the installed mteb: (lines, failures)."""
    import importlib.util

    import mteb
    import yaml

    spec = importlib.util.spec_from_file_location("make_data_stats", root / "scripts" / "make_data_stats.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    shipped = json.loads((root / "tasks" / "data_stats.json").read_text())["tasks"]
    lines, failures = [], 0
    for path in sorted((root / "tasks").glob("*.yaml")):
        task = yaml.safe_load(path.read_text())
        name = maker.key_of(task)
        ours = shipped.get(name)
        if ours is None:
            lines.append(f"DIFF {name} data_stats: no figures in tasks/data_stats.json")
            failures += 1
        elif not ours["source"].startswith(f"mteb {mteb.__version__}:"):
            lines.append(f"SKIP {name} data_stats: figures from {ours['source']}")
        elif maker.task_entry(task, None)["subsets"] != ours["subsets"]:
            lines.append(f"DIFF {name} data_stats: tasks/data_stats.json differs from mteb "
                         f"{mteb.__version__}'s statistics (rerun scripts/make_data_stats.py)")
            failures += 1
    lines.append(f"data statistics: {len(shipped)} tasks in tasks/data_stats.json, {failures} differ.")
    return lines, failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--leafbench-json", type=Path, required=True)
    parser.add_argument("--known", type=Path, default=root / "tasks" / "audit" / "known_differences.yaml")
    parser.add_argument("--benchmark-file", type=Path,
                        default=root / "tasks" / "benchmarks" / "mteb-eng-v2.yaml")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)

    import mteb

    leaf_tasks = json.loads(args.leafbench_json.read_text())
    rows, lines, failures = audit(leaf_tasks, benchmark_selection(args.benchmark_file),
                                  load_known(args.known))
    stats_lines, stats_failures = data_stats_lines(root)
    lines += stats_lines
    failures += stats_failures
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(
            {"mteb_version": mteb.__version__, "tasks": rows}, indent=2, default=str))
    if args.markdown:
        args.markdown.write_text(
            f"# leafbench tasks vs mteb {mteb.__version__}\n\n"
            f"Cell: ✓ = same, else `leafbench → mteb`.\n\n{markdown_table(rows)}\n\n"
            "## Output\n\n```\n" + "\n".join(lines) + "\n```\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
