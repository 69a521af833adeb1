//! Average precision exactly as `sklearn.metrics.average_precision_score` (scikit-learn 1.9)
//! computes it for binary labels.
//!
//! MTEB reports this as `ap` for pair classification (on the similarity scores, negated for
//! distances), for zero-shot classification (on the positive-class probability) and for binary
//! classification (on the *hard* predicted labels, see [`super::classification`]).
//!
//! sklearn's definition, which is *not* the interpolated 11-point AP nor a per-sample mean:
//!
//! 1. Sort by score, descending. Tied scores form a single operating point: thresholds are the
//!    *distinct* score values (`np.diff(sorted) != 0`, so `-0.0` and `0.0` are one value), and the
//!    order of samples inside a tie never matters.
//! 2. At each threshold `k` (cumulative counts up to the end of its tie group):
//!    `P_k = TP_k / (TP_k + FP_k)`, `R_k = TP_k / TP_total`.
//! 3. `AP = Σ_k (R_k − R_{k−1}) · P_k` with `R_{−1} = 0`: the sum runs over the curve reversed
//!    (lowest threshold first) and `precision_recall_curve`'s extra final point (P = 1, R = 0)
//!    only supplies `R_{−1}`; its precision never enters the sum.
//! 4. No positives: recall is defined as 1 everywhere, which makes AP 0 (with a warning).
//!    The result is clipped at 0 (`max(0.0, ...)`) to turn `-0.0` into `0.0`.
//!
//! The sum is taken in numpy's pairwise order over the reversed curve, so the result is
//! bit-identical to sklearn's, not just close.

use super::numpy_sum;

/// `sklearn.metrics.average_precision_score(y_true, scores)` with `y_true` as booleans
/// (`true` = the positive class, i.e. `pos_label=1`).
///
/// Returns NaN for empty input or any non-finite score (sklearn raises `ValueError` for both).
///
/// # Panics
/// If `y_true` and `scores` differ in length.
pub fn average_precision(y_true: &[bool], scores: &[f64]) -> f64 {
    assert_eq!(
        y_true.len(),
        scores.len(),
        "average_precision: y_true and scores lengths differ"
    );
    if scores.is_empty() || scores.iter().any(|s| !s.is_finite()) {
        return f64::NAN;
    }
    let curve = operating_points(y_true, scores);
    // Each step of the reversed curve contributes (R_{k-1} - R_k) * P_k; sklearn sums these
    // (non-positive) terms and negates the total.
    let total_positives = curve.last().map_or(0.0, |p| p.true_positives);
    let recall = |tp: f64| {
        if total_positives == 0.0 {
            1.0
        } else {
            tp / total_positives
        }
    };
    let mut terms = Vec::with_capacity(curve.len());
    for k in (0..curve.len()).rev() {
        let previous_recall = if k == 0 {
            0.0
        } else {
            recall(curve[k - 1].true_positives)
        };
        terms.push((previous_recall - recall(curve[k].true_positives)) * curve[k].precision());
    }
    let ap = -numpy_sum(&terms);
    // Python's max(0.0, ap): also maps -0.0 to 0.0.
    if ap > 0.0 {
        ap
    } else {
        0.0
    }
}

/// Cumulative counts at one distinct score threshold (the last sample of a tie group).
#[derive(Debug, Clone, Copy)]
struct OperatingPoint {
    true_positives: f64,
    /// Samples scored at or above the threshold (sklearn's `tps + fps`).
    predicted_positives: f64,
}

impl OperatingPoint {
    fn precision(self) -> f64 {
        // predicted_positives >= 1 without sample weights, so sklearn's 0/0 guard never fires.
        self.true_positives / self.predicted_positives
    }
}

/// sklearn's `_binary_clf_curve`: one point per distinct score, highest score first.
fn operating_points(y_true: &[bool], scores: &[f64]) -> Vec<OperatingPoint> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Descending. Scores are finite, so total_cmp only separates -0.0 from 0.0, and those stay
    // adjacent and are merged by the `!=` group test below, as np.diff does.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));

    let mut points = Vec::new();
    let mut true_positives = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        if y_true[i] {
            true_positives += 1.0;
        }
        let group_ends = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if group_ends {
            points.push(OperatingPoint {
                true_positives,
                predicted_positives: (rank + 1) as f64,
            });
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture;

    #[test]
    fn matches_sklearn_fixtures_bit_for_bit() {
        let cases = fixture::cases("average_precision.json");
        assert!(cases.len() >= 15);
        for case in &cases {
            let name = fixture::name(case);
            let y = fixture::bools(case, "y_true");
            let s = fixture::floats(case, "scores");
            let expected = fixture::float(case, "ap");
            let got = average_precision(&y, &s);
            fixture::assert_close(got, expected, 1e-12, 0.0, &name);
            // Same operations in the same order as sklearn/numpy: expect identical bits.
            fixture::assert_bits(got, expected, &name);
        }
    }

    #[test]
    fn ties_are_one_operating_point() {
        // All scores tied: a single point at full recall, AP = prevalence.
        let y = [true, false, false, true, false];
        assert_eq!(average_precision(&y, &[0.5; 5]), 0.4);
        // Tie order cannot matter: swap positions inside the tie.
        let a = average_precision(&[true, false, true], &[0.9, 0.5, 0.5]);
        let b = average_precision(&[true, true, false], &[0.9, 0.5, 0.5]);
        assert_eq!(a, b);
        // P@1 = 1 (R 0.5), P@3 = 2/3 (R 1.0) -> 0.5 + 0.5 * 2/3.
        assert_eq!(a, 0.5 * 1.0 + 0.5 * (2.0 / 3.0));
    }

    #[test]
    fn signed_zeros_are_one_threshold() {
        let y = [true, false];
        assert_eq!(average_precision(&y, &[0.0, -0.0]), 0.5);
        assert_eq!(average_precision(&y, &[-0.0, 0.0]), 0.5);
    }

    #[test]
    fn degenerate_label_sets() {
        assert_eq!(average_precision(&[false, false], &[0.2, 0.8]), 0.0);
        assert_eq!(average_precision(&[true, true], &[0.2, 0.8]), 1.0);
        assert_eq!(average_precision(&[true], &[0.3]), 1.0);
        assert!(average_precision(&[], &[]).is_nan());
        assert!(average_precision(&[true, false], &[f64::NAN, 0.1]).is_nan());
    }
}
