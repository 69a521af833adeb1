//! NumPy's legacy `numpy.random.RandomState`, for the calls MTEB makes on it.
//!
//! MTEB (v1 and v2 alike) undersamples classification train splits with `RandomState(42).shuffle`,
//! and the scikit-learn `MiniBatchKMeans` of its clustering tasks draws from `RandomState(42)`
//! through `randint`, `uniform`, `choice` (with and without `p`) and `permutation` (see
//! `crate::learn::kmeans`). The legacy API is frozen by NumPy's compatibility policy, so its
//! stream is stable across NumPy versions, unlike `numpy.random.Generator`.

use std::collections::HashMap;
use std::hash::Hash;

use super::Mt19937;

/// `numpy.random.RandomState(seed)` for an integer seed.
#[derive(Clone)]
pub struct RandomState {
    mt: Mt19937,
}

impl RandomState {
    /// `RandomState(seed)`: NumPy seeds MT19937 with the reference `init_genrand(seed)`, the same
    /// as C++ `std::mt19937(seed)` (and unlike CPython's `random.Random(seed)`).
    pub fn new(seed: u32) -> Self {
        Self {
            mt: Mt19937::from_seed(seed),
        }
    }

    /// The next raw 32-bit MT19937 output, as NumPy's `next_uint32`.
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// NumPy's `next_uint64` for MT19937: two draws, the first one becoming the high word.
    fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        let low = u64::from(self.next_u32());
        (high << 32) | low
    }

    /// A uniform integer in `0..=max`, as NumPy's legacy `random_interval(max)`.
    ///
    /// Draws are masked to the smallest all-ones bit pattern covering `max` and rejected while
    /// above it. Only a `max` beyond 32 bits costs two draws per try; `max == 0` draws nothing.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = all_ones_covering(max);
        if max <= u64::from(u32::MAX) {
            loop {
                let value = u64::from(self.next_u32()) & mask;
                if value <= max {
                    return value;
                }
            }
        }
        loop {
            let value = self.next_u64() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `random_sample()`: a double in `[0, 1)` with 53 random bits, from two draws (NumPy's
    /// `next_double` for MT19937): the first word's top 27 bits and the second's top 26.
    pub fn random_sample(&mut self) -> f64 {
        let high = f64::from(self.next_u32() >> 5);
        let low = f64::from(self.next_u32() >> 6);
        (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
    }

    /// Legacy `uniform(low, high)`: `low + (high - low) * random_sample()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    /// Legacy `randint(low, high)` for the default `int64` dtype: `low` plus
    /// [`random_interval`](Self::random_interval)`(high - 1 - low)`. An array `randint(low, high,
    /// size)` is `size` such draws in a row. Panics unless `low < high`.
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "randint: low >= high");
        let max = (i128::from(high) - 1 - i128::from(low)) as u64;
        low.wrapping_add(self.random_interval(max) as i64)
    }

    /// Legacy `permutation(n)`: `arange(n)` shuffled with [`shuffle`](Self::shuffle). Legacy
    /// `choice(n, size, replace=False)` (no `p`) is the first `size` entries of this.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut x: Vec<usize> = (0..n).collect();
        self.shuffle(&mut x);
        x
    }

    /// Legacy `choice(len(p), size, replace=True, p=p)`: the cumulative sum of `p` (left to
    /// right, in double precision) is divided by its last entry, then each of the `size` draws is
    /// the number of entries `<=` one [`random_sample`](Self::random_sample) (`searchsorted(...,
    /// side="right")`). Float32 probabilities must be widened to `f64` by the caller, as NumPy
    /// does. NumPy's validation of `p` (non-negative, summing to 1 within `sqrt(eps)`) is left
    /// to the caller; `p` must not be empty.
    pub fn choice_with_p(&mut self, p: &[f64], size: usize) -> Vec<usize> {
        assert!(!p.is_empty(), "choice: p is empty");
        let mut cdf = Vec::with_capacity(p.len());
        let mut running = 0.0f64;
        for &pi in p {
            running += pi;
            cdf.push(running);
        }
        let total = running;
        for c in &mut cdf {
            *c /= total;
        }
        (0..size)
            .map(|_| {
                let u = self.random_sample();
                cdf.partition_point(|&c| c <= u)
            })
            .collect()
    }

    /// Legacy `RandomState.shuffle` of a 1-D sequence: Fisher-Yates from the back, drawing each
    /// partner with [`random_interval`](Self::random_interval). NumPy takes the same draws for a
    /// list and for a 1-D array.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            x.swap(i, j);
        }
    }
}

/// The smallest `2^b - 1` that is `>= value`.
fn all_ones_covering(value: u64) -> u64 {
    u64::MAX >> value.leading_zeros()
}

/// MTEB's classification train undersampling (`AbsTaskClassification._undersample_data`, run once
/// per experiment), returning the indices into `labels` that each experiment trains on.
///
/// The index list starts as `0..n` once. Every experiment then shuffles it in place with a *fresh*
/// `RandomState(42)`, so experiment k shuffles the order left by experiment k−1 and the draws
/// repeat while the permutation keeps compounding. Walking the shuffled list, an index is kept
/// while fewer than `samples_per_label` items of its label have been kept in this experiment.
/// Each returned list is in walk order, which is the order MTEB feeds its classifier.
pub fn mteb_undersample<L: Eq + Hash>(
    labels: &[L],
    samples_per_label: usize,
    n_experiments: usize,
) -> Vec<Vec<usize>> {
    const MTEB_SEED: u32 = 42;
    let mut idxs: Vec<usize> = (0..labels.len()).collect();
    (0..n_experiments)
        .map(|_| {
            RandomState::new(MTEB_SEED).shuffle(&mut idxs);
            keep_per_label(labels, &idxs, samples_per_label)
        })
        .collect()
}

