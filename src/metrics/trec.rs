//! Retrieval metrics exactly as mteb 2.26 reports them for a retrieval task.
//!
//! mteb (`mteb/_evaluators/retrieval_metrics.py::calculate_retrieval_scores`) combines three
//! sources, all reproduced here:
//!
//! - **pytrec_eval 0.5.11** (trec_eval semantics) for `ndcg_cut`, `map_cut`, `recall`, `P` and
//!   `success`, reported as `ndcg_at_k`, `map_at_k`, `recall_at_k`, `precision_at_k` and
//!   `hit_rate_at_k`. Each is the mean over the evaluated queries, **rounded to 5 decimals**
//!   (Python `round(x, 5)`). `accuracy` is `recall_at_1` (already rounded).
//! - **mteb's own `mrr` helper** for `mrr_at_k`: the mean reciprocal rank of the first relevant
//!   doc within the top k, **not rounded**.
//! - **mteb's `evaluate_abstention`** for `nauc_{ndcg,map,recall,precision,mrr}_at_k_{max,std,diff1}`
//!   (no hit-rate nAUC): the normalised area under the abstention curve (arXiv 2402.12997) of the
//!   per-query metric, abstaining on the queries with the lowest confidence. The confidence of a
//!   query is computed from its retrieved scores: `max` (top score), `std` (population standard
//!   deviation, `np.std`) or `diff1` (top score minus the second; 0 for a single doc). Not rounded;
//!   NaN when the metric is the same for every query (the oracle curve is flat).
//!
//! `main_score` is `ndcg_at_10` (the metadata main score of every retrieval task here; it is only
//! emitted when 10 is among the k values).
//!
//! # Which queries are evaluated
//!
//! - mteb drops the queries whose qrels dict is **empty** before searching
//!   (`_filter_queries_without_positives`). A query whose judgments are all grade 0 (or negative)
//!   is kept: it is evaluated and scores 0 everywhere.
//! - The remaining queries are searched, so the run mteb scores holds no other query. A run query
//!   absent from (or empty in) the qrels is therefore ignored here (calling mteb's scorer directly
//!   with such a query raises `KeyError` in its `mrr` helper).
//! - A qrels query absent from the run is not evaluated (pytrec_eval scores only queries present in
//!   both; mteb's `mrr` and confidences iterate over the run). A query present in the run with an
//!   **empty** doc map *is* evaluated: every metric 0, confidences (0, 0, 0).
//! - Means divide by the number of evaluated queries. With none, mteb raises
//!   (`ZeroDivisionError`); here every metric is NaN.
//!
//! # trec_eval rules (pytrec_eval)
//!
//! - Scores are read as C `float`: the run is `f32`, so scores equal as `f32` are ties.
//! - Ranking: score descending, ties by doc id descending (`strcmp(b, a)`, byte order).
//! - Docs absent from the qrels are non-relevant; relevant means grade >= 1.
//! - nDCG: gain = the raw grade (linear, only grades > 0 count), discount `1/log2(rank+1)`; the
//!   ideal ranking sorts the positive grades of *all* judged docs. IDCG = 0 gives 0.
//! - `map_cut.k` sums precision@r over the relevant docs retrieved at r <= k and divides by the
//!   number of relevant judged docs (not by min(k, ...)). `P.k` divides by k even when fewer docs
//!   were retrieved. Queries without a relevant doc score 0 in recall and map.
//!
//! # Float order
//!
//! Queries are taken in ascending id order, each query's scores in rank order. mteb sums in its
//! run's insertion order (query order of the dataset, docs in heap order), which a `HashMap`
//! cannot carry: for a run inserted in the order used here, every value is bit-identical to
//! mteb's; otherwise the unrounded values (mrr, nAUC) can differ in the last bits (~1e-16
//! relative), and a rounded mean whose exact value sits on a 5-decimal tie (e.g. a precision mean
//! of 23/1600 = 0.014375) can round to either neighbour, as it does in mteb for another order.
//!
//! mteb's `TaskResult.to_disk` later rounds every float of the result JSON to 6 decimals; that is
//! a serialisation step, not done here.

use std::collections::{BTreeMap, HashMap};

use super::{numpy_mean, numpy_std, numpy_sum};

