//! Embedding parity: how far one set of embeddings is from a reference set, row by row.
//! A row holding NaN or infinity on either side fails the check whatever the tolerances:
//! its cosine is undefined, and a gate must never read an undefined number as a pass.

use crate::embeddings::Embeddings;

#[derive(Debug, Clone, PartialEq)]
pub struct ParityReport {
    pub rows: usize,
    /// Over the rows that are finite on both sides (NaN when there is none).
    pub min_cosine: f64,
    pub mean_cosine: f64,
    /// Row with the lowest cosine.
    pub worst_row: usize,
    pub max_abs_diff: f64,
    /// Rows of the model's embeddings holding NaN or infinity.
    pub non_finite_ours: Vec<usize>,
    /// Rows of the reference holding NaN or infinity.
    pub non_finite_reference: Vec<usize>,
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
        non_finite_ours: Vec::new(),
        non_finite_reference: Vec::new(),
    };
    let mut compared = 0usize;
    for i in 0..ours.rows {
        let (a, b) = (ours.row(i), reference.row(i));
        let (a_ok, b_ok) = (all_finite(a), all_finite(b));
        if !a_ok {
            report.non_finite_ours.push(i);
        }
        if !b_ok {
            report.non_finite_reference.push(i);
        }
        if !(a_ok && b_ok) {
            continue;
        }
        compared += 1;
        let c = cosine(a, b);
        if c < report.min_cosine {
            report.min_cosine = c;
            report.worst_row = i;
        }
        report.mean_cosine += c;
        let d = a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64 - *y as f64).abs())
            .fold(0.0, f64::max);
        report.max_abs_diff = report.max_abs_diff.max(d);
    }
    match (ours.rows, compared) {
        (0, _) => report.min_cosine = 1.0,
        (_, 0) => {
            report.min_cosine = f64::NAN;
            report.mean_cosine = f64::NAN;
            report.max_abs_diff = f64::NAN;
        }
        (_, n) => report.mean_cosine /= n as f64,
    }
    report
}

impl ParityReport {
    /// Why the check fails, one line per reason; empty when it passes. A NaN tolerance or
    /// statistic fails, as every comparison with NaN is false.
    pub fn failures(&self, min_cosine: f64, max_abs_diff: Option<f64>) -> Vec<String> {
        let mut out = Vec::new();
        for (side, rows) in [
            ("the model's embedding", &self.non_finite_ours),
            ("the reference", &self.non_finite_reference),
        ] {
            if let Some(first) = rows.first() {
                out.push(format!(
                    "{side} holds NaN or infinity in {} row(s), first row {first} (line {})",
                    rows.len(),
                    first + 1
                ));
            }
        }
        let at_least = |x: f64, limit: f64| x.partial_cmp(&limit).is_some_and(|o| o.is_ge());
        if !at_least(self.min_cosine, min_cosine) {
            out.push(format!("min cosine {:.9} < {min_cosine}", self.min_cosine));
        }
        if let Some(limit) = max_abs_diff {
            if !at_least(limit, self.max_abs_diff) {
                out.push(format!("max |Δ| {:.3e} > {limit:e}", self.max_abs_diff));
            }
        }
        out
    }
}

fn all_finite(row: &[f32]) -> bool {
    row.iter().all(|v| v.is_finite())
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

    fn emb(rows: usize, data: Vec<f32>) -> Embeddings {
        Embeddings {
            rows,
            dim: data.len() / rows,
            data,
        }
    }

    #[test]
    fn finds_the_worst_row_and_largest_difference() {
        let a = emb(3, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        let b = emb(3, vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        let r = compare(&a, &b);
        assert_eq!(r.worst_row, 1);
        assert!((r.min_cosine - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(r.max_abs_diff, 1.0);
        assert!((r.mean_cosine - (2.0 + std::f64::consts::FRAC_1_SQRT_2) / 3.0).abs() < 1e-12);
        assert!(r.failures(0.5, Some(1.0)).is_empty());
        assert_eq!(r.failures(0.9, Some(0.5)).len(), 2);
    }

    #[test]
    fn a_non_finite_value_on_either_side_fails_and_names_its_row() {
        let good = emb(2, vec![1.0, 0.0, 0.0, 1.0]);
        let nan = emb(2, vec![1.0, 0.0, f32::NAN, 1.0]);
        let r = compare(&nan, &good);
        assert_eq!(r.non_finite_ours, vec![1]);
        assert_eq!(r.min_cosine, 1.0, "the finite row still compares");
        let why = r.failures(0.99999, None);
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains("model's embedding") && why[0].contains("row 1 (line 2)"));
        let r = compare(&good, &emb(2, vec![f32::INFINITY, 0.0, 0.0, 1.0]));
        assert!(r.failures(0.0, None)[0].starts_with("the reference holds NaN"));
        let all_nan = emb(1, vec![f32::NAN, f32::NAN]);
        let r = compare(&all_nan, &all_nan);
        assert!(r.min_cosine.is_nan());
        assert_eq!(r.failures(-1.0, Some(10.0)).len(), 4);
    }

    #[test]
    fn nan_tolerances_never_pass() {
        let a = emb(1, vec![1.0, 0.0]);
        let r = compare(&a, &a);
        assert!(!r.failures(f64::NAN, None).is_empty());
        assert!(!r.failures(0.0, Some(f64::NAN)).is_empty());
    }
}