/// The first `samples_per_label` indices of each label, in the order of `idxs`.
fn keep_per_label<L: Eq + Hash>(
    labels: &[L],
    idxs: &[usize],
    samples_per_label: usize,
) -> Vec<usize> {
    let mut kept_per_label: HashMap<&L, usize> = HashMap::new();
    idxs.iter()
        .copied()
        .filter(|&i| {
            let kept = kept_per_label.entry(&labels[i]).or_insert(0);
            let keep = *kept < samples_per_label;
            *kept += usize::from(keep);
            keep
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fixture::{load, u64s, usizes};

    #[test]
    fn seeding_matches_get_state() {
        let fixture = load("numpy_mt19937.json");
        let expected = u64s(&fixture["state_after_seeding"]["key"]);
        let actual: Vec<u64> = Mt19937::from_seed(42)
            .state()
            .iter()
            .map(|&w| u64::from(w))
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn raw_stream_matches() {
        let fixture = load("numpy_mt19937.json");
        let mut rs = RandomState::new(42);
        let actual: Vec<u64> = (0..20).map(|_| u64::from(rs.next_u32())).collect();
        assert_eq!(actual, u64s(&fixture["raw_u32"]["values"]));
    }

    #[test]
    fn random_interval_matches_legacy_randint() {
        // Legacy randint(0, max + 1) uses random_interval's mask-and-reject on both widths.
        let fixture = load("numpy_mt19937.json");
        for case in fixture["bounded"].as_array().unwrap() {
            let max = case["max"].as_u64().unwrap();
            let expected = u64s(&case["values"]);
            let mut rs = RandomState::new(42);
            let actual: Vec<u64> = expected.iter().map(|_| rs.random_interval(max)).collect();
            assert_eq!(actual, expected, "{}", case["call"]);
            let after = u64::from(rs.next_u32());
            assert_eq!(
                after,
                case["next_u32_after"].as_u64().unwrap(),
                "{}",
                case["call"]
            );
        }
    }

    #[test]
    fn random_interval_of_zero_draws_nothing() {
        let mut rs = RandomState::new(42);
        assert_eq!(rs.random_interval(0), 0);
        assert_eq!(rs.next_u32(), RandomState::new(42).next_u32());
    }

    #[test]
    fn mask_is_smallest_cover() {
        assert_eq!(all_ones_covering(1), 1);
        assert_eq!(all_ones_covering(2), 3);
        assert_eq!(all_ones_covering(8), 15);
        assert_eq!(all_ones_covering(u64::from(u32::MAX)), u64::from(u32::MAX));
        assert_eq!(all_ones_covering(1 << 32), (1 << 33) - 1);
        assert_eq!(all_ones_covering(u64::MAX), u64::MAX);
    }

    #[test]
    fn shuffles_match() {
        let fixture = load("numpy_mt19937.json");
        for case in fixture["shuffles"].as_array().unwrap() {
            let n = case["n"].as_u64().unwrap() as usize;
            let mut x: Vec<usize> = (0..n).collect();
            let mut rs = RandomState::new(42);
            rs.shuffle(&mut x);
            assert_eq!(x, usizes(&case["shuffled"]), "{}", case["call"]);
            let after = u64::from(rs.next_u32());
            assert_eq!(
                after,
                case["next_u32_after"].as_u64().unwrap(),
                "{}",
                case["call"]
            );
        }
    }

    fn check_undersample_case(task: &str) {
        let fixture = load("mteb_undersample.json");
        let case = fixture["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["task"] == task)
            .unwrap_or_else(|| panic!("no fixture for {task}"));
        // The train labels in file order, copied into the fixture from ../shared/data.
        let labels: Vec<i64> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_i64().unwrap())
            .collect();
        assert_eq!(labels.len() as u64, case["n_train"].as_u64().unwrap());
        let per_label = case["samples_per_label"].as_u64().unwrap() as usize;
        let n_experiments = case["n_experiments"].as_u64().unwrap() as usize;

        let actual = mteb_undersample(&labels, per_label, n_experiments);

        let expected = case["experiments"].as_array().unwrap();
        assert_eq!(actual.len(), expected.len());
        for (k, (got, want)) in actual.iter().zip(expected).enumerate() {
            assert_eq!(got, &usizes(want), "{task} experiment {k}");
        }
    }

    #[test]
    fn banking77_undersampling_matches_mteb() {
        check_undersample_case("Banking77Classification");
    }

    #[test]
    fn tweet_sentiment_undersampling_matches_mteb() {
        check_undersample_case("TweetSentimentExtractionClassification");
    }

    #[test]
    fn undersampling_keeps_all_of_a_small_label() {
        // Label 1 occurs twice, below the quota: both are kept, and experiments differ in order only.
        let labels = [0, 0, 0, 1, 0, 1, 0];
        let runs = mteb_undersample(&labels, 3, 2);
        for kept in &runs {
            assert_eq!(kept.iter().filter(|&&i| labels[i] == 1).count(), 2);
            assert_eq!(kept.iter().filter(|&&i| labels[i] == 0).count(), 3);
        }
    }
}