/// qrels: query id -> (doc id -> relevance grade, already cast to int)
pub type Qrels = HashMap<String, HashMap<String, i64>>;
/// run: query id -> (doc id -> score); scores are the f32 similarities
pub type Run = HashMap<String, HashMap<String, f32>>;

/// Every retrieval metric mteb 2.26 reports, under its names, values as mteb writes them (rounded
/// where mteb rounds).
///
/// `k_values` are mteb's cut-offs (`AbsTaskRetrieval.k_values` = 1, 3, 5, 10, 20, 100, 1000);
/// each k is computed on its own, so any order works. `accuracy` needs k = 1 and `main_score`
/// k = 10 (mteb raises `KeyError` without them; here they are simply left out).
pub fn retrieval_metrics(qrels: &Qrels, run: &Run, k_values: &[usize]) -> BTreeMap<String, f64> {
    let queries = evaluated_queries(qrels, run);
    let judged: Vec<JudgedRanking> = queries
        .iter()
        .map(|q| JudgedRanking::new(&qrels[*q], &run[*q]))
        .collect();
    let confidences: Vec<Confidence> = queries.iter().map(|q| confidence(&run[*q])).collect();

    let mut out = BTreeMap::new();
    for &k in k_values {
        for family in FAMILIES {
            let per_query: Vec<f64> = judged.iter().map(|j| (family.per_query)(j, k)).collect();
            let mean = python_mean(&per_query);
            let value = if family.rounded {
                python_round5(mean)
            } else {
                mean
            };
            out.insert(format!("{}_at_{k}", family.name), value);
            if family.has_nauc {
                insert_naucs(&mut out, family.name, k, &confidences, &per_query);
            }
        }
    }
    // make_score_dict: "accuracy" is recall["Recall@1"] (the multiple-choice tasks' metric).
    if let Some(&recall_1) = out.get("recall_at_1") {
        out.insert("accuracy".into(), recall_1);
    }
    // AbsTask._add_main_score with the retrieval tasks' main score.
    if let Some(&ndcg_10) = out.get("ndcg_at_10") {
        out.insert("main_score".into(), ndcg_10);
    }
    out
}

/// The queries mteb scores, in ascending id order: in the run and with a non-empty qrels dict.
fn evaluated_queries<'a>(qrels: &'a Qrels, run: &'a Run) -> Vec<&'a String> {
    let mut queries: Vec<&String> = run
        .keys()
        .filter(|q| qrels.get(*q).is_some_and(|judged| !judged.is_empty()))
        .collect();
    queries.sort();
    queries
}

// --- per-query metrics ---------------------------------------------------------------------------

/// One metric family as mteb reports it.
struct Family {
    /// Result-JSON prefix: `{name}_at_{k}` and `nauc_{name}_at_{k}_{confidence}`.
    name: &'static str,
    /// `parse_metrics_from_scores` rounds the pytrec_eval means to 5 decimals; the mrr mean is not.
    rounded: bool,
    /// `evaluate_abstention` runs on ndcg / map / recall / precision and on mrr, not on hit rate.
    has_nauc: bool,
    per_query: fn(&JudgedRanking, usize) -> f64,
}

const FAMILIES: [Family; 6] = [
    // (result name, rounded to 5 decimals, has nAUC, per-query measure)
    Family::new("ndcg", true, true, ndcg_cut),
    Family::new("map", true, true, map_cut),
    Family::new("recall", true, true, recall),
    Family::new("precision", true, true, precision),
    Family::new("hit_rate", true, false, success),
    Family::new("mrr", false, true, reciprocal_rank),
];

impl Family {
    const fn new(
        name: &'static str,
        rounded: bool,
        has_nauc: bool,
        per_query: fn(&JudgedRanking, usize) -> f64,
    ) -> Self {
        Family {
            name,
            rounded,
            has_nauc,
            per_query,
        }
    }
}

/// A query's retrieved docs reduced to what the metrics need.
struct JudgedRanking {
    /// Grade of each retrieved doc in rank order; `None` for docs absent from the qrels.
    grades: Vec<Option<i64>>,
    /// Positive grades of all judged docs, descending: trec_eval's ideal ranking for nDCG.
    ideal: Vec<i64>,
    /// Judged docs with grade >= 1 (trec_eval's `num_rel`), retrieved or not.
    num_relevant: usize,
}

