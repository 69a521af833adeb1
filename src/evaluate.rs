//! Evaluating one task with one model: each task type's data is loaded, encoded with the
//! roles MTEB uses for it, and handed to that type's evaluator.

use std::collections::HashMap;

use crate::data::indices::subsample_indices;
use crate::data::retrieval::{retrieval_split, Unmatched};
use crate::data::{typed, DataSource};
use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Role};
use crate::error::Result;
use crate::run::ModelEncoders;
use crate::task::scores::Scores;
use crate::task::spec::ClusteringParams;
use crate::task::{
    classification, clustering, pair_classification, reranking, retrieval, sts, summarization,
    TaskKind, TaskSpec,
};

/// Scores of each evaluated split of `task`.
pub fn evaluate_task(
    task: &TaskSpec,
    model: &ModelEncoders,
    data: &DataSource,
    opts: &EncodeOptions,
) -> Result<Vec<(String, Scores)>> {
    task.eval_splits
        .iter()
        .map(|split| {
            Ok((
                split.clone(),
                evaluate_split(task, split, model, data, opts)?,
            ))
        })
        .collect()
}

fn evaluate_split(
    task: &TaskSpec,
    split: &str,
    model: &ModelEncoders,
    data: &DataSource,
    opts: &EncodeOptions,
) -> Result<Scores> {
    match &task.kind {
        TaskKind::Sts(params) => {
            let data = typed::sts_split(&data.load_split(task, split)?)?;
            let e1 = model.encode(&data.sentence1, Role::Plain, opts)?;
            let e2 = model.encode(&data.sentence2, Role::Plain, opts)?;
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
            let needed_emb = model.encode(&needed, Role::Plain, opts)?;
            let test_emb = model.encode(&test.texts, Role::Plain, opts)?;
            let origin = records.origin();
            classification::evaluate(origin, &train, &exps, &needed_emb, &test, &test_emb)
        }
        TaskKind::PairClassification(_) => {
            let data = typed::pair_classification_split(data.load_split(task, split)?)?;
            let (e1, e2) = encode_pairs(model, &data.sentence1, &data.sentence2, opts)?;
            Ok(pair_classification::evaluate(&data, &e1, &e2))
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
            let eh = model.encode(&human, Role::Plain, opts)?;
            let em = model.encode(&machine, Role::Plain, opts)?;
            Ok(summarization::evaluate(&rows, &eh, &em, params))
        }
        TaskKind::Clustering(params) => {
            let split_data = typed::clustering_split(&data.load_split(task, split)?)?;
            if params.legacy {
                let emb = model.encode(&split_data.sentences, Role::Plain, opts)?;
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
            let emb = model.encode(&texts, Role::Plain, opts)?;
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
                embeddings: model.encode(&owned(&query_texts), Role::Query, opts)?,
            };
            let docs = reranking::Encoded {
                rows: index_of(&doc_texts),
                embeddings: model.encode(&owned(&doc_texts), Role::Document, opts)?,
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
            let queries = model.encode(&split_data.query_texts, Role::Query, opts)?;
            let run = retrieval::search(&split_data, &queries, model.similarity()?, |texts| {
                model.encode(texts, Role::Document, opts)
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

/// Embeds each distinct sentence once (pair sets repeat sentences heavily) and returns the
/// embeddings of both sides in pair order.
fn encode_pairs(
    model: &ModelEncoders,
    s1: &[String],
    s2: &[String],
    opts: &EncodeOptions,
) -> Result<(Embeddings, Embeddings)> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut unique: Vec<String> = Vec::new();
    for s in s1.iter().chain(s2) {
        index.entry(s.as_str()).or_insert_with(|| {
            unique.push(s.clone());
            unique.len() - 1
        });
    }
    let emb = model.encode(&unique, Role::Plain, opts)?;
    let gather = |side: &[String]| {
        let mut out = Embeddings::zeros(side.len(), emb.dim);
        for (i, s) in side.iter().enumerate() {
            out.row_mut(i).copy_from_slice(emb.row(index[s.as_str()]));
        }
        out
    };
    Ok((gather(s1), gather(s2)))
}
