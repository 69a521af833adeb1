//! Evaluation metrics that reproduce the numbers MTEB reports.
//!
//! MTEB does not compute its scores itself: it calls scipy (STS, summarization), scikit-learn
//! (classification, average precision) and a few loops of its own (pair-classification threshold
//! sweeps). Each module here mirrors one of those implementations, including its edge cases (ties,
//! constant input, zero division), so that a score computed here agrees with MTEB's to the last
//! printed digit:
//!
//! - [`correlation`]: `scipy.stats.pearsonr`, `spearmanr`, `rankdata(method="average")`
//! - [`average_precision`]: `sklearn.metrics.average_precision_score` for binary labels
//! - [`classification`]: accuracy / F1 / precision / recall (macro, weighted) and MTEB's binary `ap`
//! - [`pair_threshold`]: MTEB's best-accuracy and best-F1 threshold sweeps
//! - [`trec`]: retrieval metrics with trec_eval (pytrec_eval) semantics plus MTEB's MRR, hit
//!   rate and nAUC, under MTEB's names
//! - [`v_measure`]: `sklearn.metrics` v-measure (homogeneity, completeness) and adjusted mutual
//!   information
//!
//! All inputs are `f64` slices (or integer / bool label slices); all results are `f64`. The
//! fixtures under `tests/fixtures/metrics/` are produced by `scripts/make_metric_fixtures.py`
//! from the Python libraries themselves.

pub mod average_precision;
pub mod classification;
pub mod correlation;
pub mod pair_threshold;
pub mod trec;
pub mod v_measure;

/// Sum of `values` in exactly numpy's order (`np.sum` / `np.add.reduce` on a contiguous float64
/// array), so that results built on sums are bit-identical to numpy's, not merely close.
///
/// numpy does not add left to right: it uses pairwise summation with blocks of at most 128
/// elements, each summed with 8 interleaved accumulators. The reduction starts from the identity
/// 0.0, hence the leading `0.0 +` (which only matters for a sum of `-0.0`s).
pub(crate) fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