impl JudgedRanking {
    fn new(judged: &HashMap<String, i64>, retrieved: &HashMap<String, f32>) -> Self {
        let grades = ranking(retrieved)
            .into_iter()
            .map(|(doc, _)| judged.get(doc).copied())
            .collect();
        let mut ideal: Vec<i64> = judged.values().copied().filter(|&g| g > 0).collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let num_relevant = judged.values().filter(|&&g| is_relevant(g)).count();
        JudgedRanking {
            grades,
            ideal,
            num_relevant,
        }
    }

    /// Grades of the top `k` retrieved docs (all of them when fewer were retrieved).
    fn top(&self, k: usize) -> &[Option<i64>] {
        &self.grades[..k.min(self.grades.len())]
    }

    /// Relevant docs among the top `k`.
    fn relevant_in_top(&self, k: usize) -> usize {
        self.top(k)
            .iter()
            .filter(|g| g.is_some_and(is_relevant))
            .count()
    }
}

/// trec_eval's `relevance_level` 1 (mteb's helpers test `> 0`, the same on integers).
fn is_relevant(grade: i64) -> bool {
    grade >= 1
}

/// trec_eval's order (`form_res_rels.c`): score descending as C float, ties by doc id descending
/// (`strcmp(b, a)`). mteb's helpers sort `(score, doc_id)` in reverse: the same order.
fn ranking(retrieved: &HashMap<String, f32>) -> Vec<(&str, f32)> {
    let mut docs: Vec<(&str, f32)> = retrieved.iter().map(|(d, &s)| (d.as_str(), s)).collect();
    docs.sort_by(|a, b| {
        let by_score = unsigned_zero(b.1).total_cmp(&unsigned_zero(a.1));
        by_score.then_with(|| b.0.cmp(a.0))
    });
    docs
}

/// trec_eval compares scores with `<` / `>` (and Python with `==`), so -0.0 ties with 0.0;
/// `total_cmp` would put -0.0 below 0.0.
fn unsigned_zero(score: f32) -> f32 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// trec_eval `ndcg_cut.k`: DCG of the top k over the ideal DCG of the top k (0 when IDCG is 0).
fn ndcg_cut(query: &JudgedRanking, k: usize) -> f64 {
    let gains = query.top(k).iter().map(|g| g.unwrap_or(0));
    let dcg = discounted_sum(gains);
    let ideal = discounted_sum(query.ideal.iter().take(k).copied());
    if ideal > 0.0 {
        dcg / ideal
    } else {
        dcg
    }
}

/// `sum += gain / log2(rank + 1)` over positive gains, left to right as trec_eval adds them.
fn discounted_sum(gains: impl Iterator<Item = i64>) -> f64 {
    let mut sum = 0.0;
    for (i, gain) in gains.enumerate() {
        if gain > 0 {
            sum += gain as f64 / ((i + 2) as f64).log2();
        }
    }
    sum
}

/// trec_eval `map_cut.k`: precision at each relevant doc within the top k, summed, divided by the
/// number of relevant judged docs.
fn map_cut(query: &JudgedRanking, k: usize) -> f64 {
    let mut found = 0usize;
    let mut sum = 0.0;
    for (i, grade) in query.top(k).iter().enumerate() {
        if grade.is_some_and(is_relevant) {
            found += 1;
            sum += found as f64 / (i + 1) as f64;
        }
    }
    ratio_or_zero(sum, query.num_relevant)
}

/// trec_eval `recall.k`: relevant docs in the top k over all relevant judged docs.
fn recall(query: &JudgedRanking, k: usize) -> f64 {
    ratio_or_zero(query.relevant_in_top(k) as f64, query.num_relevant)
}

/// trec_eval `P.k`: relevant docs in the top k over k, even when fewer than k were retrieved.
fn precision(query: &JudgedRanking, k: usize) -> f64 {
    query.relevant_in_top(k) as f64 / k as f64
}

/// trec_eval `success.k` (mteb's hit rate): 1 when a relevant doc is in the top k.
fn success(query: &JudgedRanking, k: usize) -> f64 {
    if query.relevant_in_top(k) > 0 {
        1.0
    } else {
        0.0
    }
}

/// mteb's `mrr` helper: 1/rank of the first relevant doc within the top k, else 0.
fn reciprocal_rank(query: &JudgedRanking, k: usize) -> f64 {
    query
        .top(k)
        .iter()
        .position(|g| g.is_some_and(is_relevant))
        .map_or(0.0, |rank| 1.0 / (rank + 1) as f64)
}

