//! NumPy's `np.random.default_rng(seed)`: a `SeedSequence` expanding the seed into a PCG64 state,
//! and the `Generator` methods Hugging Face `datasets` draws test cuts with (`permutation`,
//! `shuffle`, `choice(replace=False)`).
//!
//! The methods draw numbers two ways, and which one each uses matters for bit-exact indices:
//! `shuffle`/`permutation` take each swap partner with the masked rejection of
//! [`random_interval`](Generator::random_interval), while `choice` (Floyd's algorithm, its tail
//! shuffle and its final shuffle) uses Lemire's multiply-and-reject
//! ([`bounded`](Generator::bounded)). Both read 32-bit draws from one 64-bit output at a time,
//! low half first.

/// `SeedSequence`'s pool holds four 32-bit words.
const POOL_SIZE: usize = 4;
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
/// PCG64's 128-bit LCG multiplier.
const PCG_MULTIPLIER: u128 = 0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645;

/// `SeedSequence(seed).generate_state(n_words, np.uint32)` for a non-negative integer seed with no
/// spawn key.
fn seed_sequence_words(seed: u64, n_words: usize) -> Vec<u32> {
    // The seed as little-endian 32-bit words; zero is one zero word.
    let mut entropy = vec![seed as u32];
    if seed >> 32 != 0 {
        entropy.push((seed >> 32) as u32);
    }
    let mut hash_const = INIT_A;
    let mut hashmix = |value: u32| {
        let mut v = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_A);
        v = v.wrapping_mul(hash_const);
        v ^ (v >> XSHIFT)
    };
    let mix = |x: u32, y: u32| {
        let r = MIX_MULT_L
            .wrapping_mul(x)
            .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
        r ^ (r >> XSHIFT)
    };
    let mut pool = [0u32; POOL_SIZE];
    for (i, slot) in pool.iter_mut().enumerate() {
        *slot = hashmix(entropy.get(i).copied().unwrap_or(0));
    }
    for src in 0..POOL_SIZE {
        for dst in 0..POOL_SIZE {
            if src != dst {
                pool[dst] = mix(pool[dst], hashmix(pool[src]));
            }
        }
    }
    for &word in entropy.iter().skip(POOL_SIZE) {
        for slot in pool.iter_mut() {
            *slot = mix(*slot, hashmix(word));
        }
    }
    let mut hash_const = INIT_B;
    (0..n_words)
        .map(|i| {
            let mut v = pool[i % POOL_SIZE] ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            v ^ (v >> XSHIFT)
        })
        .collect()
}

