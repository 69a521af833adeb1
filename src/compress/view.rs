//! A compressed view of embeddings as similarity-based evaluators see it: float32 vectors (the
//! evaluators' own float code paths apply), or codes scored by the native kernels.
//!
//! On codes, the model's similarity is computed on the code values themselves, as an index of
//! quantized vectors compares them: int8 / uint8 / int4 by their integer dot product (exact, in
//! i32), float16 / bfloat16 widened to f32, and the binary levels as ±1 vectors, whose dot
//! product is `dim − 2·hamming` (binary and ubinary store the same bits, so they score alike).
//! Cosine divides by the code vectors' own norms.

use half::{bf16, f16};

use super::kernels;
use super::quantize::{unpack_bits, Codes, Quantized};
use crate::embeddings::Embeddings;
use crate::similarity::Similarity;

pub struct View {
    pub rows: usize,
    pub dim: usize,
    pub similarity: Similarity,
    store: Store,
}

enum Store {
    Float(Embeddings),
    Codes {
        data: CodeData,
        /// Elements per row in `data`.
        width: usize,
        /// √(row · row) of each row, for cosine.
        norms: Vec<f64>,
    },
}

enum CodeData {
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    I4(Vec<u8>),
    /// Packed sign bits, MSB first (binary codes are stored as their ubinary bytes).
    Bits(Vec<u8>),
}

impl View {
    pub fn float(emb: Embeddings, similarity: Similarity) -> Self {
        Self {
            rows: emb.rows,
            dim: emb.dim,
            similarity,
            store: Store::Float(emb),
        }
    }

    pub fn codes(codes: Codes, similarity: Similarity) -> Self {
        let (rows, dim) = (codes.rows, codes.dim);
        let data = match codes.data {
            // Float32 codes are plain vectors.
            Quantized::F32(v) => {
                return Self::float(Embeddings { rows, dim, data: v }, similarity);
            }
            Quantized::F16(v) => CodeData::F16(v),
            Quantized::BF16(v) => CodeData::BF16(v),
            Quantized::I8(v) => CodeData::I8(v),
            Quantized::U8(v) => CodeData::U8(v),
            Quantized::I4Packed(v) => CodeData::I4(v),
            Quantized::SignedBits(v) => {
                CodeData::Bits(v.iter().map(|&b| (b as u8) ^ 0x80).collect())
            }
            Quantized::Bits(v) => CodeData::Bits(v),
        };
        let width = data.len().checked_div(rows).unwrap_or(0);
        let mut view = Self {
            rows,
            dim,
            similarity,
            store: Store::Codes {
                data,
                width,
                norms: Vec::new(),
            },
        };
        let norms = (0..rows).map(|i| view.dot(i, &view, i).sqrt()).collect();
        if let Store::Codes { norms: n, .. } = &mut view.store {
            *n = norms;
        }
        view
    }

    /// The float32 vectors, when this view holds them.
    pub fn as_float(&self) -> Option<&Embeddings> {
        match &self.store {
            Store::Float(e) => Some(e),
            Store::Codes { .. } => None,
        }
    }

    /// Packed sign bits of row `i`, when this view holds binary codes.
    pub fn bits(&self, i: usize) -> Option<&[u8]> {
        match &self.store {
            Store::Codes {
                data: CodeData::Bits(v),
                width,
                ..
            } => Some(&v[i * width..(i + 1) * width]),
            _ => None,
        }
    }

    /// Raw dot product of row `i` with row `j` of `other` (same level and dim), in the code
    /// domain; for float views the f64 dot product.
    pub fn dot(&self, i: usize, other: &View, j: usize) -> f64 {
        match (&self.store, &other.store) {
            (Store::Float(a), Store::Float(b)) => a
                .row(i)
                .iter()
                .zip(b.row(j))
                .map(|(x, y)| *x as f64 * *y as f64)
                .sum(),
            (Store::Codes { data: a, width, .. }, Store::Codes { data: b, .. }) => {
                let r = |k: usize| k * width..(k + 1) * width;
                match (a, b) {
                    (CodeData::F16(a), CodeData::F16(b)) => {
                        kernels::dot_f16(&a[r(i)], &b[r(j)]) as f64
                    }
                    (CodeData::BF16(a), CodeData::BF16(b)) => {
                        kernels::dot_bf16(&a[r(i)], &b[r(j)]) as f64
                    }
                    (CodeData::I8(a), CodeData::I8(b)) => {
                        kernels::dot_i8(&a[r(i)], &b[r(j)]) as f64
                    }
                    (CodeData::U8(a), CodeData::U8(b)) => {
                        kernels::dot_u8(&a[r(i)], &b[r(j)]) as f64
                    }
                    (CodeData::I4(a), CodeData::I4(b)) => {
                        kernels::dot_i4_packed(&a[r(i)], &b[r(j)]) as f64
                    }
                    (CodeData::Bits(a), CodeData::Bits(b)) => {
                        let h = kernels::hamming(&a[r(i)], &b[r(j)]) as f64;
                        self.dim as f64 - 2.0 * h
                    }
                    _ => panic!("views of different levels compared"),
                }
            }
            _ => panic!("a float view compared with a code view"),
        }
    }

    /// The model's similarity of row `i` with row `j` of `other`.
    pub fn score(&self, i: usize, other: &View, j: usize) -> f64 {
        match self.similarity {
            Similarity::Dot => self.dot(i, other, j),
            Similarity::Cosine => self.cosine(i, other, j),
        }
    }

    /// Cosine of row `i` with row `j` of `other`; a zero vector has cosine 0.
    pub fn cosine(&self, i: usize, other: &View, j: usize) -> f64 {
        let denom = self.norm(i) * other.norm(j);
        if denom > 0.0 {
            self.dot(i, other, j) / denom
        } else {
            0.0
        }
    }

