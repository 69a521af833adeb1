//! A task definition (`tasks/<Name>.yaml`): what data to load, how to score it, and which
//! number is the task's main score. The fields mirror MTEB's task metadata; each task type's
//! quirks are typed parameters, so adding a task of a known type is adding a YAML file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    /// Another definition of the task `name` names, kept beside the one the published scores
    /// used (`mteb2`: as mteb 2 defines it, where its data or protocol moved). A run selects it
    /// as `<name>@<edition>`; its results are still written under `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default)]
    pub description: String,
    pub dataset: DatasetRef,
    /// Splits that are scored (MTEB(eng, v2) scores `test` only).
    pub eval_splits: Vec<String>,
    pub main_score: String,
    #[serde(default = "default_languages")]
    pub languages: Languages,
    #[serde(flatten)]
    pub kind: TaskKind,
}

fn default_languages() -> Languages {
    Languages::All(vec!["eng-Latn".into()])
}

/// The languages of a task's texts, as mteb's `eval_langs` gives them: one list for the task, or
/// one per subset (a map from subset to its list).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(
    untagged,
    expecting = "a list of language codes, or a map from each subset to its list"
)]
pub enum Languages {
    All(Vec<String>),
    PerSubset(BTreeMap<String, Vec<String>>),
}

/// Where the data lives on the hub, pinned to the revision the published scores used.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatasetRef {
    pub path: String,
    pub revision: String,
    /// MTEB's `hf_subset`; `default` for single-subset datasets. For a task of several
    /// subsets, the one a per-subset view ([`TaskSpec::for_subset`]) loads.
    #[serde(default = "default_subset")]
    pub subset: String,
    /// Every `hf_subset` of a task that has several, in the order mteb evaluates them (its
    /// `eval_langs` order); given instead of `subset`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<String>,
    /// MTEB's "fast loading": the repo's `default` config holds every subset, told apart by
    /// a `lang` column, instead of one config per subset.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fast_loading: bool,
    /// Hub splits that MTEB concatenates, in this order, into the evaluated split (its
    /// `dataset_transform`; SIB200ClusteringS2S clusters train, validation and test together).
    /// The local mirror holds the concatenation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concat_splits: Vec<String>,
    /// Columns renamed after loading from the hub (old name → MTEB's name), as the task's
    /// MTEB `dataset_transform` does. The local mirror already uses MTEB's names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename_columns: BTreeMap<String, String>,
    /// For a revision that `datasets` reads only through the repo's loading script: the files
    /// that script reads and the columns it yields, so that they are read without running it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loading_script: Option<LoadingScript>,
    /// MTEB 2's reranking form: the repo holds a retrieval split (`corpus`, `queries`, qrels)
    /// and a `top_ranked` config listing each query's candidates, which are all it ranks.
    #[serde(default, skip_serializing_if = "is_false")]
    pub top_ranked: bool,
}

/// What a dataset repo's loading script reads, as a task file declares it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoadingScript {
    /// Subset → split → the repo file holding it.
    pub files: BTreeMap<String, BTreeMap<String, String>>,
    /// The file's column → the name the script gives it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn default_subset() -> String {
    "default".into()
}

/// The task type and its parameters.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", content = "params")]
pub enum TaskKind {
    #[serde(rename = "STS")]
    Sts(StsParams),
    Classification(ClassificationParams),
    PairClassification(PairClassificationParams),
    Summarization(StsParams),
    Clustering(ClusteringParams),
    Reranking(RerankingParams),
    Retrieval(RetrievalParams),
}

impl TaskKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            TaskKind::Sts(_) => "STS",
            TaskKind::Classification(_) => "Classification",
            TaskKind::PairClassification(_) => "PairClassification",
            TaskKind::Summarization(_) => "Summarization",
            TaskKind::Clustering(_) => "Clustering",
            TaskKind::Reranking(_) => "Reranking",
            TaskKind::Retrieval(_) => "Retrieval",
        }
    }
}

pub const TASK_TYPES: [&str; 7] = [
    "STS",
    "Classification",
    "PairClassification",
    "Summarization",
    "Clustering",
    "Reranking",
    "Retrieval",
];

