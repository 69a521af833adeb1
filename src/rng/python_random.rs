//! CPython's `random.Random`, for the calls MTEB makes on it.
//!
//! MTEB's fast clustering picks the documents to embed with `Random(42).sample(range(n), m)` and
//! then draws every bootstrap from the same generator with `choices(range(m), k=16384)`. The
//! behaviour replicated here is CPython 3.11's (`Modules/_randommodule.c` and `Lib/random.py`).

use std::collections::HashSet;

use super::Mt19937;

/// `random.Random(seed)` for an integer seed.
#[derive(Clone)]
pub struct PyRandom {
    mt: Mt19937,
}

impl PyRandom {
    /// `random.Random(seed)`: CPython feeds the 32-bit words of `abs(seed)`, least significant
    /// first, to MT19937's `init_by_array`, so `Random(42)` and NumPy's `RandomState(42)` differ.
    pub fn new(seed: i64) -> Self {
        Self {
            mt: Mt19937::from_key(&seed_key(seed.unsigned_abs())),
        }
    }

    /// The next raw 32-bit MT19937 output.
    pub fn genrand_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// `random()`: a float in `[0, 1)` built from 27 + 26 bits of two successive words, so
    /// every multiple of 2^-53 below 1 is equally likely.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.genrand_u32() >> 5);
        let b = f64::from(self.genrand_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `k <= 64`.
    ///
    /// # Panics
    /// When `k > 64`; use [`getrandbits_words`](Self::getrandbits_words) for wider values.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits({k}) does not fit in a u64");
        if k <= 32 {
            // CPython's fast path, also taken by every randbelow below 2^32.
            return u64::from(self.top_bits(k));
        }
        let words = self.getrandbits_words(k);
        words
            .iter()
            .rev()
            .fold(0u64, |acc, &w| (acc << 32) | u64::from(w))
    }

    /// `getrandbits(k)` for any `k`, as little-endian 32-bit words (`ceil(k / 32)` of them).
    ///
    /// CPython fills the integer from its least significant word up, one draw per word, and
    /// keeps only the top bits of the draw for a final partial word.
    pub fn getrandbits_words(&mut self, k: u32) -> Vec<u32> {
        let n_words = k.div_ceil(32);
        (0..n_words)
            .map(|i| self.top_bits((k - 32 * i).min(32)))
            .collect()
    }

    /// The top `bits` bits (1..=32) of one draw; 0 bits takes no draw.
    fn top_bits(&mut self, bits: u32) -> u32 {
        if bits == 0 {
            return 0;
        }
        self.genrand_u32() >> (32 - bits)
    }

