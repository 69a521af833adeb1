//! Classification scores as MTEB 2.26 reports them
//! (`AbsTaskClassification._calculate_scores`, scikit-learn 1.9 underneath).
//!
//! For integer class labels MTEB reports `accuracy`, `f1` (macro), `f1_weighted`, `precision`,
//! `precision_weighted`, `recall`, `recall_weighted`, and, only when `y_true` holds exactly two
//! distinct labels, `ap` and `ap_weighted`. sklearn's rules reproduced here:
//!
//! - The label set is the sorted union of the labels in `y_true` **and** `y_pred`: a class that is
//!   only ever predicted still gets a (zero) F1/recall entry and counts in the macro mean.
//! - Zero division (`zero_division="warn"`) yields 0.0: precision of a never-predicted class,
//!   recall of a class absent from `y_true`.
//! - Per-class F1 is `2·TP / (|true| + |predicted|)`, not the harmonic mean of the rounded
//!   precision and recall.
//! - Macro = plain mean over classes; weighted = mean weighted by each class's count in `y_true`
//!   (`np.average(values, weights=support)`), both summed in numpy's pairwise order.
//! - `ap` = `average_precision_score(y_true, y_pred)` on the **hard predicted labels** used as
//!   scores, with `pos_label=1`. `ap_weighted` passes `average="weighted"`, which sklearn ignores
//!   for binary `y_true`, so it always equals `ap`. If the two labels do not include 1 (e.g.
//!   `{0, 2}`) sklearn raises `ValueError` and the MTEB run fails.

use std::fmt;

use super::average_precision::average_precision;
use super::numpy_sum;

/// Fraction of positions where `y_pred` equals `y_true` (`accuracy_score`). NaN for empty input.
///
/// # Panics
/// If the slices differ in length (here and in every function of this module).
pub fn accuracy(y_true: &[i64], y_pred: &[i64]) -> f64 {
    check_lengths(y_true, y_pred);
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    correct as f64 / y_true.len() as f64
}

/// Unweighted mean of per-class F1 (`f1_score(average="macro")`).
pub fn f1_macro(y_true: &[i64], y_pred: &[i64]) -> f64 {
    macro_mean(&per_class(y_true, y_pred), ClassCounts::f1)
}

/// Support-weighted mean of per-class F1 (`f1_score(average="weighted")`).
pub fn f1_weighted(y_true: &[i64], y_pred: &[i64]) -> f64 {
    weighted_mean(&per_class(y_true, y_pred), ClassCounts::f1)
}

/// Unweighted mean of per-class precision (`precision_score(average="macro")`).
pub fn precision_macro(y_true: &[i64], y_pred: &[i64]) -> f64 {
    macro_mean(&per_class(y_true, y_pred), ClassCounts::precision)
}

/// Support-weighted mean of per-class precision (`precision_score(average="weighted")`).
pub fn precision_weighted(y_true: &[i64], y_pred: &[i64]) -> f64 {
    weighted_mean(&per_class(y_true, y_pred), ClassCounts::precision)
}

/// Unweighted mean of per-class recall (`recall_score(average="macro")`).
pub fn recall_macro(y_true: &[i64], y_pred: &[i64]) -> f64 {
    macro_mean(&per_class(y_true, y_pred), ClassCounts::recall)
}

/// Support-weighted mean of per-class recall (`recall_score(average="weighted")`). Equals
/// accuracy up to rounding, as in sklearn.
pub fn recall_weighted(y_true: &[i64], y_pred: &[i64]) -> f64 {
    weighted_mean(&per_class(y_true, y_pred), ClassCounts::recall)
}

/// sklearn refused to compute average precision: `y_true` has two labels, neither of them 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosLabelError {
    /// The two labels present in `y_true`, ascending.
    pub labels: [i64; 2],
}

impl fmt::Display for PosLabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.labels;
        write!(
            f,
            "pos_label=1 is not a valid label. It should be one of [{a} {b}]"
        )
    }
}

impl std::error::Error for PosLabelError {}

