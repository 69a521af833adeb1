//! What one split of a task encodes: its data, loaded and typed, and the texts of each encode
//! call with the role and part MTEB gives them. Evaluation scores these inputs, and the plan
//! lists the same calls to split encoding across shards, so both always see the same texts.

use std::collections::HashMap;
use std::path::Path;

use crate::data::figures::{self, Figures};
use crate::data::retrieval::{retrieval_split, top_ranked, RetrievalSplit, Unmatched};
use crate::data::train_test_split::{random_split, stratified_split};
use crate::data::typed::SummaryRow;
use crate::data::typed::{self, ClusteringSplit, LabelledSplit, PairSplit, RerankingSample};
use crate::data::DataSource;
use crate::encoder::Role;
use crate::error::{Error, Result};
use crate::rng::python_random::PyRandom;
use crate::task::classification::{self, Experiments};
use crate::task::clustering::{self, Subsample};
use crate::task::retrieval::CORPUS_CHUNK;
use crate::task::spec::{self, ClassificationParams, ClusteringParams};
use crate::task::{TaskKind, TaskSpec};

/// What an encoded text is to its task: evaluated, or part of the train split / document
/// collection that the `train` calibration policy learns ranges from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Eval,
    Train,
}

/// One encode call of a split: these texts, embedded for this role.
pub struct EncodeCall<'a> {
    pub texts: &'a [String],
    pub role: Role,
    pub part: Part,
}

/// A split's typed data and the texts it embeds, per task type.
pub enum SplitInputs {
    Sts(PairSplit),
    Classification {
        /// The test split's first file, for messages.
        origin: std::path::PathBuf,
        train: LabelledSplit,
        exps: Experiments,
        /// The train texts any experiment uses, in `exps.needed` order.
        needed: Vec<String>,
        test: LabelledSplit,
    },
    PairClassification {
        data: PairSplit,
        /// Each distinct sentence once, and the row of each pair's left and right sentence.
        unique: Vec<String>,
        left: Vec<usize>,
        right: Vec<usize>,
    },
    Summarization {
        rows: Vec<SummaryRow>,
        human: Vec<String>,
        machine: Vec<String>,
    },
    LegacyClustering(ClusteringSplit),
    Clustering {
        texts: Vec<String>,
        labels: Vec<Vec<String>>,
        sample: Subsample,
    },
    Reranking {
        samples: Vec<RerankingSample>,
        queries: Vec<String>,
        documents: Vec<String>,
    },
    Retrieval(RetrievalSplit),
}

/// One evaluation of a task: a split of one subset, with the task restricted to that subset.
pub struct Unit {
    pub split: String,
    pub subset: String,
    pub task: TaskSpec,
}

/// The (split, subset) evaluations of `task` in the order mteb runs them: split by split, each
/// split's subsets in the task's order. Clustering draws from one generator across all of them
/// in this order, so they must be loaded in it.
pub fn units(task: &TaskSpec) -> Vec<Unit> {
    let subsets = task.subsets();
    task.eval_splits
        .iter()
        .flat_map(|split| {
            subsets.iter().map(move |subset| Unit {
                split: split.clone(),
                subset: subset.clone(),
                task: task.for_subset(subset),
            })
        })
        .collect()
}

impl SplitInputs {
    /// The inputs of `split` of `task` (restricted to one subset). `stream` is the task's
    /// generator ([`clustering::task_stream`]), shared by its units in [`units`] order. Each
    /// split read is checked against MTEB's statistics of it before anything uses it.
    pub fn load(
        task: &TaskSpec,
        split: &str,
        data: &DataSource,
        stream: &mut PyRandom,
    ) -> Result<Self> {
        let loader = Loader { task, split, data };
        match &task.kind {
            TaskKind::Sts(_) => loader.sts(),
            TaskKind::Classification(params) => loader.classification(params),
            TaskKind::PairClassification(_) => loader.pair_classification(),
            TaskKind::Summarization(_) => loader.summarization(),
            TaskKind::Clustering(params) => loader.clustering(params, stream),
            TaskKind::Reranking(_) if task.dataset.top_ranked => loader.retrieval(),
            TaskKind::Reranking(_) => loader.reranking(),
            TaskKind::Retrieval(_) => loader.retrieval(),
        }
    }