/// trec_eval's guard for queries without relevant docs: the measure stays 0.
fn ratio_or_zero(numerator: f64, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator / denominator as f64
    }
}

// --- aggregation -----------------------------------------------------------------------------------

/// mteb's `sum(values) / len(values)`: Python 3.11's `sum` adds floats left to right.
fn python_mean(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |acc, v| acc + v) / values.len() as f64
}

/// Python's `round(x, 5)`: the decimal rounding of the exact binary value (ties to even), read
/// back as the nearest double. Rust's `{:.5}` formats exactly with the same tie rule.
fn python_round5(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.5}").parse().expect("a formatted float parses")
}

// --- nAUC (mteb `evaluate_abstention`) -------------------------------------------------------------

/// mteb's `confidence_scores` of one query: computed from its retrieved scores (as float64).
struct Confidence {
    max: f64,
    std: f64,
    diff1: f64,
}

/// Reads one confidence function's value.
type ConfidenceFn = fn(&Confidence) -> f64;

/// The three confidence functions, in mteb's key order.
const CONFIDENCE_FNS: [(&str, ConfidenceFn); 3] = [
    ("max", |c| c.max),
    ("std", |c| c.std),
    ("diff1", |c| c.diff1),
];

fn confidence(retrieved: &HashMap<String, f32>) -> Confidence {
    // Rank order: descending scores, which is what mteb's max / diff1 read.
    let scores: Vec<f64> = ranking(retrieved)
        .iter()
        .map(|&(_, s)| f64::from(s))
        .collect();
    match scores.as_slice() {
        [] => Confidence {
            max: 0.0,
            std: 0.0,
            diff1: 0.0,
        },
        [only] => Confidence {
            max: *only,
            std: 0.0,
            diff1: 0.0,
        },
        [first, second, ..] => Confidence {
            max: *first,
            std: numpy_std(&scores),
            diff1: first - second,
        },
    }
}

/// Adds `nauc_{name}_at_{k}_{max,std,diff1}` for one per-query metric vector.
fn insert_naucs(
    out: &mut BTreeMap<String, f64>,
    name: &str,
    k: usize,
    confidences: &[Confidence],
    per_query: &[f64],
) {
    for (fct, read) in CONFIDENCE_FNS {
        let conf: Vec<f64> = confidences.iter().map(read).collect();
        out.insert(format!("nauc_{name}_at_{k}_{fct}"), nauc(&conf, per_query));
    }
}

/// mteb's `nauc`: where the abstention curve's area falls between the flat curve's (0) and the
/// oracle's (1). NaN when the oracle is flat too (every query has the same metric).
fn nauc(conf: &[f64], metric: &[f64]) -> f64 {
    let rates = abstention_rates();
    let raw_auc = trapezoid_auc(&rates, &abstention_curve(conf, metric, &rates));
    let oracle_curve = abstention_curve(metric, metric, &rates);
    let oracle_auc = trapezoid_auc(&rates, &oracle_curve);
    let flat_auc = oracle_curve[0] * (rates[rates.len() - 1] - rates[0]);
    if oracle_auc == flat_auc {
        f64::NAN
    } else {
        (raw_auc - flat_auc) / (oracle_auc - flat_auc)
    }
}

/// `np.linspace(0, 1, 11)[:-1]`: numpy computes these as `i * 0.1`.
fn abstention_rates() -> [f64; 10] {
    std::array::from_fn(|i| i as f64 * 0.1)
}

/// Mean metric of the queries kept after abstaining on the least confident fraction `rate`.
///
/// Queries are sorted by confidence (stable, ascending); queries tied in confidence share their
/// group's mean metric (mteb #5613), so the cut never depends on the input order inside a tie.
fn abstention_curve(conf: &[f64], metric: &[f64], rates: &[f64]) -> Vec<f64> {
    let n = conf.len();
    if n == 0 {
        return vec![f64::NAN; rates.len()];
    }
    let sorted = tie_averaged_by_confidence(conf, metric);
    rates
        .iter()
        .map(|&rate| {
            // Python's round() on a float64 rounds half to even; at least one query is kept.
            let abstained = ((rate * n as f64).round_ties_even() as usize).min(n - 1);
            numpy_mean(&sorted[abstained..])
        })
        .collect()
}