/// MTEB's `ap` (and `ap_weighted`, always the same value) for a classification run:
/// `average_precision_score(y_true, y_pred)` with the predicted labels as scores and label 1 as
/// the positive class.
///
/// - `Ok(None)`: `y_true` does not hold exactly two distinct labels; MTEB stores `None`.
/// - `Ok(Some(ap))`: binary `y_true` containing label 1 (`{0, 1}`, `{-1, 1}`, `{1, 2}`, ...).
///   Predictions may contain other labels; they are just score values. Note the sklearn quirk
///   for `{1, 2}`: label 1 is the positive class while predicting it gives the *lower* score.
///
/// # Errors
/// [`PosLabelError`] when `y_true` has two labels and neither is 1 (e.g. `{0, 2}`): sklearn
/// raises `ValueError` there and the MTEB run fails.
pub fn binary_average_precision(
    y_true: &[i64],
    y_pred: &[i64],
) -> Result<Option<f64>, PosLabelError> {
    check_lengths(y_true, y_pred);
    let labels = sorted_unique(y_true.iter().copied());
    let [low, high] = labels[..] else {
        return Ok(None);
    };
    if low != 1 && high != 1 {
        return Err(PosLabelError {
            labels: [low, high],
        });
    }
    let positive: Vec<bool> = y_true.iter().map(|&t| t == 1).collect();
    let scores: Vec<f64> = y_pred.iter().map(|&p| p as f64).collect();
    Ok(Some(average_precision(&positive, &scores)))
}

/// Confusion counts for one class (one row of sklearn's `multilabel_confusion_matrix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClassCounts {
    true_positives: usize,
    /// Occurrences in `y_pred`.
    predicted: usize,
    /// Occurrences in `y_true` (the class's support, the weight of the weighted averages).
    support: usize,
}

impl ClassCounts {
    fn precision(self) -> f64 {
        divide_or_zero(self.true_positives as f64, self.predicted as f64)
    }

    fn recall(self) -> f64 {
        divide_or_zero(self.true_positives as f64, self.support as f64)
    }

    /// sklearn's F-beta at beta = 1 from counts: `(1 + β²)·TP / (β²·|true| + |pred|)`.
    fn f1(self) -> f64 {
        divide_or_zero(
            2.0 * self.true_positives as f64,
            self.support as f64 + self.predicted as f64,
        )
    }
}

/// sklearn's `_prf_divide` with `zero_division="warn"`: x / 0 is reported as 0.0.
fn divide_or_zero(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// Counts for every label of the sorted union of `y_true` and `y_pred`.
fn per_class(y_true: &[i64], y_pred: &[i64]) -> Vec<ClassCounts> {
    check_lengths(y_true, y_pred);
    let labels = sorted_unique(y_true.iter().chain(y_pred).copied());
    let index = |label: i64| {
        labels
            .binary_search(&label)
            .expect("label comes from the union")
    };
    let mut counts = vec![
        ClassCounts {
            true_positives: 0,
            predicted: 0,
            support: 0
        };
        labels.len()
    ];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        counts[index(t)].support += 1;
        counts[index(p)].predicted += 1;
        if t == p {
            counts[index(t)].true_positives += 1;
        }
    }
    counts
}