/// Gold scores are mapped to [0, 1] with this range before correlating.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StsParams {
    pub min_score: f64,
    pub max_score: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassificationParams {
    /// Training examples kept per label in each experiment.
    #[serde(default = "eight")]
    pub samples_per_label: usize,
    #[serde(default = "ten")]
    pub n_experiments: usize,
    #[serde(default = "train")]
    pub train_split: String,
    /// A test set first cut to `size` items, as MTEB cuts it with `datasets`' `train_test_split`
    /// (computed at load time, see `data::train_test_split`).
    #[serde(default)]
    pub test_subsample: Option<Subsample>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PairClassificationParams {}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusteringParams {
    /// Share of documents embedded. With neither this nor `max_document_to_embed`, all
    /// documents are embedded in order.
    #[serde(default)]
    pub max_fraction_of_documents_to_embed: Option<f64>,
    /// Number of documents embedded (drawn like the share: a seeded sample, in draw order).
    #[serde(default)]
    pub max_document_to_embed: Option<usize>,
    #[serde(default = "bootstrap_size")]
    pub max_documents_per_cluster: usize,
    /// Bootstrap repetitions per label level.
    #[serde(default = "ten")]
    pub n_bootstrap: usize,
    #[serde(default = "batch_512")]
    pub kmeans_batch_size: usize,
    /// Hierarchical labels are split on this separator into levels.
    #[serde(default)]
    pub label_separator: Option<String>,
    /// Documents whose label occurs once are dropped first.
    #[serde(default)]
    pub drop_singleton_labels: bool,
    /// The test split, flattened, first cut as for classification.
    #[serde(default)]
    pub test_subsample: Option<Subsample>,
    /// MTEB's legacy (v1) protocol: every clustering set (`set` column) is embedded whole and
    /// clustered once with batch 500; the score is the mean v-measure over sets.
    #[serde(default)]
    pub legacy: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RerankingParams {
    /// Cut-offs of the MTEB 2 (trec_eval) form of the scores.
    #[serde(default = "k_values")]
    pub k_values: Vec<usize>,
    /// In the `top_ranked` form, queries `<request>_<n>` are sub-queries of one request
    /// (MindSmall's history titles): each request is also scored with every candidate at its
    /// best sub-query's score, reported as `max_over_subqueries_<metric>`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub max_over_subqueries: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetrievalParams {
    /// Drop a retrieved document whose id equals the query's id.
    #[serde(default)]
    pub ignore_identical_ids: bool,
    #[serde(default = "k_values")]
    pub k_values: Vec<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subsample {
    /// Items kept (named `size`, not `n`: YAML 1.1 reads a bare `n` as false).
    pub size: usize,
    pub seed: u64,
    /// Stratify by label (else a plain random cut).
    #[serde(default)]
    pub stratify: bool,
}

fn eight() -> usize {
    8
}
fn ten() -> usize {
    10
}
fn train() -> String {
    "train".into()
}
fn bootstrap_size() -> usize {
    16_384
}
fn batch_512() -> usize {
    512
}
fn k_values() -> Vec<usize> {
    vec![1, 3, 5, 10, 20, 100, 1000]
}

/// The keys a task file may have at its top level.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TopLevelKeys {
    name: IgnoredAny,
    #[serde(default)]
    edition: Option<IgnoredAny>,
    #[serde(default)]
    description: Option<IgnoredAny>,
    dataset: IgnoredAny,
    eval_splits: IgnoredAny,
    main_score: IgnoredAny,
    #[serde(default)]
    languages: Option<IgnoredAny>,
    #[serde(rename = "type")]
    task_type: IgnoredAny,
    #[serde(default)]
    params: Option<IgnoredAny>,
}

impl TaskSpec {
    /// Parses a task file; errors name the file, the line and the offending field.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let invalid = |e: serde_saphyr::Error| {
            Error::invalid(path, format!("not a valid task definition: {e}"))
        };
        // The typed parse flattens the type-specific part, which hides misspelt top-level
        // keys; this first pass rejects them with their line.
        serde_saphyr::from_str::<TopLevelKeys>(&text).map_err(invalid)?;
        let mut spec: TaskSpec = serde_saphyr::from_str(&text).map_err(invalid)?;
        spec.check(path)?;
        if let Some(first) = spec.dataset.subsets.first() {
            spec.dataset.subset = first.clone();
        }
        Ok(spec)
    }

    /// What a `loading_script` leaves unnamed: a subset without files, a subset the task does
    /// not have, or a split the task reads (its evaluation splits, a classifier's train split)
    /// without a file; or a retrieval task, which does not read one.
    fn loading_script_gap(&self) -> Option<String> {
        let script = self.dataset.loading_script.as_ref()?;
        if let TaskKind::Retrieval(_) = self.kind {
            // Retrieval reads three configs (corpus, queries, qrels), which the per-subset
            // files of a loading script do not describe.
            return Some("`loading_script` is not read for a retrieval task".into());
        }
        let subsets = self.subsets();
        if let Some(k) = script.files.keys().find(|k| !subsets.contains(k)) {
            return Some(format!(
                "`loading_script.files` names `{k}`, which is not a subset"
            ));
        }
        let mut splits = self.eval_splits.clone();
        if let TaskKind::Classification(params) = &self.kind {
            splits.push(params.train_split.clone());
        }
        for subset in &subsets {
            let Some(files) = script.files.get(subset) else {
                return Some(format!(
                    "`loading_script.files` has no entry for subset `{subset}`"
                ));
            };
            if let Some(split) = splits.iter().find(|s| !files.contains_key(*s)) {
                return Some(format!(
                    "`loading_script.files.{subset}` names no file for split `{split}`"
                ));
            }
        }
        None
    }

    /// How runs and the registry name this definition: `name`, or `name@edition`.
    pub fn key(&self) -> String {
        match &self.edition {
            Some(e) => format!("{}@{e}", self.name),
            None => self.name.clone(),
        }
    }

    /// What the `top_ranked` form does not allow: another task type, or sub-queries without it.
    fn top_ranked_gap(&self) -> Option<String> {
        if self.dataset.top_ranked && self.dataset.loading_script.is_some() {
            return Some("`loading_script` is not read for a `top_ranked` task".into());
        }
        match &self.kind {
            TaskKind::Reranking(p) if p.max_over_subqueries && !self.dataset.top_ranked => Some(
                "`max_over_subqueries` needs `dataset.top_ranked: true` (sub-queries are query ids)"
                    .into(),
            ),
            TaskKind::Reranking(_) => None,
            _ if self.dataset.top_ranked => {
                Some("`dataset.top_ranked` is read only for a Reranking task".into())
            }
            _ => None,
        }
    }

    /// The subsets evaluated, in mteb's order.
    pub fn subsets(&self) -> Vec<String> {
        if self.dataset.subsets.is_empty() {
            vec![self.dataset.subset.clone()]
        } else {
            self.dataset.subsets.clone()
        }
    }

    /// The languages of `subset`'s texts.
    pub fn languages_of(&self, subset: &str) -> Vec<String> {
        match &self.languages {
            Languages::All(l) => l.clone(),
            Languages::PerSubset(m) => m.get(subset).cloned().unwrap_or_default(),
        }
    }

    /// The task evaluated on the `subsets` and `splits` given (each `None`: all of the task's),
    /// kept in the task's order; a subset or split the task does not have is an error naming
    /// the ones it has.
    pub fn with_selection(
        &self,
        subsets: Option<&[String]>,
        splits: Option<&[String]>,
    ) -> std::result::Result<TaskSpec, String> {
        let mut narrowed = self.clone();
        if let Some(wanted) = subsets {
            let kept = self.pick("subset", &self.subsets(), wanted)?;
            narrowed.dataset.subset = kept[0].clone();
            narrowed.dataset.subsets = if kept.len() > 1 { kept } else { Vec::new() };
        }
        if let Some(wanted) = splits {
            narrowed.eval_splits = self.pick("evaluation split", &self.eval_splits, wanted)?;
        }
        Ok(narrowed)
    }

    /// The entries of `all` that `wanted` names, in `all`'s order.
    fn pick(
        &self,
        what: &str,
        all: &[String],
        wanted: &[String],
    ) -> std::result::Result<Vec<String>, String> {
        if let Some(unknown) = wanted.iter().find(|w| !all.contains(w)) {
            return Err(format!(
                "task `{}` has no {what} `{unknown}`; it has {}",
                self.name,
                all.join(", ")
            ));
        }
        if wanted.is_empty() {
            return Err(format!(
                "task `{}`: the selection names no {what}",
                self.name
            ));
        }
        Ok(all.iter().filter(|s| wanted.contains(s)).cloned().collect())
    }

    /// The task restricted to one of its subsets: what loading that subset's data reads.
    pub fn for_subset(&self, subset: &str) -> TaskSpec {
        let mut view = self.clone();
        view.dataset.subset = subset.to_string();
        view.dataset.subsets.clear();
        view
    }

    fn check(&self, path: &Path) -> Result<()> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem != self.key() {
            return Err(Error::invalid(
                path,
                format!("task `{}` must live in {}.yaml", self.key(), self.key()),
            ));
        }
        if let Some(problem) = self.top_ranked_gap() {
            return Err(Error::invalid(path, problem));
        }
        let d = &self.dataset;
        if !d.subsets.is_empty() && d.subset != default_subset() {
            return Err(Error::invalid(
                path,
                "dataset gives both `subset` and `subsets`; expected one of them",
            ));
        }
        if let Some(dup) = d
            .subsets
            .iter()
            .enumerate()
            .find(|(i, s)| d.subsets[..*i].contains(s))
        {
            return Err(Error::invalid(
                path,
                format!("subset `{}` is listed twice in `subsets`", dup.1),
            ));
        }
        if let Languages::PerSubset(m) = &self.languages {
            let subsets = self.subsets();
            if let Some(s) = subsets.iter().find(|s| !m.contains_key(*s)) {
                return Err(Error::invalid(
                    path,
                    format!("`languages` has no entry for subset `{s}`"),
                ));
            }
            if let Some(k) = m.keys().find(|k| !subsets.contains(k)) {
                return Err(Error::invalid(
                    path,
                    format!("`languages` names `{k}`, which is not a subset"),
                ));
            }
        }
        if self.eval_splits.is_empty() {
            return Err(Error::invalid(
                path,
                "eval_splits is empty; expected at least one split",
            ));
        }
        if let Some(problem) = self.loading_script_gap() {
            return Err(Error::invalid(path, problem));
        }
        Ok(())
    }

    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> std::result::Result<TaskSpec, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn typed_params_with_defaults() {
        let spec = parse(
            "name: X\ntype: Classification\ndataset: {path: mteb/x, revision: abc}\neval_splits: [test]\nmain_score: accuracy\nparams: {samples_per_label: 32}\n",
        )
        .unwrap();
        match spec.kind {
            TaskKind::Classification(p) => {
                assert_eq!(
                    (p.samples_per_label, p.n_experiments, p.train_split.as_str()),
                    (32, 10, "train")
                )
            }
            other => panic!("wrong kind {other:?}"),
        }
        assert_eq!(spec.dataset.subset, "default");
    }

    #[test]
    fn subsets_load_in_order_and_each_has_a_view() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X.yaml");
        let head = "name: X\ntype: STS\neval_splits: [test]\nmain_score: m\nparams: {min_score: 0, max_score: 5}\n";
        std::fs::write(
            &path,
            format!("{head}dataset: {{path: a, revision: b, subsets: [z, a]}}\n"),
        )
        .unwrap();
        let spec = TaskSpec::load(&path).unwrap();
        assert_eq!(spec.subsets(), ["z", "a"]);
        let view = spec.for_subset("a");
        assert_eq!(
            (view.dataset.subset.as_str(), view.subsets()),
            ("a", vec!["a".to_string()])
        );
        for (dataset, why) in [
            (
                "{path: a, revision: b, subset: z, subsets: [z, a]}",
                "both `subset` and `subsets`",
            ),
            (
                "{path: a, revision: b, subsets: [z, a, z]}",
                "subset `z` is listed twice",
            ),
            (
                "{path: a, revision: b, subsets: [z, a]}\nlanguages:\n  z: [eng-Latn]",
                "`languages` has no entry for subset `a`",
            ),
            (
                "{path: a, revision: b, subsets: [z, a]}\nlanguages:\n  z: [eng-Latn]\n  a: [deu-Latn]\n  q: [fra-Latn]",
                "`languages` names `q`, which is not a subset",
            ),
            (
                "{path: a, revision: b, subsets: [z, a], loading_script: {files: {z: {test: z.tsv}}}}",
                "`loading_script.files` has no entry for subset `a`",
            ),
            (
                "{path: a, revision: b, subsets: [z, a], loading_script: {files: {z: {test: z.tsv}, a: {train: a.tsv}}}}",
                "`loading_script.files.a` names no file for split `test`",
            ),
            (
                "{path: a, revision: b, subsets: [z, a], loading_script: {files: {z: {test: z.tsv}, a: {test: a.tsv}, q: {test: q.tsv}}}}",
                "`loading_script.files` names `q`, which is not a subset",
            ),
        ] {
            std::fs::write(&path, format!("{head}dataset: {dataset}\n")).unwrap();
            let err = TaskSpec::load(&path).unwrap_err().to_string();
            assert!(err.contains("X.yaml") && err.contains(why), "{err}");
        }
    }

    #[test]
    fn a_retrieval_task_cannot_name_a_loading_script() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("R.yaml");
        std::fs::write(
            &path,
            "name: R\ntype: Retrieval\neval_splits: [test]\nmain_score: ndcg_at_10\nparams: {}\n\
             dataset: {path: a, revision: b, loading_script: {files: {default: {test: q.tsv}}}}\n",
        )
        .unwrap();
        let err = TaskSpec::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("R.yaml") && err.contains("not read for a retrieval task"),
            "{err}"
        );
    }

    #[test]
    fn an_edition_lives_in_its_key_s_file_and_the_top_ranked_form_is_for_reranking() {
        let dir = tempfile::tempdir().unwrap();
        let body = "type: Reranking\neval_splits: [test]\nmain_score: map_at_1000\n";
        let write = |file: &str, text: String| {
            let path = dir.path().join(file);
            std::fs::write(&path, text).unwrap();
            TaskSpec::load(&path).map_err(|e| e.to_string())
        };
        let ok = write(
            "R@mteb2.yaml",
            format!("name: R\nedition: mteb2\n{body}params: {{}}\ndataset: {{path: a, revision: b, top_ranked: true}}\n"),
        )
        .unwrap();
        assert_eq!((ok.name.as_str(), ok.key().as_str()), ("R", "R@mteb2"));
        let err = write(
            "R.yaml",
            format!(
                "name: R\nedition: mteb2\n{body}params: {{}}\ndataset: {{path: a, revision: b}}\n"
            ),
        )
        .unwrap_err();
        assert!(
            err.contains("task `R@mteb2` must live in R@mteb2.yaml"),
            "{err}"
        );
        let err = write(
            "R.yaml",
            format!("name: R\n{body}params: {{max_over_subqueries: true}}\ndataset: {{path: a, revision: b}}\n"),
        )
        .unwrap_err();
        assert!(
            err.contains("`max_over_subqueries` needs `dataset.top_ranked: true`"),
            "{err}"
        );
        let err = write(
            "S.yaml",
            "name: S\ntype: Retrieval\neval_splits: [test]\nmain_score: ndcg_at_10\nparams: {}\n\
             dataset: {path: a, revision: b, top_ranked: true}\n"
                .into(),
        )
        .unwrap_err();
        assert!(err.contains("read only for a Reranking task"), "{err}");
    }

    #[test]
    fn every_shipped_task_file_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                TaskSpec::load(&path).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 47, "only {n} task files");
    }

    #[test]
    fn a_misspelt_top_level_key_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X.yaml");
        std::fs::write(&path, "name: X\ntype: STS\ndataset: {path: a, revision: b}\neval_splitz: [test]\nmain_score: m\nparams: {min_score: 0, max_score: 5}\n").unwrap();
        let err = TaskSpec::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("X.yaml") && err.contains("eval_splitz") && err.contains("line 4"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_field_is_named_with_its_line() {
        let err = parse(
            "name: X\ntype: STS\ndataset: {path: mteb/x, revision: abc}\neval_splits: [test]\nmain_score: m\nparams:\n  min_score: 0\n  max_scroe: 5\n",
        )
        .unwrap_err();
        assert!(err.contains("max_scroe") && err.contains('8'), "{err}");
    }
}
