//! Evaluating one task with one model at one grid cell: each task type's data is loaded,
//! encoded with the roles MTEB uses for it, and handed to that type's evaluator. Similarity-based
//! types (STS, pair classification, summarization, reranking, retrieval) score the cell's
//! [`View`](crate::compress::view::View); feature-based types (classification, clustering) learn
//! from the cell's feature vectors.

use std::collections::HashMap;

use crate::data::indices::subsample_indices;
use crate::data::retrieval::{retrieval_split, Unmatched};
use crate::data::{typed, DataSource};
use crate::embedder::{CellEncoder, Part};
use crate::encoder::Role;
use crate::error::Result;
use crate::task::scores::Scores;
use crate::task::spec::ClusteringParams;
use crate::task::{
    classification, clustering, pair_classification, reranking, retrieval, sts, summarization,
    TaskKind, TaskSpec,
};

/// Scores of each evaluated split of `task`.
pub fn evaluate_task(
    task: &TaskSpec,
    enc: &CellEncoder,
    data: &DataSource,
    rescore_multiplier: usize,
) -> Result<Vec<(String, Scores)>> {
    task.eval_splits
        .iter()
        .map(|split| {
            Ok((
                split.clone(),
                evaluate_split(task, split, enc, data, rescore_multiplier)?,
            ))
        })
        .collect()
}

fn evaluate_split(
    task: &TaskSpec,
    split: &str,
    enc: &CellEncoder,
    data: &DataSource,
    rescore_multiplier: usize,
) -> Result<Scores> {
    match &task.kind {
        TaskKind::Sts(params) => {
            let data = typed::sts_split(&data.load_split(task, split)?)?;
            let e1 = enc.view(&data.sentence1, Role::Plain, Part::Eval)?;
            let e2 = enc.view(&data.sentence2, Role::Plain, Part::Eval)?;
            Ok(sts::evaluate(&data, &e1, &e2, params))
        }
        TaskKind::Classification(params) => {
            let records = data.load_split(task, split)?;
            let train = typed::labelled_split(&data.load_split(task, &params.train_split)?)?;
            let mut test = typed::labelled_split(&records)?;
            if params.test_subsample.is_some() {
                let keep = subsample_indices(&data.indices_dir, &task.name, test.texts.len())?;
                test = typed::LabelledSplit {
                    texts: keep.iter().map(|&i| test.texts[i].clone()).collect(),
                    labels: keep.iter().map(|&i| test.labels[i].clone()).collect(),
                };
            }
            let exps = classification::experiments(&train, params);
            let needed: Vec<String> = exps
                .needed
                .iter()
                .map(|&i| train.texts[i].clone())
                .collect();
            let needed_emb = enc.features(&needed, Role::Plain, Part::Train)?;
            let test_emb = enc.features(&test.texts, Role::Plain, Part::Eval)?;
            let origin = records.origin();
            classification::evaluate(origin, &train, &exps, &needed_emb, &test, &test_emb)
        }
        TaskKind::PairClassification(_) => {
            let data = typed::pair_classification_split(data.load_split(task, split)?)?;
            let (unique, left, right) = distinct_pairs(&data.sentence1, &data.sentence2);
            let view = enc.view(&unique, Role::Plain, Part::Eval)?;
            Ok(pair_classification::evaluate(&data, &view, &left, &right))
        }
        TaskKind::Summarization(params) => {
            let rows = typed::summarization_split(&data.load_split(task, split)?)?;
            let human: Vec<String> = rows
                .iter()
                .flat_map(|r| r.human_summaries.clone())
                .collect();
            let machine: Vec<String> = rows
                .iter()
                .flat_map(|r| r.machine_summaries.clone())
                .collect();
            let eh = enc.view(&human, Role::Plain, Part::Eval)?;
            let em = enc.view(&machine, Role::Plain, Part::Eval)?;
            Ok(summarization::evaluate(&rows, &eh, &em, params))
        }
        TaskKind::Clustering(params) => {
            let split_data = typed::clustering_split(&data.load_split(task, split)?)?;
            if params.legacy {
                let emb = enc.features(&split_data.sentences, Role::Plain, Part::Eval)?;
                return clustering::evaluate_legacy(
                    &task.name,
                    &split_data.labels,
                    &split_data.sets,
                    &emb,
                );
            }
            let split_data = clustering_transform(task, data, params, split_data)?;
            let sample = clustering::subsample(split_data.sentences.len(), params);
            let texts: Vec<String> = sample
                .indices
                .iter()
                .map(|&i| split_data.sentences[i].clone())
                .collect();
            let labels: Vec<Vec<String>> = sample
                .indices
                .iter()
                .map(|&i| label_levels(&split_data.labels[i], params))
                .collect();
            let emb = enc.features(&texts, Role::Plain, Part::Eval)?;
            clustering::evaluate(&task.name, &labels, &emb, sample, params)
        }
        TaskKind::Reranking(params) => {
            let samples = typed::reranking_split(&data.load_split(task, split)?)?;
            let query_texts = unique(samples.iter().flat_map(|s| s.query.iter()));
            let doc_texts = unique(
                samples
                    .iter()
                    .flat_map(|s| s.positive.iter().chain(&s.negative)),
            );
            let queries = reranking::Encoded {
                rows: index_of(&query_texts),
                view: enc.view(&owned(&query_texts), Role::Query, Part::Eval)?,
            };
            let docs = reranking::Encoded {
                rows: index_of(&doc_texts),
                view: enc.view(&owned(&doc_texts), Role::Document, Part::Train)?,
            };
            Ok(reranking::evaluate(
                &samples,
                &queries,
                &docs,
                split,
                &params.k_values,
            ))
        }
        TaskKind::Retrieval(params) => {
            let parts = data.load_retrieval(task, split)?;
            let split_data = retrieval_split(&parts.corpus, &parts.queries, &parts.qrels)?;
            warn_unmatched(&task.name, &split_data.unmatched);
            let queries = enc.view(&split_data.query_texts, Role::Query, Part::Eval)?;
            let rescore = if enc.compressor.setting.rescore {
                Some(retrieval::Rescore {
                    queries: enc.truncated(&split_data.query_texts, Role::Query, Part::Eval)?,
                    multiplier: rescore_multiplier,
                })
            } else {
                None
            };
            let run = retrieval::search(&split_data, &queries, rescore, |texts| {
                enc.view(texts, Role::Document, Part::Train)
            })?;
            Ok(retrieval::evaluate(&split_data, run, params))
        }
    }
}