/// `np.random.default_rng(seed)`: PCG64 (XSL-RR output of a 128-bit LCG) and the `Generator`
/// methods built on it.
#[derive(Clone)]
pub struct Generator {
    state: u128,
    increment: u128,
    /// The upper half of the last 64-bit output, when a 32-bit draw has left it unused.
    spare_u32: Option<u32>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        let w = seed_sequence_words(seed, 8);
        // generate_state(4, uint64): each 64-bit word is two 32-bit words, low first; the first
        // two form the initial state (high word first), the last two the stream.
        let u: Vec<u64> = (0..4)
            .map(|i| u64::from(w[2 * i]) | (u64::from(w[2 * i + 1]) << 32))
            .collect();
        let init_state = (u128::from(u[0]) << 64) | u128::from(u[1]);
        let init_seq = (u128::from(u[2]) << 64) | u128::from(u[3]);
        let mut g = Self {
            state: 0,
            increment: (init_seq << 1) | 1,
            spare_u32: None,
        };
        g.step();
        g.state = g.state.wrapping_add(init_state);
        g.step();
        g
    }

    fn step(&mut self) {
        self.state = self
            .state
            .wrapping_mul(PCG_MULTIPLIER)
            .wrapping_add(self.increment);
    }

    /// One 64-bit output (`bit_generator.random_raw()`).
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let folded = ((self.state >> 64) as u64) ^ (self.state as u64);
        folded.rotate_right((self.state >> 122) as u32)
    }

    /// One 32-bit draw: the low half of a fresh 64-bit output, or the high half it left.
    pub fn next_u32(&mut self) -> u32 {
        if let Some(spare) = self.spare_u32.take() {
            return spare;
        }
        let v = self.next_u64();
        self.spare_u32 = Some((v >> 32) as u32);
        v as u32
    }

    /// A uniform integer in `[0, max]` by masked rejection (NumPy's `random_interval`): 32-bit
    /// draws when `max` fits in 32 bits, else 64-bit ones.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        loop {
            let v = if max <= u64::from(u32::MAX) {
                u64::from(self.next_u32()) & mask
            } else {
                self.next_u64() & mask
            };
            if v <= max {
                return v;
            }
        }
    }

    /// A uniform integer in `[0, max]` by Lemire's method (NumPy's `random_bounded_uint64` with
    /// no mask), as `choice` and its shuffles draw.
    pub fn bounded(&mut self, max: u64) -> u64 {
        if max == 0 {
            0
        } else if max == u64::from(u32::MAX) {
            u64::from(self.next_u32())
        } else if max < u64::from(u32::MAX) {
            self.lemire_u32(max as u32)
        } else if max == u64::MAX {
            self.next_u64()
        } else {
            self.lemire_u64(max)
        }
    }

    fn lemire_u32(&mut self, max: u32) -> u64 {
        let range = u64::from(max) + 1;
        let mut m = u64::from(self.next_u32()) * range;
        if (m as u32 as u64) < range {
            let threshold = u64::from((u32::MAX - max) % (max + 1));
            while (m as u32 as u64) < threshold {
                m = u64::from(self.next_u32()) * range;
            }
        }
        m >> 32
    }

    fn lemire_u64(&mut self, max: u64) -> u64 {
        let range = u128::from(max) + 1;
        let mut m = u128::from(self.next_u64()) * range;
        if u128::from(m as u64) < range {
            let threshold = u128::from((u64::MAX - max) % (max + 1));
            while u128::from(m as u64) < threshold {
                m = u128::from(self.next_u64()) * range;
            }
        }
        (m >> 64) as u64
    }

    /// `Generator.shuffle` of a 1-D array or list: Fisher-Yates from the back, each partner drawn
    /// with [`random_interval`](Self::random_interval).
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `Generator.permutation(n)`: `arange(n)`, shuffled.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut x: Vec<usize> = (0..n).collect();
        self.shuffle(&mut x);
        x
    }

    /// `Generator.choice(n, size, replace=False)` (no `p`, `shuffle=True`): positions in `0..n`.
    /// NumPy shuffles the tail of `arange(n)` when the population is large and the sample more
    /// than a fiftieth of it, and otherwise runs Floyd's algorithm over an open-addressing set and
    /// shuffles the result; the two draw differently, so both are replicated. Panics if
    /// `size > n`.
    pub fn choice_without_replacement(&mut self, n: usize, size: usize) -> Vec<usize> {
        assert!(
            size <= n,
            "choice: cannot take a larger sample than the population"
        );
        if n > 10_000 && size > n / 50 {
            let mut idx: Vec<usize> = (0..n).collect();
            self.shuffle_lemire(&mut idx, (n - size).max(1));
            return idx.split_off(n - size);
        }
        let mut picked = self.floyd(n, size);
        self.shuffle_lemire(&mut picked, 1);
        picked
    }

    /// Floyd's sampling of `size` distinct values of `0..n`, with NumPy's hash set (linear probing
    /// over a power-of-two table) deciding what counts as already taken.
    fn floyd(&mut self, n: usize, size: usize) -> Vec<usize> {
        const EMPTY: u64 = u64::MAX;
        // NumPy sizes the table as the smallest 2^b covering 1.2 x size.
        let mask = u64::MAX >> ((1.2 * size as f64) as u64).leading_zeros();
        let mut table = vec![EMPTY; (mask + 1) as usize];
        let mut out = Vec::with_capacity(size);
        for j in (n - size)..n {
            let val = self.bounded(j as u64);
            let mut loc = (val & mask) as usize;
            while table[loc] != EMPTY && table[loc] != val {
                loc = ((loc as u64 + 1) & mask) as usize;
            }
            if table[loc] == EMPTY {
                table[loc] = val;
                out.push(val as usize);
            } else {
                let mut loc = (j as u64 & mask) as usize;
                while table[loc] != EMPTY {
                    loc = ((loc as u64 + 1) & mask) as usize;
                }
                table[loc] = j as u64;
                out.push(j);
            }
        }
        out
    }

    /// The Fisher-Yates pass `choice` uses: from the back down to `first`, partners drawn with
    /// [`bounded`](Self::bounded).
    fn shuffle_lemire<T>(&mut self, x: &mut [T], first: usize) {
        for i in (first..x.len()).rev() {
            let j = self.bounded(i as u64) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fixture::load;

    #[test]
    fn raw_stream_and_methods_match_numpy() {
        let fx = load("numpy_generator.json");
        for case in fx["cases"].as_array().unwrap() {
            let seed = case["seed"].as_u64().unwrap();
            let call = case["call"].as_str().unwrap();
            let mut g = Generator::new(seed);
            let got: Vec<u64> = match case["method"].as_str().unwrap() {
                "random_raw" => (0..case["n"].as_u64().unwrap())
                    .map(|_| g.next_u64())
                    .collect(),
                "permutation" => g
                    .permutation(case["n"].as_u64().unwrap() as usize)
                    .into_iter()
                    .map(|v| v as u64)
                    .collect(),
                "choice" => g
                    .choice_without_replacement(
                        case["n"].as_u64().unwrap() as usize,
                        case["size"].as_u64().unwrap() as usize,
                    )
                    .into_iter()
                    .map(|v| v as u64)
                    .collect(),
                "integers" => (0..case["size"].as_u64().unwrap())
                    .map(|_| g.bounded(case["high"].as_u64().unwrap() - 1))
                    .collect(),
                "integers_then_permutation" => {
                    // 32-bit draws leave a spare half that the next draw must use.
                    let mut v: Vec<u64> = (0..3).map(|_| g.bounded(9)).collect();
                    v.extend(g.permutation(5).into_iter().map(|x| x as u64));
                    v
                }
                other => panic!("unknown method {other}"),
            };
            let want: Vec<u64> = case["out"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(got, want, "{call}");
        }
    }
}