    /// Every encode call of the split, in the order evaluation makes them. A retrieval corpus
    /// is encoded chunk by chunk, one call per chunk.
    pub fn encode_calls(&self) -> Vec<EncodeCall<'_>> {
        fn call(texts: &[String], role: Role, part: Part) -> EncodeCall<'_> {
            EncodeCall { texts, role, part }
        }
        let plain = |texts| call(texts, Role::Plain, Part::Eval);
        match self {
            Self::Sts(d) => vec![plain(&d.sentence1), plain(&d.sentence2)],
            Self::Classification { needed, test, .. } => {
                vec![call(needed, Role::Plain, Part::Train), plain(&test.texts)]
            }
            Self::PairClassification { unique, .. } => vec![plain(unique)],
            Self::Summarization { human, machine, .. } => vec![plain(human), plain(machine)],
            Self::LegacyClustering(split) => vec![plain(&split.sentences)],
            Self::Clustering { texts, .. } => vec![plain(texts)],
            Self::Reranking {
                queries, documents, ..
            } => vec![
                call(queries, Role::Query, Part::Eval),
                call(documents, Role::Document, Part::Train),
            ],
            Self::Retrieval(split) => {
                let mut calls = vec![call(&split.query_texts, Role::Query, Part::Eval)];
                // Candidates are looked up across the whole corpus, encoded in one call.
                let chunk = match split.top_ranked {
                    Some(_) => split.doc_texts.len().max(1),
                    None => CORPUS_CHUNK,
                };
                for chunk in split.doc_texts.chunks(chunk) {
                    calls.push(call(chunk, Role::Document, Part::Train));
                }
                calls
            }
        }
    }
}

/// One split of one task being read from one data source.
struct Loader<'a> {
    task: &'a TaskSpec,
    split: &'a str,
    data: &'a DataSource,
}