/// numpy's `pairwise_sum` (`numpy/_core/src/umath/loops_utils.h.src`), float64 flavour.
fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        // Short input: a plain left-to-right loop.
        a.iter().fold(0.0, |acc, &v| acc + v)
    } else if n <= BLOCK {
        // Eight interleaved partial sums, combined as a balanced tree, then the tail (n % 8).
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        for chunk in a[8..full].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[full..] {
            res += v;
        }
        res
    } else {
        // Split in two halves, the first rounded down to a multiple of the unroll factor 8.
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// numpy's `x.mean()` for a float64 vector: numpy's sum divided by the count.
pub(crate) fn numpy_mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

/// `np.std(x)` (ddof 0): mean, squared deviations, their mean, square root, in numpy's sums.
pub(crate) fn numpy_std(x: &[f64]) -> f64 {
    let mean = numpy_mean(x);
    let squared: Vec<f64> = x.iter().map(|v| (v - mean) * (v - mean)).collect();
    numpy_mean(&squared).sqrt()
}

/// Shared helpers for the fixture-driven unit tests.
///
/// Fixture floats are stored as strings holding Python's `repr` ("nan" for NaN) because
/// `str::parse::<f64>` is correctly rounded while serde_json's default float parser is not
/// guaranteed to be; that keeps inputs and expected values bit-exact.
#[cfg(test)]
pub(crate) mod fixture {
    use serde_json::Value;

    /// Parses `tests/fixtures/metrics/<name>` and returns its `cases` array.
    pub fn cases(name: &str) -> Vec<Value> {
        let path = format!(
            "{}/tests/fixtures/metrics/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let root: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        root["cases"]
            .as_array()
            .expect("fixture has a `cases` array")
            .clone()
    }

    /// A float field (repr string).
    pub fn float(case: &Value, key: &str) -> f64 {
        parse_float(&case[key]).unwrap_or_else(|| panic!("{}: `{key}` is not a float", name(case)))
    }

    /// An optional float field (`null` means MTEB reported None).
    pub fn opt_float(case: &Value, key: &str) -> Option<f64> {
        if case[key].is_null() {
            None
        } else {
            Some(float(case, key))
        }
    }

    /// A list of floats (repr strings).
    pub fn floats(case: &Value, key: &str) -> Vec<f64> {
        case[key]
            .as_array()
            .unwrap_or_else(|| panic!("{}: `{key}` is not a list", name(case)))
            .iter()
            .map(|v| parse_float(v).expect("float list item"))
            .collect()
    }

    /// A list of integers.
    pub fn ints(case: &Value, key: &str) -> Vec<i64> {
        case[key]
            .as_array()
            .unwrap_or_else(|| panic!("{}: `{key}` is not a list", name(case)))
            .iter()
            .map(|v| v.as_i64().expect("integer list item"))
            .collect()
    }

    /// A list of 0/1 integers as booleans.
    pub fn bools(case: &Value, key: &str) -> Vec<bool> {
        ints(case, key)
            .into_iter()
            .map(|v| {
                assert!(
                    v == 0 || v == 1,
                    "{}: `{key}` holds {v}, not 0/1",
                    name(case)
                );
                v == 1
            })
            .collect()
    }

    /// The case's `name` (plus its score direction where it has one), for failure messages.
    pub fn name(case: &Value) -> String {
        let base = case["name"].as_str().unwrap_or("?").to_string();
        match case.get("high_score_more_similar").and_then(Value::as_bool) {
            Some(high) => format!("{base} (high_score_more_similar={high})"),
            None => base,
        }
    }

    fn parse_float(v: &Value) -> Option<f64> {
        v.as_str()?.parse::<f64>().ok()
    }

    /// `actual` equals `expected` within `rel` relative tolerance (absolute `abs_floor` near
    /// zero); NaN matches only NaN.
    pub fn assert_close(actual: f64, expected: f64, rel: f64, abs_floor: f64, what: &str) {
        if expected.is_nan() {
            assert!(actual.is_nan(), "{what}: expected NaN, got {actual:e}");
            return;
        }
        let diff = (actual - expected).abs();
        let tol = (rel * expected.abs()).max(abs_floor);
        assert!(
            diff <= tol,
            "{what}: got {actual:e}, expected {expected:e} (|diff| {diff:e} > tol {tol:e})"
        );
    }

    /// Bit-for-bit equality (`-0.0` vs `0.0` counts as a difference; NaN matches NaN).
    pub fn assert_bits(actual: f64, expected: f64, what: &str) {
        let same = actual.to_bits() == expected.to_bits() || (actual.is_nan() && expected.is_nan());
        assert!(
            same,
            "{what}: got {actual:e} ({actual:?}), expected {expected:e} ({expected:?})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Left-to-right reference, to show the pairwise order really differs on awkward inputs.
    fn naive(a: &[f64]) -> f64 {
        a.iter().sum()
    }

    #[test]
    fn short_sums_are_left_to_right() {
        let a = [0.1, 0.2, 0.3, 1e16, -1e16, 0.7, 0.5];
        assert_eq!(numpy_sum(&a).to_bits(), naive(&a).to_bits());
    }

    #[test]
    fn block_sum_uses_eight_accumulators() {
        // 1e16 + 1.0 loses the 1.0; with 8 accumulators the 1.0s land in lanes apart from 1e16.
        let mut a = vec![1.0; 16];
        a[0] = 1e16;
        a[8] = -1e16;
        // Lane 0 holds 1e16 + -1e16 = 0 and the other 14 lanes keep their 1.0s.
        assert_eq!(numpy_sum(&a), 14.0);
        assert_ne!(naive(&a), 14.0);
    }

    #[test]
    fn negative_zero_sum_is_positive_zero() {
        // numpy starts the reduction from the identity +0.0: np.sum([-0.0]) == +0.0.
        assert_eq!(numpy_sum(&[-0.0]).to_bits(), 0.0f64.to_bits());
        assert_eq!(numpy_sum(&[]).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn long_sums_split_on_multiples_of_eight() {
        // n = 300 > 128: split at 144 (150 rounded down to a multiple of 8), then 144 -> 72 + 72
        // blocks. Check against the explicit decomposition.
        let a: Vec<f64> = (0..300)
            .map(|i| ((i * 7919) % 1000) as f64 * 1e-3 + 1e-9)
            .collect();
        let expect = pairwise_sum(&a[..144]) + pairwise_sum(&a[144..]);
        assert_eq!(numpy_sum(&a).to_bits(), (0.0 + expect).to_bits());
        assert!((numpy_sum(&a) - naive(&a)).abs() < 1e-9);
    }
}
