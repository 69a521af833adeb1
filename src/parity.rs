//! Embedding parity: how far one set of embeddings is from a reference set, row by row.

use crate::embeddings::Embeddings;

#[derive(Debug, Clone, PartialEq)]
pub struct ParityReport {
    pub rows: usize,
    pub min_cosine: f64,
    pub mean_cosine: f64,
    /// Row with the lowest cosine.
    pub worst_row: usize,
    pub max_abs_diff: f64,
}

/// Compares row i of `ours` with row i of `reference`; shapes must already match.
pub fn compare(ours: &Embeddings, reference: &Embeddings) -> ParityReport {
    assert_eq!(
        (ours.rows, ours.dim),
        (reference.rows, reference.dim),
        "shapes checked by the caller"
    );
    let mut report = ParityReport {
        rows: ours.rows,
        min_cosine: f64::INFINITY,
        mean_cosine: 0.0,
        worst_row: 0,
        max_abs_diff: 0.0,
    };
    for i in 0..ours.rows {
        let (a, b) = (ours.row(i), reference.row(i));
        let c = cosine(a, b);
        if c < report.min_cosine {
            report.min_cosine = c;
            report.worst_row = i;
        }
        report.mean_cosine += c / ours.rows as f64;
        let d = a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64 - *y as f64).abs())
            .fold(0.0, f64::max);
        report.max_abs_diff = report.max_abs_diff.max(d);
    }
    if ours.rows == 0 {
        report.min_cosine = 1.0;
    }
    report
}

/// Cosine in f64. Two all-zero rows are identical (cosine 1), a zero row against a
/// non-zero one is not (cosine 0).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x as f64, *y as f64);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    match (na == 0.0, nb == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        _ => dot / (na.sqrt() * nb.sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_worst_row_and_largest_difference() {
        let a = Embeddings {
            rows: 3,
            dim: 2,
            data: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        };
        let b = Embeddings {
            rows: 3,
            dim: 2,
            data: vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0],
        };
        let r = compare(&a, &b);
        assert_eq!(r.worst_row, 1);
        assert!((r.min_cosine - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(r.max_abs_diff, 1.0);
        assert!((r.mean_cosine - (2.0 + std::f64::consts::FRAC_1_SQRT_2) / 3.0).abs() < 1e-12);
    }
}