    /// `_randbelow(n)`: a uniform integer in `0..n` by rejection on `bit_length(n)` bits.
    ///
    /// Using `n`'s own bit length (not `n - 1`'s) is CPython's choice; it wastes draws when `n`
    /// is a power of two, and replicas must waste them too.
    ///
    /// # Panics
    /// When `n == 0` (CPython would loop forever).
    pub fn randbelow(&mut self, n: u64) -> u64 {
        assert!(n > 0, "randbelow(0) has no value to return");
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `sample(range(n_population), k)`: `k` distinct indices in selection order.
    ///
    /// CPython picks one of two algorithms by comparing the population with the memory a
    /// `k`-element set would need (see [`sample_uses_pool`]); they consume the stream differently,
    /// so both are replicated.
    ///
    /// # Panics
    /// When `k > n_population` (CPython raises `ValueError`).
    pub fn sample(&mut self, n_population: usize, k: usize) -> Vec<usize> {
        assert!(
            k <= n_population,
            "sample of {k} from a population of {n_population}"
        );
        if sample_uses_pool(n_population, k) {
            self.sample_from_pool(n_population, k)
        } else {
            self.sample_by_rejection(n_population, k)
        }
    }

    /// Partial Fisher-Yates on a copy of the population: each pick is replaced by the last
    /// unpicked item.
    fn sample_from_pool(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = (0..n).collect();
        (0..k)
            .map(|i| {
                let j = self.randbelow((n - i) as u64) as usize;
                let picked = pool[j];
                pool[j] = pool[n - i - 1];
                picked
            })
            .collect()
    }

    /// Draws from the whole population, redrawing any index already picked.
    fn sample_by_rejection(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut selected = HashSet::with_capacity(k);
        (0..k)
            .map(|_| loop {
                let j = self.randbelow(n as u64) as usize;
                if selected.insert(j) {
                    break j;
                }
            })
            .collect()
    }

    /// `choices(range(n_population), k=k)` without weights: `k` indices drawn with replacement,
    /// each `floor(random() * n)` (not `randbelow`, so one draw pair per index, never rejected).
    ///
    /// # Panics
    /// When `n_population == 0` and `k > 0` (CPython raises `IndexError`).
    pub fn choices(&mut self, n_population: usize, k: usize) -> Vec<usize> {
        assert!(
            n_population > 0 || k == 0,
            "choices from an empty population"
        );
        let n = n_population as f64;
        (0..k)
            .map(|_| (self.random() * n).floor() as usize)
            .collect()
    }
}

/// The `init_by_array` key CPython derives from a non-negative seed: its 32-bit words, least
/// significant first, as many as its bit length needs (one for a zero seed).
fn seed_key(seed: u64) -> Vec<u32> {
    let low = seed as u32;
    let high = (seed >> 32) as u32;
    if high == 0 {
        vec![low]
    } else {
        vec![low, high]
    }
}

/// Whether CPython 3.11's `sample` takes its pool path rather than its rejection-set path.
///
/// CPython compares `n` with `setsize = 21`, plus `4 ** ceil(log(3k, 4))` (a set's hash table
/// size) when `k > 5`; the pool path runs when `n <= setsize`. CPython evaluates the logarithm
/// in floating point; the exact integer form used here agrees because `3k` is never a power of 4,
/// so the logarithm is never an integer that rounding could push either way.
pub fn sample_uses_pool(n_population: usize, k: usize) -> bool {
    let mut set_size: u128 = 21;
    if k > 5 {
        set_size += smallest_power_of_4_at_least(3 * k as u128);
    }
    n_population as u128 <= set_size
}

fn smallest_power_of_4_at_least(x: u128) -> u128 {
    let mut power = 1u128;
    while power < x {
        power *= 4;
    }
    power
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fixture::{assert_chain_sample, assert_summary, load, u64s, usizes};
    use serde_json::Value;

    fn as_usize(v: &Value) -> usize {
        v.as_u64().unwrap() as usize
    }

    /// Python's `format(x, "x")` of a little-endian word array.
    fn words_to_hex(words: &[u32]) -> String {
        let mut significant = words.iter().rev().skip_while(|&&w| w == 0);
        match significant.next() {
            None => "0".to_string(),
            Some(top) => significant.fold(format!("{top:x}"), |s, w| s + &format!("{w:08x}")),
        }
    }

    #[test]
    fn seeding_matches_getstate() {
        let fixture = load("python_random.json");
        let state = &fixture["state_after_seeding"];
        let actual: Vec<u64> = Mt19937::from_key(&seed_key(42))
            .state()
            .iter()
            .map(|&w| u64::from(w))
            .collect();
        assert_eq!(actual, u64s(&state["key"]));
        // Position 624: the first draw twists the freshly seeded state, as in Mt19937.
        assert_eq!(state["pos"].as_u64(), Some(624));
    }

    #[test]
    fn seed_key_uses_abs_and_word_count() {
        assert_eq!(seed_key(0), [0]);
        assert_eq!(seed_key(42), [42]);
        assert_eq!(seed_key(1 << 32), [0, 1]);
        let negative = PyRandom::new(-42).genrand_u32();
        assert_eq!(negative, PyRandom::new(42).genrand_u32());
    }

    #[test]
    fn random_matches_repr() {
        let fixture = load("python_random.json");
        let mut rng = PyRandom::new(42);
        for repr in fixture["random"]["repr"].as_array().unwrap() {
            let expected: f64 = repr.as_str().unwrap().parse().unwrap();
            assert_eq!(rng.random().to_bits(), expected.to_bits(), "{repr}");
        }
    }

    #[test]
    fn getrandbits_matches() {
        let fixture = load("python_random.json");
        let mut wide = PyRandom::new(42);
        let mut narrow = PyRandom::new(42);
        for draw in fixture["getrandbits"]["draws"].as_array().unwrap() {
            let k = draw["k"].as_u64().unwrap() as u32;
            let hex = draw["hex"].as_str().unwrap();
            assert_eq!(words_to_hex(&wide.getrandbits_words(k)), hex, "k = {k}");
            // The u64 form must stay in step with the word form while k fits.
            if k <= 64 {
                assert_eq!(format!("{:x}", narrow.getrandbits(k)), hex, "k = {k}");
            } else {
                narrow.getrandbits_words(k);
            }
        }
    }

    #[test]
    fn randbelow_matches() {
        let fixture = load("python_random.json");
        let mut rng = PyRandom::new(42);
        for draw in fixture["randbelow"]["draws"].as_array().unwrap() {
            let n: u64 = draw["n"].as_str().unwrap().parse().unwrap();
            let value: u64 = draw["value"].as_str().unwrap().parse().unwrap();
            assert_eq!(rng.randbelow(n), value, "n = {n}");
        }
    }

    #[test]
    fn sample_matches_on_both_paths() {
        let fixture = load("python_random.json");
        let cases = fixture["sample"].as_array().unwrap();
        for case in cases {
            let (n, k) = (as_usize(&case["n"]), as_usize(&case["k"]));
            let call = case["call"].as_str().unwrap();
            assert_eq!(sample_uses_pool(n, k), case["path"] == "pool", "{call}");
            let mut rng = PyRandom::new(42);
            assert_eq!(rng.sample(n, k), usizes(&case["values"]), "{call}");
            let after = u64::from(rng.genrand_u32());
            assert_eq!(Some(after), case["getrandbits32_after"].as_u64(), "{call}");
        }
        let pool_cases = cases.iter().filter(|c| c["path"] == "pool").count();
        assert!(
            pool_cases > 0 && pool_cases < cases.len(),
            "fixture must cover both paths"
        );
    }

    #[test]
    fn sample_path_boundaries() {
        assert!(sample_uses_pool(21, 5));
        assert!(!sample_uses_pool(22, 5));
        // k = 6 is the first k whose setsize adds the table: 3k = 18, table 64, setsize 85.
        assert!(sample_uses_pool(85, 6));
        assert!(!sample_uses_pool(86, 6));
        // k = 10: 3k = 30, table 64, setsize 85.
        assert!(sample_uses_pool(85, 10));
        assert!(!sample_uses_pool(86, 10));
        // k = 2151 (MTEB Biorxiv): 3k = 6453, table 16384.
        assert!(sample_uses_pool(16_405, 2151));
        assert!(!sample_uses_pool(16_406, 2151));
    }

    /// Compares `choices` output with a stored head, tail and sum.
    #[test]
    fn choices_match() {
        let fixture = load("python_random.json");
        let case = &fixture["choices"];
        let mut rng = PyRandom::new(42);
        let values = rng.choices(as_usize(&case["n"]), as_usize(&case["k"]));
        assert_summary(&values, case);
        assert_eq!(
            Some(u64::from(rng.genrand_u32())),
            case["getrandbits32_after"].as_u64()
        );
    }

    #[test]
    fn clustering_chain_matches() {
        // One generator draws MTEB's document subsample and then all ten bootstraps.
        let fixture = load("python_random.json");
        for key in ["clustering_chain", "clustering_chain_sib200"] {
            let chain = &fixture[key];
            let mut rng = PyRandom::new(42);
            let m = as_usize(&chain["m"]);
            let docs = rng.sample(as_usize(&chain["n_docs"]), m);
            assert_chain_sample(&docs, chain);
            for summary in chain["bootstraps"].as_array().unwrap() {
                let values = rng.choices(m, as_usize(&summary["k"]));
                assert_summary(&values, summary);
            }
        }
    }

    #[test]
    fn empty_requests_draw_nothing() {
        let mut rng = PyRandom::new(42);
        assert!(rng.sample(0, 0).is_empty());
        assert!(rng.choices(0, 0).is_empty());
        assert_eq!(rng.getrandbits(0), 0);
        assert!(rng.getrandbits_words(0).is_empty());
        assert_eq!(rng.genrand_u32(), PyRandom::new(42).genrand_u32());
    }
}
