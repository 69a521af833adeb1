//! Pearson and Spearman correlation with scipy's semantics (scipy 1.17 `scipy.stats`).
//!
//! MTEB's STS and summarization scores are `scipy.stats.pearsonr(...).statistic` and
//! `scipy.stats.spearmanr(...).statistic`. What must match scipy:
//!
//! - **Constant input gives NaN** (scipy warns `ConstantInputWarning` and returns NaN), as does a
//!   NaN anywhere in the input (scipy's default `nan_policy="propagate"`).
//! - **Ties get the average rank** (`rankdata(method="average")`), and Spearman is the Pearson
//!   correlation of those ranks.
//! - **The arithmetic order** of each function: `pearsonr` normalises the centred vectors by their
//!   norms before the dot product and rounds to exactly ±1 for n = 2; `spearmanr` goes through
//!   `np.corrcoef` (covariance, then two divisions by standard deviations) and does *not* round,
//!   so `spearmanr([1, 2], [3, 4])` is `0.9999999999999999`, not 1.
//!
//! Means and norms use numpy's pairwise summation (bit-identical to numpy). scipy's dot products
//! go through BLAS, whose summation order depends on the CPU kernel, so `pearson` agrees with
//! scipy to a few ulps (tested at 1e-12 relative), not bit for bit. `spearman` is bit-identical
//! anyway: centred average ranks are multiples of 1/2, so every sum in it is exact in any order
//! (products are multiples of 1/4 and Σ stays below 2^51 for n up to about 300 000).

use super::{numpy_mean, numpy_sum};

/// Pearson correlation coefficient as `scipy.stats.pearsonr(x, y).statistic`.
///
/// Returns NaN when either input is constant, when any value is NaN (or an infinity makes the
/// centred data NaN), and when `n < 2` (where scipy raises instead). For `n == 2` the result is
/// exactly `1.0` or `-1.0`, as scipy promises.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(
        x.len(),
        y.len(),
        "pearson: x and y must have the same length"
    );
    let n = x.len();
    if n < 2 || is_constant(x) || is_constant(y) {
        return f64::NAN;
    }
    let xs = unit_centred(x);
    let ys = unit_centred(y);
    let products: Vec<f64> = xs.iter().zip(&ys).map(|(a, b)| a * b).collect();
    let r = clip_unit(numpy_sum(&products));
    // scipy: "return exactly 1.0 or -1.0 values for n == 2 case as promised" (np.round, NaN kept).
    if n == 2 {
        r.round()
    } else {
        r
    }
}

/// Spearman rank correlation as `scipy.stats.spearmanr(x, y).statistic`.
///
/// Returns NaN when `n < 2`, when either input is constant, or when any value is NaN. Infinite
/// values are ranked like any other (scipy does the same), so they do not produce NaN.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(
        x.len(),
        y.len(),
        "spearman: x and y must have the same length"
    );
    if x.len() < 2 || is_constant(x) || is_constant(y) || has_nan(x) || has_nan(y) {
        return f64::NAN;
    }
    corrcoef(&rank_average(x), &rank_average(y))
}

/// Ranks starting at 1, ties sharing the mean of their ranks: `scipy.stats.rankdata(x,
/// method="average")`. If any value is NaN every rank is NaN (scipy's `nan_policy="propagate"`).
/// `-0.0` and `0.0` are equal, hence tied.
pub fn rank_average(x: &[f64]) -> Vec<f64> {
    if has_nan(x) {
        return vec![f64::NAN; x.len()];
    }
    let mut order: Vec<usize> = (0..x.len()).collect();
    // No NaN is left, so total_cmp only differs from `<` by putting -0.0 right before 0.0, which
    // keeps the two adjacent and so inside one tie group below.
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));

    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let end = tie_group_end(x, &order, start);
        // scipy: first ordinal rank + (count - 1) / 2; exact, as both are small integers or halves.
        let rank = (start + 1) as f64 + (end - start - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// One past the last position of the run of values equal to `x[order[start]]`.
fn tie_group_end(x: &[f64], order: &[usize], start: usize) -> usize {
    let value = x[order[start]];
    let mut end = start + 1;
    while end < order.len() && x[order[end]] == value {
        end += 1;
    }
    end
}

/// scipy's constant-input test: every element `==` the first one (so NaN input is not constant).
fn is_constant(v: &[f64]) -> bool {
    v.iter().all(|&a| a == v[0])
}

fn has_nan(v: &[f64]) -> bool {
    v.iter().any(|a| a.is_nan())
}

/// `(v - mean) / ||v - mean||` the way `pearsonr` computes it: the centred vector is first scaled
/// by its largest magnitude so that squaring cannot overflow, and the norm rescaled afterwards.
fn unit_centred(v: &[f64]) -> Vec<f64> {
    // Two-pass: centre first, then work on the deviations, which is what keeps large offsets
    // (e.g. 1e6 + noise) from cancelling catastrophically.
    let mean = numpy_mean(v);
    let centred: Vec<f64> = v.iter().map(|&a| a - mean).collect();
    let max_abs = max_abs_propagating(&centred);
    let squares: Vec<f64> = centred
        .iter()
        .map(|&a| (a / max_abs) * (a / max_abs))
        .collect();
    let norm = max_abs * numpy_sum(&squares).sqrt();
    centred.iter().map(|&a| a / norm).collect()
}

/// `np.max(np.abs(v))`: NaN if any element is NaN (np.max propagates NaN).
fn max_abs_propagating(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, &a| {
        if a.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(a.abs())
        }
    })
}

