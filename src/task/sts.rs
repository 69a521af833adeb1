//! STS: how well embedding similarity of sentence pairs correlates with human scores.
//! Cosine, negated Manhattan and negated Euclidean distances, each scored with Pearson and
//! Spearman; the main score is the cosine Spearman correlation.

use super::scores::Scores;
use super::spec::StsParams;
use crate::compress::view::View;
use crate::data::PairSplit;
use crate::metrics::correlation::{pearson, spearman};

/// Paired similarities of row i of `a` with row i of `b`, in f64.
pub struct PairedSimilarities {
    pub cosine: Vec<f64>,
    pub neg_manhattan: Vec<f64>,
    pub neg_euclidean: Vec<f64>,
    pub dot: Vec<f64>,
}

impl PairedSimilarities {
    /// Row `i` of `a` against row `j` of `b` for each `(i, j)`. Float views are compared in
    /// f64; code views by the kernels (cosine, dot) and by their code values (distances).
    pub fn of_pairs(a: &View, b: &View, pairs: impl Iterator<Item = (usize, usize)>) -> Self {
        let mut s = Self {
            cosine: vec![],
            neg_manhattan: vec![],
            neg_euclidean: vec![],
            dot: vec![],
        };
        for (i, j) in pairs {
            let (cosine, dot, l1, l2) = match (a.as_float(), b.as_float()) {
                (Some(x), Some(y)) => float_pair(x.row(i), y.row(j)),
                _ => {
                    let (_, _, l1, l2) = float_pair(&a.values(i), &b.values(j));
                    (a.cosine(i, b, j), a.dot(i, b, j), l1, l2)
                }
            };
            s.cosine.push(cosine);
            s.neg_manhattan.push(-l1);
            s.neg_euclidean.push(-l2);
            s.dot.push(dot);
        }
        s
    }
}

/// (cosine, dot, Manhattan, Euclidean) of two vectors, in f64.
fn float_pair(x: &[f32], y: &[f32]) -> (f64, f64, f64, f64) {
    let (mut dot, mut nx, mut ny, mut l1, mut l2) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for (&p, &q) in x.iter().zip(y) {
        let (p, q) = (p as f64, q as f64);
        dot += p * q;
        nx += p * p;
        ny += q * q;
        l1 += (p - q).abs();
        l2 += (p - q) * (p - q);
    }
    // A zero vector has cosine 0 with anything, as sklearn's normalisation leaves it zero.
    let denom = nx.sqrt() * ny.sqrt();
    let cosine = if denom > 0.0 { dot / denom } else { 0.0 };
    (cosine, dot, l1, l2.sqrt())
}

pub fn evaluate(split: &PairSplit, e1: &View, e2: &View, params: &StsParams) -> Scores {
    let range = params.max_score - params.min_score;
    let gold: Vec<f64> = split
        .gold
        .iter()
        .map(|g| (g - params.min_score) / range)
        .collect();
    let sims = PairedSimilarities::of_pairs(e1, e2, (0..e1.rows).map(|i| (i, i)));
    let mut scores = Scores::default();
    for (name, values) in [
        ("cosine", &sims.cosine),
        ("manhattan", &sims.neg_manhattan),
        ("euclidean", &sims.neg_euclidean),
    ] {
        scores.set(&format!("{name}_pearson"), pearson(&gold, values));
        scores.set(&format!("{name}_spearman"), spearman(&gold, values));
    }
    // The model's own similarity; every model leafbench loads compares by cosine.
    scores.set("pearson", pearson(&gold, &sims.cosine));
    scores.set("spearman", spearman(&gold, &sims.cosine));
    scores.main("cosine_spearman");
    scores
}