impl Loader<'_> {
    fn records(&self, split: &str) -> Result<crate::data::SplitRecords> {
        self.data.load_split(self.task, split)
    }

    /// `split` (read from `origin`) against MTEB's statistics, measured only if checked.
    fn check(&self, split: &str, origin: &Path, measure: impl FnOnce() -> Figures) -> Result<()> {
        let (task, subset) = (&self.task.key(), &self.task.dataset.subset);
        self.data.check.verify(task, subset, split, origin, measure)
    }

    fn sts(&self) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let pairs = typed::sts_split(&records)?;
        self.check(self.split, records.origin(), || {
            figures::pairs(&pairs, false)
        })?;
        Ok(SplitInputs::Sts(pairs))
    }

    /// The train split whole and the evaluated split after its test cut, each checked.
    fn classification(&self, params: &ClassificationParams) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let train_records = self.records(&params.train_split)?;
        let train = typed::labelled_split(&train_records)?;
        let origin = train_records.origin();
        self.check(&params.train_split, origin, || figures::labelled(&train))?;
        let mut test = typed::labelled_split(&records)?;
        if let Some(keep) = test_cut(&params.test_subsample, &test.labels, records.origin())? {
            test = LabelledSplit {
                texts: keep.iter().map(|&i| test.texts[i].clone()).collect(),
                labels: keep.iter().map(|&i| test.labels[i].clone()).collect(),
            };
        }
        self.check(self.split, records.origin(), || figures::labelled(&test))?;
        let exps = classification::experiments(&train, params);
        let needed = exps
            .needed
            .iter()
            .map(|&i| train.texts[i].clone())
            .collect();
        Ok(SplitInputs::Classification {
            origin: records.origin().to_path_buf(),
            train,
            exps,
            needed,
            test,
        })
    }

    fn pair_classification(&self) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let origin = records.origin().to_path_buf();
        let data = typed::pair_classification_split(records)?;
        self.check(self.split, &origin, || figures::pairs(&data, true))?;
        let (unique, left, right) = distinct_pairs(&data.sentence1, &data.sentence2);
        Ok(SplitInputs::PairClassification {
            data,
            unique,
            left,
            right,
        })
    }

    fn summarization(&self) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let rows = typed::summarization_split(&records)?;
        self.check(self.split, records.origin(), || figures::summaries(&rows))?;
        let human = rows
            .iter()
            .flat_map(|r| r.human_summaries.clone())
            .collect();
        let machine = rows
            .iter()
            .flat_map(|r| r.machine_summaries.clone())
            .collect();
        Ok(SplitInputs::Summarization {
            rows,
            human,
            machine,
        })
    }

    /// The split checked as the protocol clusters it (after MTEB's v2 transform; as stored for
    /// the legacy protocol), then the evaluator's document sample.
    fn clustering(&self, params: &ClusteringParams, stream: &mut PyRandom) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let split_data = typed::clustering_split(&records)?;
        // The legacy protocol clusters each set as it is; the v2 one transforms the split first.
        let split_data = if params.legacy {
            split_data
        } else {
            clustering_transform(params, split_data, records.origin())?
        };
        self.check(self.split, records.origin(), || {
            let levels: Vec<Vec<String>> = split_data
                .labels
                .iter()
                .map(|l| label_levels(l, params))
                .collect();
            figures::clustering(&split_data.sentences, &levels)
        })?;
        if params.legacy {
            return Ok(SplitInputs::LegacyClustering(split_data));
        }
        let sample = clustering::subsample(split_data.sentences.len(), params, stream);
        let pick = |i: &usize| split_data.sentences[*i].clone();
        let labels: Vec<Vec<String>> = sample
            .indices
            .iter()
            .map(|&i| label_levels(&split_data.labels[i], params))
            .collect();
        let levels = labels.iter().map(Vec::len).max().unwrap_or(0);
        clustering::skip_bootstraps(stream, levels, params);
        Ok(SplitInputs::Clustering {
            texts: sample.indices.iter().map(pick).collect(),
            labels,
            sample,
        })
    }

    /// The rows as the file holds them are checked; the scored samples are then kept.
    fn reranking(&self) -> Result<SplitInputs> {
        let records = self.records(self.split)?;
        let rows = typed::reranking_rows(&records)?;
        self.check(self.split, records.origin(), || figures::reranking(&rows))?;
        let samples = typed::reranking_split(rows);
        let queries = unique(samples.iter().flat_map(|s| s.query.iter()));
        let documents = unique(
            samples
                .iter()
                .flat_map(|s| s.positive.iter().chain(&s.negative)),
        );
        Ok(SplitInputs::Reranking {
            samples,
            queries,
            documents,
        })
    }

    /// A retrieval split, or a reranking one in MTEB 2's form with its candidate lists.
    fn retrieval(&self) -> Result<SplitInputs> {
        let parts = self.data.load_retrieval(self.task, self.split)?;
        let mut split_data = retrieval_split(&parts.corpus, &parts.queries, &parts.qrels)?;
        if let Some(lists) = &parts.top_ranked {
            split_data.top_ranked = Some(top_ranked(lists, &split_data)?);
        }
        warn_unmatched(&self.task.name, &split_data.unmatched);
        self.check(self.split, parts.qrels.origin(), || {
            figures::retrieval(&split_data)
        })?;
        Ok(SplitInputs::Retrieval(split_data))
    }
}

/// The rows MTEB keeps of a test split cut by `test_subsample`, in the order it keeps them, or
/// `None` to keep the split whole. A stratified cut is MTEB's `stratified_subsampling`, which
/// leaves a split no larger than the cut as it is; a plain cut is the ArXiv tasks' direct
/// `train_test_split`, which refuses such a split.
fn test_cut(
    cut: &Option<spec::Subsample>,
    labels: &[String],
    origin: &Path,
) -> Result<Option<Vec<usize>>> {
    let Some(cut) = cut else { return Ok(None) };
    let parts = if cut.stratify {
        if cut.size >= labels.len() {
            return Ok(None);
        }
        stratified_split(labels, cut.size, cut.seed)
    } else {
        random_split(labels.len(), cut.size, cut.seed)
    };
    let kind = if cut.stratify { "stratified " } else { "" };
    parts.map(|p| Some(p.test)).map_err(|e| {
        Error::invalid(
            origin,
            format!(
                "cannot take MTEB's {kind}test cut of {} rows (seed {}): {e}",
                cut.size, cut.seed
            ),
        )
    })
}

/// MTEB's per-task transforms that leafbench expresses as parameters.
fn clustering_transform(
    params: &ClusteringParams,
    mut split: ClusteringSplit,
    origin: &Path,
) -> Result<ClusteringSplit> {
    if let Some(keep) = test_cut(&params.test_subsample, &split.labels, origin)? {
        split = ClusteringSplit {
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
fn unique<'a>(texts: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    texts.filter(|t| seen.insert(t.as_str())).cloned().collect()
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
