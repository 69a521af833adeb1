//! Pair-classification threshold sweeps as in MTEB 2.26
//! (`AbsTaskPairClassification._find_best_acc_and_threshold` / `_find_best_f1_and_threshold`
//! in `mteb/abstasks/pair_classification.py`).
//!
//! MTEB sorts the pairs by score (descending when a high score means "similar", ascending for
//! distances) and tries a cut after each sorted position `i < n - 1`; everything up to and
//! including `i` is predicted positive. The rules that decide the numbers:
//!
//! - **No cut inside a tie**: a position whose score equals the next one is skipped (its label is
//!   still counted), so a threshold never splits equal scores and the row order of ties cannot
//!   leak into the metric.
//! - **No cut after the last row**: "everything positive" is never a candidate.
//! - **First best wins**: a candidate replaces the best only if strictly better (`>`), so the
//!   earliest cut in sort order is kept among equals.
//! - **Threshold = midpoint** `(s[i] + s[i + 1]) / 2` of the scores either side of the cut.
//! - **Defaults when no cut improves**: accuracy `0.0` with threshold `-1.0`; F1, precision and
//!   recall `0.0` with threshold `0.0`. F1 candidates need at least one true positive.
//!
//! Labels are booleans (`true` = MTEB label 1, `false` = label 0). Scores must not be NaN (MTEB's
//! Python sort gives an unspecified order then).

use super::average_precision::average_precision;

/// Best accuracy over the threshold sweep and the threshold that first reached it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccuracyAtThreshold {
    pub accuracy: f64,
    pub threshold: f64,
}

/// Best F1 over the threshold sweep, with the precision, recall and threshold of that cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct F1AtThreshold {
    pub f1: f64,
    pub precision: f64,
    pub recall: f64,
    pub threshold: f64,
}

/// MTEB's `_find_best_acc_and_threshold(scores, labels, high_score_more_similar)`.
///
/// # Panics
/// If `scores` and `labels` differ in length (here and in every function of this module).
pub fn best_accuracy_threshold(
    scores: &[f64],
    labels: &[bool],
    high_score_more_similar: bool,
) -> AccuracyAtThreshold {
    let rows = sorted_rows(scores, labels, high_score_more_similar);
    let n = rows.len() as f64;
    let mut best = AccuracyAtThreshold {
        accuracy: 0.0,
        threshold: -1.0,
    };
    let mut positives_above = 0usize;
    // Negatives not yet passed: all of them are correctly rejected by a cut at the very top.
    let mut negatives_below = labels.iter().filter(|&&l| !l).count();
    for (i, &(score, label)) in rows.iter().enumerate().take(rows.len().saturating_sub(1)) {
        if label {
            positives_above += 1;
        } else {
            negatives_below -= 1;
        }
        let next_score = rows[i + 1].0;
        if score == next_score {
            continue;
        }
        let accuracy = (positives_above + negatives_below) as f64 / n;
        if accuracy > best.accuracy {
            best = AccuracyAtThreshold {
                accuracy,
                threshold: midpoint(score, next_score),
            };
        }
    }
    best
}

/// MTEB's `_find_best_f1_and_threshold(scores, labels, high_score_more_similar)`.
pub fn best_f1_threshold(
    scores: &[f64],
    labels: &[bool],
    high_score_more_similar: bool,
) -> F1AtThreshold {
    let rows = sorted_rows(scores, labels, high_score_more_similar);
    let total_positives = labels.iter().filter(|&&l| l).count() as f64;
    let mut best = F1AtThreshold {
        f1: 0.0,
        precision: 0.0,
        recall: 0.0,
        threshold: 0.0,
    };
    let mut true_positives = 0usize;
    for (i, &(score, label)) in rows.iter().enumerate().take(rows.len().saturating_sub(1)) {
        if label {
            true_positives += 1;
        }
        let next_score = rows[i + 1].0;
        if score == next_score || true_positives == 0 {
            continue;
        }
        let tp = true_positives as f64;
        let precision = tp / (i + 1) as f64;
        let recall = tp / total_positives;
        // Same expression and evaluation order as MTEB: (2 * p * r) / (p + r).
        let f1 = 2.0 * precision * recall / (precision + recall);
        if f1 > best.f1 {
            best = F1AtThreshold {
                f1,
                precision,
                recall,
                threshold: midpoint(score, next_score),
            };
        }
    }
    best
}

/// MTEB's pair-classification `ap`: `average_precision_score(labels, scores * (1 if
/// high_score_more_similar else -1))`, i.e. distances are negated so that "more similar" ranks
/// first. NaN for empty input or non-finite scores (sklearn raises).
pub fn pair_average_precision(
    scores: &[f64],
    labels: &[bool],
    high_score_more_similar: bool,
) -> f64 {
    check_lengths(scores, labels);
    if high_score_more_similar {
        average_precision(labels, scores)
    } else {
        let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
        average_precision(labels, &negated)
    }
}

