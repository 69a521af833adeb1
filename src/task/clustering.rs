//! Clustering, MTEB's v2 "fast" protocol: embed a seeded subsample of the documents
//! (`random.Random(42).sample`), then per label level draw 10 bootstrap sets of 16,384 with
//! `random.choices` from the same generator, cluster each with MiniBatchKMeans (k = number of
//! gold labels at that level, batch 512, seed 42) and score the v-measure; main `v_measure` is
//! the mean over all levels and repetitions. Also MTEB's legacy (v1) protocol.

use std::collections::{BTreeMap, BTreeSet};

use super::scores::Scores;
use super::spec::ClusteringParams;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::learn::kmeans::MiniBatchKMeans;
use crate::metrics::v_measure::{adjusted_mutual_info, v_measure};
use crate::metrics::{numpy_mean, numpy_std};
use crate::rng::python_random::PyRandom;

/// MTEB seeds every task's generator with 42.
const SEED: i64 = 42;

/// What the fast protocol embeds: positions into the split, in draw order, and the generator
/// state the bootstraps continue from.
pub struct Subsample {
    pub indices: Vec<usize>,
    rng: PyRandom,
}

/// The documents to embed: a `max_fraction_of_documents_to_embed` share or
/// `max_document_to_embed` of them drawn without replacement (even when that is all of them:
/// the draw still advances the generator the bootstraps use), else all of them in order.
///
/// The draws come from `stream`, the task's generator: mteb keeps one per task object, so a
/// task with several subsets continues in each the stream the previous one left (see
/// [`skip_bootstraps`]).
pub fn subsample(n_docs: usize, params: &ClusteringParams, stream: &mut PyRandom) -> Subsample {
    let rng = stream;
    let wanted = match (
        params.max_fraction_of_documents_to_embed,
        params.max_document_to_embed,
    ) {
        // Python's int() truncates.
        (Some(f), _) => Some((f * n_docs as f64) as usize),
        (None, Some(m)) => Some(m),
        (None, None) => None,
    };
    let indices = match wanted {
        Some(m) => rng.sample(n_docs, m.min(n_docs)),
        None => (0..n_docs).collect(),
    };
    Subsample {
        indices,
        rng: rng.clone(),
    }
}

/// mteb's task-level generator, before any draw.
pub fn task_stream() -> PyRandom {
    PyRandom::new(SEED)
}

/// Advances `stream` past the bootstrap draws [`evaluate`] makes from a [`Subsample`] cut from
/// it: one `random()` per pick, `max_documents_per_cluster` picks per set, `n_bootstrap` sets
/// per label level. The count does not depend on the embeddings, so the next subset's draws are
/// known before this one is scored.
pub fn skip_bootstraps(stream: &mut PyRandom, levels: usize, params: &ClusteringParams) {
    for _ in 0..levels * params.n_bootstrap * params.max_documents_per_cluster {
        stream.random();
    }
}

/// Scores of the fast protocol on the embedded documents (`labels[i]` belongs to row i of
/// `embeddings`).
pub fn evaluate(
    task: &str,
    labels: &[Vec<String>],
    embeddings: &Embeddings,
    mut sample: Subsample,
    params: &ClusteringParams,
) -> Result<Scores> {
    let depth = labels.iter().map(Vec::len).max().unwrap_or(0);
    let mut v_by_level: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut ami_by_level: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for level in 0..depth {
        let gold = level_labels(labels, level);
        let k = distinct(&gold);
        check_clusterable(task, k)?;
        let kmeans = MiniBatchKMeans::new(k, params.kmeans_batch_size, SEED as u32);
        for _ in 0..params.n_bootstrap {
            let picks = sample
                .rng
                .choices(gold.len(), params.max_documents_per_cluster);
            let x = gather(embeddings, &picks);
            let truth: Vec<&str> = picks.iter().map(|&i| gold[i].as_str()).collect();
            let predicted = kmeans.fit_predict(&x, picks.len(), embeddings.dim);
            let name = format!("Level {level}");
            v_by_level
                .entry(name.clone())
                .or_default()
                .push(v_measure(&truth, &predicted));
            ami_by_level
                .entry(name)
                .or_default()
                .push(adjusted_mutual_info(&truth, &predicted));
        }
    }
    Ok(summarise(v_by_level, ami_by_level))
}

/// Gold labels at one level. MTEB fills a missing level with -1 in a NumPy array of strings,
/// where it becomes the string "-1" and passes its `!= -1` filter: documents without the level
/// stay in, under the label "-1". Reproduced as is.
fn level_labels(labels: &[Vec<String>], level: usize) -> Vec<String> {
    labels
        .iter()
        .map(|l| l.get(level).cloned().unwrap_or_else(|| "-1".to_string()))
        .collect()
}

fn distinct(labels: &[String]) -> usize {
    labels.iter().collect::<BTreeSet<_>>().len()
}

/// One gold label leaves nothing to cluster: every clustering scores 1.
fn check_clusterable(task: &str, k: usize) -> Result<()> {
    if k < 2 {
        return Err(Error::Unsupported {
            task: task.to_string(),
            what: format!(
                "clustering needs at least 2 distinct labels, found {k}; check the labels column"
            ),
        });
    }
    Ok(())
}

fn gather(embeddings: &Embeddings, rows: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|&r| embeddings.row(r).iter().copied())
        .collect()
}

