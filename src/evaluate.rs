//! Evaluating one task with one model at one grid cell: each split's inputs are loaded
//! ([`SplitInputs`]), encoded with the roles MTEB uses for them, and handed to that type's
//! evaluator. Similarity-based types (STS, pair classification, summarization, reranking,
//! retrieval) score the cell's [`View`](crate::compress::view::View); feature-based types
//! (classification, clustering) learn from the cell's feature vectors.

use std::collections::HashMap;

use crate::data::DataSource;
use crate::embedder::CellEncoder;
use crate::encoder::Role;
use crate::error::Result;
use crate::task::scores::{Scores, SubsetScores};
use crate::task::{
    classification, clustering, pair_classification, reranking, retrieval, sts, summarization,
    TaskKind, TaskSpec,
};
use crate::task_inputs::{units, Part, SplitInputs};

/// Scores of each evaluated (split, subset) of `task`, in mteb's order.
pub fn evaluate_task(
    task: &TaskSpec,
    enc: &CellEncoder,
    data: &DataSource,
    rescore_multiplier: usize,
) -> Result<Vec<SubsetScores>> {
    let mut stream = clustering::task_stream();
    units(task)
        .into_iter()
        .map(|u| {
            let inputs = SplitInputs::load(&u.task, &u.split, data, &mut stream)?;
            let scores = evaluate_split(&u.task, &u.split, inputs, enc, rescore_multiplier)?;
            Ok(SubsetScores {
                split: u.split,
                subset: u.subset,
                scores,
            })
        })
        .collect()
}

fn evaluate_split(
    task: &TaskSpec,
    split: &str,
    inputs: SplitInputs,
    enc: &CellEncoder,
    rescore_multiplier: usize,
) -> Result<Scores> {
    let params = &task.kind;
    match inputs {
        SplitInputs::Sts(data) => {
            let TaskKind::Sts(params) = params else {
                unreachable!("STS inputs come from an STS task")
            };
            let e1 = enc.view(&data.sentence1, Role::Plain, Part::Eval)?;
            let e2 = enc.view(&data.sentence2, Role::Plain, Part::Eval)?;
            Ok(sts::evaluate(&data, &e1, &e2, params))
        }
        SplitInputs::Classification {
            origin,
            train,
            exps,
            needed,
            test,
        } => {
            let needed_emb = enc.features(&needed, Role::Plain, Part::Train)?;
            let test_emb = enc.features(&test.texts, Role::Plain, Part::Eval)?;
            classification::evaluate(&origin, &train, &exps, &needed_emb, &test, &test_emb)
        }
        SplitInputs::PairClassification {
            data,
            unique,
            left,
            right,
        } => {
            let view = enc.view(&unique, Role::Plain, Part::Eval)?;
            Ok(pair_classification::evaluate(&data, &view, &left, &right))
        }
        SplitInputs::Summarization {
            rows,
            human,
            machine,
        } => {
            let TaskKind::Summarization(params) = params else {
                unreachable!("summarization inputs come from a summarization task")
            };
            let eh = enc.view(&human, Role::Plain, Part::Eval)?;
            let em = enc.view(&machine, Role::Plain, Part::Eval)?;
            Ok(summarization::evaluate(&rows, &eh, &em, params))
        }
        SplitInputs::LegacyClustering(split_data) => {
            let emb = enc.features(&split_data.sentences, Role::Plain, Part::Eval)?;
            clustering::evaluate_legacy(&task.name, &split_data.labels, &split_data.sets, &emb)
        }
        SplitInputs::Clustering {
            texts,
            labels,
            sample,
        } => {
            let TaskKind::Clustering(params) = params else {
                unreachable!("clustering inputs come from a clustering task")
            };
            let emb = enc.features(&texts, Role::Plain, Part::Eval)?;
            clustering::evaluate(&task.name, &labels, &emb, sample, params)
        }
        SplitInputs::Reranking {
            samples,
            queries,
            documents,
        } => {
            let TaskKind::Reranking(params) = params else {
                unreachable!("reranking inputs come from a reranking task")
            };
            let queries = reranking::Encoded {
                rows: index_of(&queries),
                view: enc.view(&queries, Role::Query, Part::Eval)?,
            };
            let docs = reranking::Encoded {
                rows: index_of(&documents),
                view: enc.view(&documents, Role::Document, Part::Train)?,
            };
            Ok(reranking::evaluate(
                &samples,
                &queries,
                &docs,
                split,
                &params.k_values,
            ))
        }
        SplitInputs::Retrieval(split_data) if split_data.top_ranked.is_some() => {
            let TaskKind::Reranking(params) = params else {
                unreachable!("candidate lists come from a reranking task")
            };
            let queries = enc.view(&split_data.query_texts, Role::Query, Part::Eval)?;
            let docs = enc.view(&split_data.doc_texts, Role::Document, Part::Train)?;
            Ok(reranking::evaluate_candidates(
                &split_data,
                &queries,
                &docs,
                params,
                &task.main_score,
            ))
        }
        SplitInputs::Retrieval(split_data) => {
            let TaskKind::Retrieval(params) = params else {
                unreachable!("retrieval inputs come from a retrieval task")
            };
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

fn index_of(texts: &[String]) -> HashMap<&str, usize> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect()
}