/// `metric` in ascending confidence order (numpy's stable argsort), each run of equal confidences
/// replaced by its mean (`np.add.reduceat(...) / group_size`).
fn tie_averaged_by_confidence(conf: &[f64], metric: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..conf.len()).collect();
    // NaN sorts last as in numpy; -0.0 and 0.0 compare equal (stable order kept).
    order.sort_by(|&a, &b| {
        conf[a]
            .partial_cmp(&conf[b])
            .unwrap_or_else(|| conf[a].is_nan().cmp(&conf[b].is_nan()))
    });
    let mut sorted: Vec<f64> = order.iter().map(|&i| metric[i]).collect();
    let mut start = 0;
    while start < order.len() {
        // Group boundaries use `!=`, so NaN confidences each start their own group.
        let mut end = start + 1;
        while end < order.len() && conf[order[end]] == conf[order[end - 1]] {
            end += 1;
        }
        let group = &mut sorted[start..end];
        let mean = reduceat_sum(group) / group.len() as f64;
        group.fill(mean);
        start = end;
    }
    sorted
}

/// One segment of `np.add.reduceat`: numpy seeds the segment with its first element and adds the
/// rest as a pairwise sum (not the same association as `np.sum` of the segment).
fn reduceat_sum(segment: &[f64]) -> f64 {
    segment[0] + numpy_sum(&segment[1..])
}