    fn norm(&self, i: usize) -> f64 {
        match &self.store {
            Store::Float(_) => self.dot(i, self, i).sqrt(),
            Store::Codes { norms, .. } => norms[i],
        }
    }

    /// Row `i` as the vector its codes stand for in the similarity (code values; ±1 for bits),
    /// for the distance metrics evaluators report beside the similarity.
    pub fn values(&self, i: usize) -> Vec<f32> {
        match &self.store {
            Store::Float(e) => e.row(i).to_vec(),
            Store::Codes { data, width, .. } => {
                let r = i * width..(i + 1) * width;
                match data {
                    CodeData::F16(v) => v[r].iter().map(|x| x.to_f32()).collect(),
                    CodeData::BF16(v) => v[r].iter().map(|x| x.to_f32()).collect(),
                    CodeData::I8(v) => v[r].iter().map(|&x| x as f32).collect(),
                    CodeData::U8(v) => v[r].iter().map(|&x| x as f32).collect(),
                    CodeData::I4(v) => v[r]
                        .iter()
                        .flat_map(|&b| [(b >> 4) as f32, (b & 15) as f32])
                        .take(self.dim)
                        .collect(),
                    CodeData::Bits(v) => unpack_bits(&v[r], self.dim)
                        .into_iter()
                        .map(|b| if b == 1.0 { 1.0 } else { -1.0 })
                        .collect(),
                }
            }
        }
    }

    /// Similarities of row `qi` of `query` to every row of `self`, with the batched kernels.
    /// Float views are scored by the caller's own float path.
    pub fn scores_against(&self, query: &View, qi: usize, out: &mut [f32]) {
        let Store::Codes { data, width, norms } = &self.store else {
            panic!("scores_against is for code views");
        };
        let Store::Codes { data: q, .. } = &query.store else {
            panic!("a float query against code rows");
        };
        let (n, w) = (self.rows, *width);
        let r = qi * w..(qi + 1) * w;
        match (q, data) {
            (CodeData::F16(q), CodeData::F16(d)) => kernels::scores_f16(&q[r], d, n, out),
            (CodeData::BF16(q), CodeData::BF16(d)) => kernels::scores_bf16(&q[r], d, n, out),
            (CodeData::I8(q), CodeData::I8(d)) => kernels::scores_i8(&q[r], d, n, out),
            (CodeData::U8(q), CodeData::U8(d)) => kernels::scores_u8(&q[r], d, n, out),
            (CodeData::I4(q), CodeData::I4(d)) => kernels::scores_i4_packed(&q[r], d, n, out),
            (CodeData::Bits(q), CodeData::Bits(d)) => {
                kernels::scores_binary(&q[r], d, n, out);
                // The kernel counts the zero padding bits of the last byte as agreeing.
                let pad = (8 * w - self.dim) as f32;
                out.iter_mut().for_each(|s| *s -= pad);
            }
            _ => panic!("views of different levels compared"),
        }
        if self.similarity == Similarity::Cosine {
            let nq = query.norm(qi);
            for (s, nd) in out.iter_mut().zip(norms) {
                let denom = nq * nd;
                *s = if denom > 0.0 {
                    (*s as f64 / denom) as f32
                } else {
                    0.0
                };
            }
        }
    }
}

impl CodeData {
    fn len(&self) -> usize {
        match self {
            CodeData::F16(v) => v.len(),
            CodeData::BF16(v) => v.len(),
            CodeData::I8(v) => v.len(),
            CodeData::U8(v) | CodeData::I4(v) | CodeData::Bits(v) => v.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::quantize::{quantize, Calibration, Level};

    fn emb() -> Embeddings {
        Embeddings {
            rows: 3,
            dim: 10,
            data: vec![
                0.5, -0.2, 0.1, 0.9, -0.7, 0.3, 0.0, -0.4, 0.8, -0.1, //
                -0.3, 0.6, -0.9, 0.2, 0.4, -0.5, 0.7, 0.1, -0.2, 0.3, //
                0.45, -0.1, 0.2, 0.8, -0.6, 0.2, 0.1, -0.5, 0.7, 0.0,
            ],
        }
    }

    /// Every level's kernel scores equal cosine on the decoded code values, pairwise and
    /// batched (dim 10 leaves padding in the packed levels).
    #[test]
    fn kernel_scores_equal_cosine_of_the_code_values() {
        let e = emb();
        for level in Level::ALL {
            let codes = quantize(
                &e.data,
                3,
                10,
                level,
                &Calibration::Fixed {
                    min: -1.0,
                    max: 1.0,
                },
            )
            .unwrap();
            let view = View::codes(codes, Similarity::Cosine);
            let mut batch = vec![0f32; 3];
            if view.as_float().is_none() {
                view.scores_against(&view, 0, &mut batch);
            }
            for (j, batched) in batch.iter().enumerate() {
                let (a, b) = (view.values(0), view.values(j));
                let expected = crate::parity::cosine(&a, &b);
                let got = view.score(0, &view, j);
                assert!(
                    (got - expected).abs() < 1e-6,
                    "{level}: {got} vs {expected}"
                );
                if view.as_float().is_none() {
                    assert!((*batched as f64 - expected).abs() < 1e-6, "{level} batched");
                }
            }
        }
    }

    #[test]
    fn binary_similarity_ignores_padding() {
        let e = emb();
        let codes = quantize(&e.data, 3, 10, Level::UBinary, &Calibration::FromEmbeddings).unwrap();
        let view = View::codes(codes, Similarity::Dot);
        assert_eq!(view.score(0, &view, 0), 10.0);
        let mut out = vec![0f32; 3];
        view.scores_against(&view, 0, &mut out);
        assert_eq!(out[0], 10.0);
    }
}