/// `np.corrcoef(x, y)[1, 0]`, the path `spearmanr` takes: covariance matrix scaled by
/// `1 / (n - 1)`, then element `[1, 0]` divided by `stddev[1]` and then by `stddev[0]`, clipped.
fn corrcoef(x: &[f64], y: &[f64]) -> f64 {
    let xc = centred(x);
    let yc = centred(y);
    let dot = |a: &[f64], b: &[f64]| {
        let p: Vec<f64> = a.iter().zip(b).map(|(u, v)| u * v).collect();
        numpy_sum(&p)
    };
    // numpy.cov multiplies by the reciprocal (`c *= 1 / fact`) rather than dividing.
    let scale = 1.0 / (x.len() - 1) as f64;
    let cov_xy = dot(&yc, &xc) * scale;
    let sd_x = (dot(&xc, &xc) * scale).sqrt();
    let sd_y = (dot(&yc, &yc) * scale).sqrt();
    clip_unit(cov_xy / sd_y / sd_x)
}

fn centred(v: &[f64]) -> Vec<f64> {
    let mean = numpy_mean(v);
    v.iter().map(|&a| a - mean).collect()
}

/// `np.clip(r, -1, 1)`: rounding can push |r| a hair above 1. NaN passes through.
fn clip_unit(r: f64) -> f64 {
    r.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixture;

    /// scipy's last dot products run through BLAS (summation order depends on the CPU kernel), so
    /// agreement is to a few ulps; the floor covers coefficients near zero.
    const REL: f64 = 1e-12;
    const ABS_FLOOR: f64 = 1e-15;

    #[test]
    fn matches_scipy_fixtures() {
        let cases = fixture::cases("correlation.json");
        assert!(cases.len() >= 15);
        for case in &cases {
            let name = fixture::name(case);
            let x = fixture::floats(case, "x");
            let y = fixture::floats(case, "y");
            let p = pearson(&x, &y);
            let s = spearman(&x, &y);
            fixture::assert_close(
                p,
                fixture::float(case, "pearson"),
                REL,
                ABS_FLOOR,
                &format!("{name} pearson"),
            );
            // Rank arithmetic is exact, so Spearman must match to the bit.
            fixture::assert_bits(
                s,
                fixture::float(case, "spearman"),
                &format!("{name} spearman"),
            );
            for (key, v) in [("rank_x", &x), ("rank_y", &y)] {
                let expected = fixture::floats(case, key);
                let got = rank_average(v);
                for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                    fixture::assert_bits(*g, *e, &format!("{name} {key}[{i}]"));
                }
            }
        }
    }

    #[test]
    fn average_ranks_for_ties() {
        assert_eq!(
            rank_average(&[3.0, 1.0, 3.0, 2.0, 3.0]),
            vec![4.0, 1.0, 4.0, 2.0, 4.0]
        );
        assert_eq!(rank_average(&[0.5, 0.5]), vec![1.5, 1.5]);
        assert_eq!(rank_average(&[0.0, -0.0, 1.0]), vec![1.5, 1.5, 3.0]);
        assert!(rank_average(&[1.0, f64::NAN]).iter().all(|r| r.is_nan()));
        assert!(rank_average(&[]).is_empty());
    }

    #[test]
    fn constant_or_short_input_is_nan() {
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(spearman(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0]).is_nan());
        assert!(pearson(&[1.0], &[2.0]).is_nan());
        assert!(spearman(&[], &[]).is_nan());
    }

    #[test]
    fn n2_pearson_is_exact_but_spearman_is_not() {
        assert_eq!(pearson(&[0.1, 0.7], &[-3.0, 2.5]), 1.0);
        assert_eq!(pearson(&[0.1, 0.7], &[2.5, -3.0]), -1.0);
        // np.corrcoef path: 0.5 / sqrt(0.5) / sqrt(0.5) rounds below 1 and scipy leaves it there.
        assert_eq!(spearman(&[0.1, 0.7], &[-3.0, 2.5]), 0.9999999999999999);
    }

    #[test]
    fn large_offset_does_not_cancel() {
        let base = [0.3, -1.2, 0.8, 2.0, -0.4, 0.1];
        let y = [1.0, -2.0, 0.5, 3.0, 0.0, 0.2];
        let shifted: Vec<f64> = base.iter().map(|v| v + 1e8).collect();
        let r0 = pearson(&base, &y);
        // The shift itself rounds the data at ~1e-8, so only that much may change.
        assert!((pearson(&shifted, &y) - r0).abs() < 1e-7);
    }

    #[test]
    fn infinity_is_nan_for_pearson_but_ranked_for_spearman() {
        let x = [1.0, f64::INFINITY, 3.0, 4.0];
        let y = [1.0, 4.0, 2.0, 3.0];
        assert!(pearson(&x, &y).is_nan());
        assert_eq!(spearman(&x, &y), spearman(&[1.0, 5.0, 3.0, 4.0], &y));
    }
}