/// MTEB's per-task transforms that leafbench expresses as parameters.
fn clustering_transform(
    task: &TaskSpec,
    data: &DataSource,
    params: &ClusteringParams,
    mut split: typed::ClusteringSplit,
) -> Result<typed::ClusteringSplit> {
    if params.test_subsample.is_some() {
        let keep = subsample_indices(&data.indices_dir, &task.name, split.sentences.len())?;
        split = typed::ClusteringSplit {
            sentences: keep.iter().map(|&i| split.sentences[i].clone()).collect(),
            labels: keep.iter().map(|&i| split.labels[i].clone()).collect(),
            sets: keep.iter().map(|&i| split.sets[i]).collect(),
        };
    }
    if params.drop_singleton_labels {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for l in &split.labels {
            *counts.entry(l).or_default() += 1;
        }
        let keep: Vec<bool> = split
            .labels
            .iter()
            .map(|l| counts[l.as_str()] > 1)
            .collect();
        let pick = |v: &mut Vec<String>| {
            let mut it = keep.iter();
            v.retain(|_| *it.next().expect("one flag per row"));
        };
        pick(&mut split.sentences);
        pick(&mut split.labels);
        split.sets = split
            .sets
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| *s)
            .collect();
    }
    Ok(split)
}

/// A hierarchical label (`cs.AI`) split into its levels; a flat label is one level.
fn label_levels(label: &str, params: &ClusteringParams) -> Vec<String> {
    match &params.label_separator {
        Some(sep) => label.split(sep.as_str()).map(str::to_string).collect(),
        None => vec![label.to_string()],
    }
}

fn warn_unmatched(task: &str, unmatched: &Unmatched) {
    if !unmatched.is_empty() {
        tracing::warn!(
            "{task}: {} judgements name {} queries missing from the queries file (not evaluated); \
             {} judgements name documents missing from the corpus (they count as relevant but \
             cannot be retrieved, as in MTEB)",
            unmatched.judgements_of_missing_queries,
            unmatched.missing_queries,
            unmatched.judgements_of_missing_docs
        );
    }
}

/// Distinct texts in first-seen order.
fn unique<'a>(texts: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    texts
        .filter(|t| seen.insert(t.as_str()))
        .map(String::as_str)
        .collect()
}

fn index_of<'a>(texts: &[&'a str]) -> HashMap<&'a str, usize> {
    texts.iter().enumerate().map(|(i, t)| (*t, i)).collect()
}

fn owned(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

/// Each distinct sentence once (pair sets repeat sentences heavily), and the row of each
/// pair's left and right sentence among them.
fn distinct_pairs(s1: &[String], s2: &[String]) -> (Vec<String>, Vec<usize>, Vec<usize>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut unique: Vec<String> = Vec::new();
    let mut sides = [Vec::with_capacity(s1.len()), Vec::with_capacity(s2.len())];
    for (side, texts) in sides.iter_mut().zip([s1, s2]) {
        for s in texts {
            let row = *index.entry(s.as_str()).or_insert_with(|| {
                unique.push(s.clone());
                unique.len() - 1
            });
            side.push(row);
        }
    }
    let [left, right] = sides;
    (unique, left, right)
}