/// MTEB's result layout: per-level lists, their mean and population std.
fn summarise(v: BTreeMap<String, Vec<f64>>, ami: BTreeMap<String, Vec<f64>>) -> Scores {
    let mut scores = Scores::default();
    for (metric, key, by_level) in [("v_measure", "v_measures", &v), ("ami", "ami_scores", &ami)] {
        let flat: Vec<f64> = by_level.values().flatten().copied().collect();
        scores.set(metric, numpy_mean(&flat));
        scores.set(&format!("{metric}_std"), numpy_std(&flat));
        scores.set_value(key, serde_json::json!(by_level));
    }
    scores.main("v_measure");
    scores
}

/// The legacy protocol: each set is clustered whole (k = its number of labels, batch 500,
/// seed 42); `v_measure` is the mean over sets. `sets[i]` is the set of row i.
pub fn evaluate_legacy(
    task: &str,
    labels: &[String],
    sets: &[i64],
    embeddings: &Embeddings,
) -> Result<Scores> {
    let mut members: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (row, set) in sets.iter().enumerate() {
        members.entry(*set).or_default().push(row);
    }
    let mut values = Vec::new();
    for rows in members.values() {
        let gold: Vec<&str> = rows.iter().map(|&r| labels[r].as_str()).collect();
        let k = gold.iter().collect::<BTreeSet<_>>().len();
        check_clusterable(task, k)?;
        let predicted = MiniBatchKMeans::mteb_legacy(k).fit_predict(
            &gather(embeddings, rows),
            rows.len(),
            embeddings.dim,
        );
        values.push(v_measure(&gold, &predicted));
    }
    let mut scores = Scores::default();
    scores.set("v_measure", numpy_mean(&values));
    scores.set("v_measure_std", numpy_std(&values));
    scores.set_value("v_measures", serde_json::json!(values));
    scores.main("v_measure");
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(fraction: Option<f64>) -> ClusteringParams {
        let mut p: ClusteringParams = serde_json::from_str("{}").unwrap();
        p.max_fraction_of_documents_to_embed = fraction;
        p.max_documents_per_cluster = 64;
        p.n_bootstrap = 3;
        p
    }

    /// Two well separated groups along the first axis.
    fn two_groups(n: usize) -> (Vec<Vec<String>>, Embeddings) {
        let labels = (0..n)
            .map(|i| vec![if i % 2 == 0 { "a" } else { "b" }.to_string()])
            .collect();
        let data = (0..n)
            .flat_map(|i| [if i % 2 == 0 { 1.0 } else { -1.0 }, (i % 7) as f32 * 0.01])
            .collect();
        (
            labels,
            Embeddings {
                rows: n,
                dim: 2,
                data,
            },
        )
    }

    #[test]
    fn subsample_follows_python_random() {
        let s = subsample(100, &params(Some(0.04)), &mut task_stream());
        let mut py = PyRandom::new(42);
        assert_eq!(s.indices, py.sample(100, 4));
        assert_eq!(
            subsample(5, &params(None), &mut task_stream()).indices,
            [0, 1, 2, 3, 4]
        );
        // A cap at the split size still draws (a permutation), as MTEB's SIB200 does.
        let mut capped = params(None);
        capped.max_document_to_embed = Some(10);
        let mut py = PyRandom::new(42);
        assert_eq!(
            subsample(6, &capped, &mut task_stream()).indices,
            py.sample(6, 6)
        );
    }

    #[test]
    fn sib200_draws_equal_cpython() {
        // SIB200ClusteringS2S: all 1,004 documents drawn as a sample, then 10 bootstraps of
        // 16,384 from the same generator (tests/fixtures/rng/python_random.json, CPython 3.11).
        use crate::rng::fixture::{assert_chain_sample, assert_summary, load};
        let chain = &load("python_random.json")["clustering_chain_sib200"];
        let mut p = params(None);
        p.max_document_to_embed = Some(1004);
        let mut sample = subsample(1004, &p, &mut task_stream());
        assert_chain_sample(&sample.indices, chain);
        for summary in chain["bootstraps"].as_array().unwrap() {
            assert_summary(&sample.rng.choices(1004, 16_384), summary);
        }
    }

    #[test]
    fn separated_groups_score_one_per_bootstrap() {
        let (labels, emb) = two_groups(40);
        let s = subsample(40, &params(None), &mut task_stream());
        let scores = evaluate("T", &labels, &emb, s, &params(None)).unwrap();
        assert_eq!(scores.main_score(), Some(1.0));
        assert_eq!(
            scores.values["v_measures"]["Level 0"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn missing_levels_become_label_minus_one_and_one_label_is_an_error() {
        let labels = vec![
            vec!["cs".to_string(), "AI".to_string()],
            vec!["hep-th".to_string()],
        ];
        assert_eq!(level_labels(&labels, 1), ["AI", "-1"]);
        let (_, emb) = two_groups(4);
        let same = vec![vec!["x".to_string()]; 4];
        let err = evaluate(
            "T",
            &same,
            &emb,
            subsample(4, &params(None), &mut task_stream()),
            &params(None),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("at least 2 distinct labels, found 1"), "{err}");
    }

    #[test]
    fn legacy_scores_each_set() {
        let (labels, emb) = two_groups(20);
        let flat: Vec<String> = labels.into_iter().map(|mut l| l.remove(0)).collect();
        let sets: Vec<i64> = (0..20).map(|i| (i / 10) as i64).collect();
        let scores = evaluate_legacy("T", &flat, &sets, &emb).unwrap();
        assert_eq!(scores.main_score(), Some(1.0));
        assert_eq!(scores.values["v_measures"].as_array().unwrap().len(), 2);
    }
}
