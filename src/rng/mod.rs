//! Exact replicas of the random streams that MTEB's evaluation protocol draws from.
//!
//! MTEB samples training examples and documents with Python generators: classification undersamples
//! its train split with NumPy's legacy `RandomState(42)`, and clustering picks documents and bootstrap
//! draws with CPython's `random.Random(42)`. A score is only comparable with MTEB's when the same
//! items are picked, so these types reproduce those streams bit for bit (the sampled indices equal
//! Python's), not merely in distribution. Both generators are MT19937 underneath and differ only
//! in how they seed it and how they turn its 32-bit words into numbers.
//!
//! - [`numpy_legacy`]: `numpy.random.RandomState(seed)` (seeding, bounded integers, `shuffle`) and
//!   MTEB's classification undersampling built on it.
//! - [`python_random`]: `random.Random(seed)` (`random`, `getrandbits`, `sample`, `choices`).
//! - [`numpy_generator`]: `numpy.random.default_rng(seed)` (PCG64; `permutation`, `shuffle`,
//!   `choice` without replacement), which Hugging Face `datasets` cuts test splits with.
//!
//! The fixtures under `tests/fixtures/rng/` come from the real Python generators
//! (`scripts/make_rng_fixtures.py`, `scripts/make_split_fixtures.py`).

pub mod numpy_generator;
pub mod numpy_legacy;
pub mod python_random;

/// Words in the MT19937 state.
const N: usize = 624;
/// Offset of the word mixed into each twisted word.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The MT19937 generator of Matsumoto and Nishimura (1998), the core shared by NumPy's legacy
/// `RandomState` and CPython's `random.Random`. Only the seeding differs between them, so both
/// reference seeding routines are provided.
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; N],
    /// Next word of `state` to temper; `N` means the state must be twisted first.
    index: usize,
}

impl Mt19937 {
    /// Reference `init_genrand(seed)`: NumPy's `RandomState(seed)` and C++ `std::mt19937(seed)`.
    pub fn from_seed(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            state[i] = spread(state[i - 1], 1_812_433_253).wrapping_add(i as u32);
        }
        Self { state, index: N }
    }

    /// Reference `init_by_array(key)`: CPython seeds `random.Random(n)` with the 32-bit words of
    /// `abs(n)`. An empty key behaves as `[0]`, which is what CPython passes for a zero seed.
    pub fn from_key(key: &[u32]) -> Self {
        let key: &[u32] = if key.is_empty() { &[0] } else { key };
        let mut mt = Self::from_seed(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            s[i] = (s[i] ^ spread(s[i - 1], 1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i = advance(s, i);
            j = (j + 1) % key.len();
        }
        for _ in 0..N - 1 {
            s[i] = (s[i] ^ spread(s[i - 1], 1_566_083_941)).wrapping_sub(i as u32);
            i = advance(s, i);
        }
        // Guarantees a non-zero state whatever the key was.
        s[0] = 0x8000_0000;
        mt
    }

    /// The untempered state words, in the order NumPy's `get_state()[1]` and CPython's
    /// `getstate()[1][:624]` list them.
    pub fn state(&self) -> &[u32; N] {
        &self.state
    }

    /// The next 32-bit output (reference `genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let y = self.state[self.index];
        self.index += 1;
        temper(y)
    }

    /// Regenerates all `N` words at once, as the reference code does every `N` outputs.
    fn twist(&mut self) {
        let s = &mut self.state;
        for i in 0..N {
            let y = (s[i] & UPPER_MASK) | (s[(i + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            s[i] = s[(i + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }
}

/// The seeding recurrence's mixing step: `factor * (x ^ (x >> 30))` modulo 2^32.
fn spread(x: u32, factor: u32) -> u32 {
    (x ^ (x >> 30)).wrapping_mul(factor)
}

/// Steps `init_by_array`'s write position, wrapping to 1 and carrying the last word into slot 0
/// so the recurrence keeps reading a freshly written predecessor.
fn advance(s: &mut [u32; N], i: usize) -> usize {
    if i + 1 < N {
        return i + 1;
    }
    s[0] = s[N - 1];
    1
}

/// The output transform that improves the equidistribution of a raw state word.
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs_of_std_mt19937() {
        // C++ requires the 10000th output of a default-seeded std::mt19937 (seed 5489) to be this.
        let mut mt = Mt19937::from_seed(5489);
        let ten_thousandth = (0..10_000).map(|_| mt.next_u32()).last();
        assert_eq!(ten_thousandth, Some(4_123_659_995));
    }

    #[test]
    fn reference_outputs_of_init_by_array() {
        // First outputs of the authors' mt19937ar.c test program, key {0x123, 0x234, 0x345, 0x456}.
        let mut mt = Mt19937::from_key(&[0x123, 0x234, 0x345, 0x456]);
        let first: Vec<u32> = (0..5).map(|_| mt.next_u32()).collect();
        assert_eq!(
            first,
            [
                1_067_595_299,
                955_945_823,
                477_289_528,
                4_107_218_783,
                4_228_976_476
            ]
        );
    }
}

/// Readers shared by the fixture-driven tests of both generators.
#[cfg(test)]
pub(crate) mod fixture {
    use serde_json::Value;

    /// Parses `tests/fixtures/rng/<name>`.
    pub fn load(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/rng/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    pub fn u64s(v: &Value) -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    }

    pub fn usizes(v: &Value) -> Vec<usize> {
        u64s(v).into_iter().map(|x| x as usize).collect()
    }

    /// Checks drawn values against a fixture summary: count, first and last 100, sum.
    pub fn assert_summary(values: &[usize], summary: &Value) {
        let call = summary["call"].as_str().unwrap();
        let k = summary["k"].as_u64().unwrap() as usize;
        assert_eq!(values.len(), k, "{call}");
        assert_eq!(&values[..100], usizes(&summary["first_100"]), "{call}");
        assert_eq!(
            &values[values.len() - 100..],
            usizes(&summary["last_100"]),
            "{call}"
        );
        let sum: u64 = values.iter().map(|&v| v as u64).sum();
        assert_eq!(Some(sum), summary["sum"].as_u64(), "{call}");
    }

    /// Checks a clustering chain's document subsample: its first 100 positions and its sum.
    pub fn assert_chain_sample(docs: &[usize], chain: &Value) {
        assert_eq!(&docs[..100], usizes(&chain["sample_first_100"]));
        let sum: u64 = docs.iter().map(|&d| d as u64).sum();
        assert_eq!(Some(sum), chain["sample_sum"].as_u64());
    }
}