/// `sklearn.metrics.auc(x, y)` for increasing x: `np.trapezoid(y, x)`, i.e. the numpy sum of
/// `dx * (y[i+1] + y[i]) / 2`.
fn trapezoid_auc(x: &[f64], y: &[f64]) -> f64 {
    let areas: Vec<f64> = (1..x.len())
        .map(|i| (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0)
        .collect();
    numpy_sum(&areas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture;
    use serde_json::Value;

    fn qrels_of(case: &Value) -> Qrels {
        let obj = case["qrels"].as_object().expect("qrels object");
        obj.iter()
            .map(|(q, docs)| {
                let docs = docs.as_object().expect("qrels docs object");
                let grades = docs
                    .iter()
                    .map(|(d, g)| (d.clone(), g.as_i64().expect("integer grade")))
                    .collect();
                (q.clone(), grades)
            })
            .collect()
    }

    fn run_of(case: &Value) -> Run {
        let obj = case["run"].as_object().expect("run object");
        obj.iter()
            .map(|(q, docs)| {
                let docs = docs.as_object().expect("run docs object");
                let scores = docs
                    .iter()
                    .map(|(d, s)| {
                        let wide: f64 = s.as_str().expect("score string").parse().expect("float");
                        let score = wide as f32;
                        assert_eq!(f64::from(score), wide, "fixture score is not an f32");
                        (d.clone(), score)
                    })
                    .collect();
                (q.clone(), scores)
            })
            .collect()
    }

    fn k_values_of(case: &Value) -> Vec<usize> {
        fixture::ints(case, "k_values")
            .into_iter()
            .map(|k| k as usize)
            .collect()
    }

    fn expected_of(case: &Value) -> BTreeMap<String, f64> {
        let obj = case["expected"].as_object().expect("expected object");
        obj.keys()
            .map(|k| (k.clone(), fixture::float(&case["expected"], k)))
            .collect()
    }

    fn run_case(case: &Value) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
        let got = retrieval_metrics(&qrels_of(case), &run_of(case), &k_values_of(case));
        (got, expected_of(case))
    }

    #[test]
    fn matches_mteb_fixtures() {
        let cases = fixture::cases("trec.json");
        assert!(cases.len() >= 9);
        for case in &cases {
            let name = fixture::name(case);
            let (got, expected) = run_case(case);
            let got_names: Vec<&String> = got.keys().collect();
            let expected_names: Vec<&String> = expected.keys().collect();
            assert_eq!(got_names, expected_names, "{name}: metric names");
            let canonical = case["canonical_order"].as_bool().expect("canonical_order");
            for (metric, &want) in &expected {
                let what = format!("{name}: {metric}");
                if canonical {
                    // Same inputs in the same order as mteb: the same bits.
                    fixture::assert_bits(got[metric], want, &what);
                } else {
                    // mteb summed in a shuffled order: the unrounded means (mrr, nAUC) differ in
                    // the last bits only, but a mean sitting on a 5-decimal tie (0.014375 =
                    // 23/1600 here) rounds either way, one unit in the 5th decimal apart.
                    let unrounded = metric.starts_with("mrr") || metric.starts_with("nauc");
                    let floor = if unrounded { 1e-15 } else { 1e-5 + 1e-12 };
                    fixture::assert_close(got[metric], want, 1e-12, floor, &what);
                }
            }
        }
    }

    #[test]
    fn scifact_metric_names() {
        let cases = fixture::cases("trec.json");
        let (got, _) = run_case(&cases[0]);
        // 6 families x 7 k + 5 nAUC families x 7 k x 3 confidences + accuracy + main_score.
        assert_eq!(got.len(), 6 * 7 + 5 * 7 * 3 + 2);
        for key in [
            "ndcg_at_1000",
            "hit_rate_at_3",
            "nauc_precision_at_20_diff1",
            "accuracy",
        ] {
            assert!(got.contains_key(key), "{key} missing");
        }
        assert!(!got.keys().any(|k| k.starts_with("nauc_hit_rate")));
    }

    fn one_query(grades: &[(&str, i64)], scores: &[(&str, f32)]) -> (Qrels, Run) {
        let judged = grades.iter().map(|&(d, g)| (d.to_string(), g)).collect();
        let run = scores.iter().map(|&(d, s)| (d.to_string(), s)).collect();
        (
            HashMap::from([("q".to_string(), judged)]),
            HashMap::from([("q".to_string(), run)]),
        )
    }

    #[test]
    fn ties_rank_by_doc_id_descending() {
        // "b" and "a" tie; "b" ranks first, so the relevant "a" sits at rank 2.
        let (qrels, run) = one_query(&[("a", 1)], &[("a", 0.5), ("b", 0.5)]);
        let m = retrieval_metrics(&qrels, &run, &[1, 2]);
        assert_eq!(m["mrr_at_2"], 0.5);
        assert_eq!(m["precision_at_1"], 0.0);
        // -0.0 and 0.0 are one tie too.
        let (qrels, run) = one_query(&[("a", 1)], &[("a", 0.0), ("b", -0.0)]);
        assert_eq!(retrieval_metrics(&qrels, &run, &[1])["mrr_at_1"], 0.0);
    }

    #[test]
    fn ndcg_uses_linear_gains_and_all_judged_docs() {
        // Grade 2 at rank 2, grade 1 unretrieved: DCG = 2/log2(3), IDCG = 2 + 1/log2(3).
        let (qrels, run) = one_query(&[("a", 2), ("b", 1), ("c", -1)], &[("c", 0.9), ("a", 0.8)]);
        let m = retrieval_metrics(&qrels, &run, &[5]);
        let expect = (2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
        assert_eq!(m["ndcg_at_5"], python_round5(expect));
        // map divides by both relevant docs: (1/2) / 2.
        assert_eq!(m["map_at_5"], 0.25);
    }

    #[test]
    fn unjudged_run_queries_and_empty_qrels_are_ignored() {
        let (mut qrels, mut run) = one_query(&[("a", 1)], &[("a", 0.5)]);
        run.insert("extra".into(), HashMap::from([("a".to_string(), 0.9)]));
        qrels.insert("empty".into(), HashMap::new());
        run.insert("empty".into(), HashMap::new());
        qrels.insert("unsearched".into(), HashMap::from([("a".to_string(), 1)]));
        let m = retrieval_metrics(&qrels, &run, &[1]);
        assert_eq!(m["recall_at_1"], 1.0);
        assert!(
            m["nauc_recall_at_1_max"].is_nan(),
            "a single query gives a flat oracle"
        );
    }

    #[test]
    fn rounding_follows_python() {
        assert_eq!(python_round5(0.015625), 0.01562); // exact tie: half to even
        assert_eq!(python_round5(0.046875), 0.04688);
        assert_eq!(python_round5(2.0 / 3.0), 0.66667);
    }

    #[test]
    fn no_evaluated_query_gives_nan() {
        let (qrels, _) = one_query(&[("a", 1)], &[]);
        let m = retrieval_metrics(&qrels, &Run::new(), &[1, 10]);
        assert!(m.values().all(|v| v.is_nan()));
    }
}