/// `(score, label)` rows in MTEB's order: by score, descending if `high_score_more_similar`.
/// (Python's sort is stable; the order inside a tie is irrelevant because ties are never cut.)
fn sorted_rows(scores: &[f64], labels: &[bool], high_score_more_similar: bool) -> Vec<(f64, bool)> {
    check_lengths(scores, labels);
    let mut rows: Vec<(f64, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    if high_score_more_similar {
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    } else {
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    rows
}

/// Python's `(a + b) / 2` on floats (deliberately not `f64::midpoint`, whose overflow-safe
/// formula is not guaranteed to round the same way).
fn midpoint(a: f64, b: f64) -> f64 {
    (a + b) / 2.0
}

fn check_lengths(scores: &[f64], labels: &[bool]) {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels must have the same length"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture;

    #[test]
    fn matches_mteb_fixtures_bit_for_bit() {
        let cases = fixture::cases("pair_threshold.json");
        assert!(cases.len() >= 20);
        for case in &cases {
            let name = fixture::name(case);
            let scores = fixture::floats(case, "scores");
            let labels = fixture::bools(case, "labels");
            let high = case["high_score_more_similar"].as_bool().unwrap();
            let acc = best_accuracy_threshold(&scores, &labels, high);
            let f1 = best_f1_threshold(&scores, &labels, high);
            let ap = pair_average_precision(&scores, &labels, high);
            for (key, got) in [
                ("accuracy", acc.accuracy),
                ("accuracy_threshold", acc.threshold),
                ("f1", f1.f1),
                ("precision", f1.precision),
                ("recall", f1.recall),
                ("f1_threshold", f1.threshold),
                ("ap", ap),
            ] {
                let expected = fixture::float(case, key);
                fixture::assert_close(got, expected, 1e-12, 0.0, &format!("{name} {key}"));
                fixture::assert_bits(got, expected, &format!("{name} {key}"));
            }
        }
    }

    #[test]
    fn ties_are_never_split() {
        // Sorted: 0.9(+) 0.8(+) 0.8(-) 0.8(+) 0.2(-) 0.1(-). Cuts after 0.9 and after the 0.8 tie
        // group only; the latter wins with 5/6, at threshold (0.8 + 0.2) / 2.
        let scores = [0.9, 0.8, 0.8, 0.8, 0.2, 0.1];
        let labels = [true, true, false, true, false, false];
        let acc = best_accuracy_threshold(&scores, &labels, true);
        assert_eq!(acc.accuracy, 5.0 / 6.0);
        assert_eq!(acc.threshold, 0.5);
    }

    #[test]
    fn all_tied_scores_leave_the_defaults() {
        let scores = [0.5; 4];
        let labels = [true, false, true, false];
        assert_eq!(
            best_accuracy_threshold(&scores, &labels, true),
            AccuracyAtThreshold {
                accuracy: 0.0,
                threshold: -1.0
            }
        );
        assert_eq!(
            best_f1_threshold(&scores, &labels, true),
            F1AtThreshold {
                f1: 0.0,
                precision: 0.0,
                recall: 0.0,
                threshold: 0.0
            }
        );
    }

    #[test]
    fn first_of_equal_candidates_wins() {
        // Cuts after 0.9 (acc 3/4) and after 0.5 (acc 3/4): the earlier one is kept.
        let scores = [0.9, 0.7, 0.5, 0.1];
        let labels = [true, false, true, false];
        let acc = best_accuracy_threshold(&scores, &labels, true);
        assert_eq!(acc.accuracy, 0.75);
        assert_eq!(acc.threshold, 0.8);
    }

    #[test]
    fn distances_sort_ascending() {
        let distances = [0.1, 0.2, 1.5, 1.7];
        let labels = [true, true, false, false];
        let acc = best_accuracy_threshold(&distances, &labels, false);
        assert_eq!(
            acc,
            AccuracyAtThreshold {
                accuracy: 1.0,
                threshold: 0.85
            }
        );
        let f1 = best_f1_threshold(&distances, &labels, false);
        assert_eq!((f1.f1, f1.threshold), (1.0, 0.85));
        assert_eq!(pair_average_precision(&distances, &labels, false), 1.0);
    }

    #[test]
    fn short_inputs() {
        assert_eq!(best_accuracy_threshold(&[], &[], true).threshold, -1.0);
        assert_eq!(best_f1_threshold(&[0.3], &[true], true).threshold, 0.0);
    }
}