fn sorted_unique(values: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = values.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `np.nanmean(values)` (no NaN can occur): numpy sum / count. NaN when there are no classes.
fn macro_mean(counts: &[ClassCounts], metric: fn(ClassCounts) -> f64) -> f64 {
    let values: Vec<f64> = counts.iter().map(|&c| metric(c)).collect();
    numpy_sum(&values) / values.len() as f64
}

/// `np.average(values, weights=support)`: Σ(v·w) / Σw, both in numpy's summation order.
/// NaN when there are no samples (sklearn would fall back to the unweighted mean of nothing).
fn weighted_mean(counts: &[ClassCounts], metric: fn(ClassCounts) -> f64) -> f64 {
    let weighted: Vec<f64> = counts
        .iter()
        .map(|&c| metric(c) * c.support as f64)
        .collect();
    let weights: Vec<f64> = counts.iter().map(|c| c.support as f64).collect();
    numpy_sum(&weighted) / numpy_sum(&weights)
}

fn check_lengths(y_true: &[i64], y_pred: &[i64]) {
    assert_eq!(
        y_true.len(),
        y_pred.len(),
        "y_true and y_pred must have the same length"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture;

    type Metric = fn(&[i64], &[i64]) -> f64;

    const METRICS: [(&str, Metric); 7] = [
        ("accuracy", accuracy),
        ("f1", f1_macro),
        ("f1_weighted", f1_weighted),
        ("precision", precision_macro),
        ("precision_weighted", precision_weighted),
        ("recall", recall_macro),
        ("recall_weighted", recall_weighted),
    ];

    #[test]
    fn matches_mteb_fixtures_bit_for_bit() {
        let cases = fixture::cases("classification.json");
        assert!(cases.len() >= 15);
        for case in &cases {
            let name = fixture::name(case);
            let y_true = fixture::ints(case, "y_true");
            let y_pred = fixture::ints(case, "y_pred");
            for (key, metric) in METRICS {
                let got = metric(&y_true, &y_pred);
                let expected = fixture::float(case, key);
                fixture::assert_close(got, expected, 1e-12, 0.0, &format!("{name} {key}"));
                fixture::assert_bits(got, expected, &format!("{name} {key}"));
            }
            let ap = binary_average_precision(&y_true, &y_pred);
            if case.get("ap_error").is_some() {
                let err = ap.expect_err(&name);
                assert_eq!(
                    err.to_string(),
                    case["ap_error"].as_str().unwrap(),
                    "{name}"
                );
                continue;
            }
            let ap = ap.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                fixture::opt_float(case, "ap"),
                fixture::opt_float(case, "ap_weighted"),
                "{name}"
            );
            match (ap, fixture::opt_float(case, "ap")) {
                (None, None) => {}
                (Some(got), Some(expected)) => {
                    fixture::assert_bits(got, expected, &format!("{name} ap"))
                }
                (got, expected) => panic!("{name} ap: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn labels_are_the_union_of_true_and_predicted() {
        // Class 2 is only predicted: it enters the macro mean with F1 = precision = recall = 0.
        let y_true = [0, 0, 1, 1];
        let y_pred = [0, 2, 1, 1];
        assert_eq!(precision_macro(&y_true, &y_pred), (1.0 + 1.0 + 0.0) / 3.0);
        assert_eq!(recall_macro(&y_true, &y_pred), (0.5 + 1.0 + 0.0) / 3.0);
        // Weighted means ignore it (support 0).
        assert_eq!(recall_weighted(&y_true, &y_pred), 0.75);
    }

    #[test]
    fn f1_comes_from_counts() {
        // class 0: TP 1, |true| 2, |pred| 1 -> 2/3; class 1: TP 2, |true| 2, |pred| 3 -> 4/5.
        let y_true = [0, 0, 1, 1];
        let y_pred = [0, 1, 1, 1];
        assert_eq!(f1_macro(&y_true, &y_pred), (2.0 / 3.0 + 4.0 / 5.0) / 2.0);
    }

    #[test]
    fn ap_only_for_two_true_labels() {
        assert_eq!(binary_average_precision(&[0, 1, 2], &[0, 1, 2]), Ok(None));
        assert_eq!(binary_average_precision(&[1, 1], &[0, 1]), Ok(None));
        assert_eq!(
            binary_average_precision(&[0, 1, 1, 0], &[0, 1, 0, 0]),
            Ok(Some(0.75))
        );
        assert_eq!(
            binary_average_precision(&[0, 2], &[0, 2]),
            Err(PosLabelError { labels: [0, 2] })
        );
    }

    #[test]
    fn empty_input_is_nan() {
        assert!(accuracy(&[], &[]).is_nan());
        assert!(f1_macro(&[], &[]).is_nan());
        assert!(precision_weighted(&[], &[]).is_nan());
    }
}
