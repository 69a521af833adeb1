//! Classification: a logistic regression is trained on a few labelled examples per class
//! (drawn exactly as MTEB draws them) and scored on the test split, ten times over; each
//! metric is the mean over the experiments and the main score is accuracy.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::scores::Scores;
use super::spec::ClassificationParams;
use crate::data::LabelledSplit;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::learn::logistic_regression::{FitError, LogisticRegression};
use crate::metrics::classification as m;
use crate::rng::numpy_legacy::mteb_undersample;

/// The training rows of each experiment, and the distinct rows any experiment uses (only
/// those need embedding).
pub struct Experiments {
    pub rows: Vec<Vec<usize>>,
    pub needed: Vec<usize>,
}

pub fn experiments(train: &LabelledSplit, params: &ClassificationParams) -> Experiments {
    let rows = mteb_undersample(
        &train.labels,
        params.samples_per_label,
        params.n_experiments,
    );
    let mut needed: Vec<usize> = rows.iter().flatten().copied().collect();
    needed.sort_unstable();
    needed.dedup();
    Experiments { rows, needed }
}

/// Labels as the integers sklearn sees: the label values themselves when they are all
/// integers (so `pos_label=1` means what it means in MTEB), else ranks in sorted order.
struct LabelCoding {
    classes: Vec<String>,
    values: Vec<i64>,
}

impl LabelCoding {
    fn new(train_labels: &[String]) -> Self {
        let mut classes: Vec<String> = train_labels.to_vec();
        let numeric = classes.iter().all(|c| c.parse::<i64>().is_ok());
        if numeric {
            classes.sort_by_key(|c| c.parse::<i64>().expect("checked numeric"));
        } else {
            classes.sort();
        }
        classes.dedup();
        let values = if numeric {
            classes
                .iter()
                .map(|c| c.parse().expect("checked numeric"))
                .collect()
        } else {
            (0..classes.len() as i64).collect()
        };
        Self { classes, values }
    }

    fn class_of(&self, label: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == label)
    }
}

/// `needed_emb` row k embeds train row `exps.needed[k]`.
pub fn evaluate(
    test_path: &Path,
    train: &LabelledSplit,
    exps: &Experiments,
    needed_emb: &Embeddings,
    test: &LabelledSplit,
    test_emb: &Embeddings,
) -> Result<Scores> {
    let coding = LabelCoding::new(&train.labels);
    let y_test = test
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            coding
                .class_of(l)
                .map(|c| coding.values[c])
                .ok_or_else(|| Error::Line {
                    path: test_path.to_path_buf(),
                    line: i + 1,
                    what: format!(
                        "label `{l}` never occurs in the train split; expected one of {:?}",
                        coding.classes
                    ),
                })
        })
        .collect::<Result<Vec<i64>>>()?;
    let x_test = to_f64(test_emb, 0..test_emb.rows);
    let mut per_experiment: Vec<Scores> = Vec::new();
    for rows in &exps.rows {
        per_experiment.push(run_experiment(
            test_path, train, exps, needed_emb, rows, &coding, &x_test, &y_test,
        )?);
    }
    Ok(average(per_experiment))
}

/// The classifier's failure in the data's terms: a single class is named by its label as the
/// file writes it, with the labels the train split holds.
fn fit_error(test_path: &Path, e: FitError, coding: &LabelCoding) -> Error {
    let what = match e {
        FitError::SingleClass(c) => format!(
            "cannot train the classifier: the train sample holds only label `{}`; expected at \
             least two distinct labels (the train split holds {:?})",
            coding.classes[c], coding.classes
        ),
        other => format!("cannot train the classifier: {other}"),
    };
    Error::invalid(test_path, what)
}

#[allow(clippy::too_many_arguments)]
fn run_experiment(
    test_path: &Path,
    train: &LabelledSplit,
    exps: &Experiments,
    needed_emb: &Embeddings,
    rows: &[usize],
    coding: &LabelCoding,
    x_test: &[f64],
    y_test: &[i64],
) -> Result<Scores> {
    let d = needed_emb.dim;
    let mut x = Vec::with_capacity(rows.len() * d);
    let mut y = Vec::with_capacity(rows.len());
    for &r in rows {
        let k = exps
            .needed
            .binary_search(&r)
            .expect("every experiment row is embedded");
        x.extend(needed_emb.row(k).iter().map(|&v| v as f64));
        y.push(
            coding
                .class_of(&train.labels[r])
                .expect("train labels define the classes"),
        );
    }
    let model = LogisticRegression::default()
        .fit(&x, d, &y)
        .map_err(|e| fit_error(test_path, e, coding))?;
    let pred: Vec<i64> = model
        .predict(x_test, d)
        .into_iter()
        .map(|c| coding.values[c])
        .collect();
    let mut s = Scores::default();
    s.set("accuracy", m::accuracy(y_test, &pred));
    s.set("f1", m::f1_macro(y_test, &pred));
    s.set("f1_weighted", m::f1_weighted(y_test, &pred));
    s.set("precision", m::precision_macro(y_test, &pred));
    s.set("precision_weighted", m::precision_weighted(y_test, &pred));
    s.set("recall", m::recall_macro(y_test, &pred));
    s.set("recall_weighted", m::recall_weighted(y_test, &pred));
    if let Some(ap) = m::binary_average_precision(y_test, &pred)
        .map_err(|e| Error::invalid(test_path, e.to_string()))?
    {
        s.set("ap", ap);
        s.set("ap_weighted", ap);
    }
    Ok(s)
}

/// Each metric's mean over experiments, plus the experiments themselves.
fn average(per_experiment: Vec<Scores>) -> Scores {
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for s in &per_experiment {
        for (k, v) in &s.values {
            *sums.entry(k.clone()).or_default() += v.as_f64().unwrap_or(f64::NAN);
        }
    }
    let n = per_experiment.len() as f64;
    let mut out = Scores::default();
    for (k, v) in sums {
        out.set(&k, v / n);
    }
    let list: Vec<Value> = per_experiment
        .into_iter()
        .map(|s| Value::Object(s.values.into_iter().collect()))
        .collect();
    out.set_value("scores_per_experiment", Value::Array(list));
    out.main("accuracy");
    out
}

fn to_f64(e: &Embeddings, rows: std::ops::Range<usize>) -> Vec<f64> {
    rows.flat_map(|i| e.row(i).iter().map(|&v| v as f64))
        .collect()
}
