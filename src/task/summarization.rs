//! Summarization (SummEval v2): for each document, each machine summary is scored by its
//! highest similarity to any human summary, and those predictions are correlated with human
//! relevance ratings; the main score is the mean per-document cosine Spearman.

use super::scores::Scores;
use super::spec::StsParams;
use crate::compress::view::View;
use crate::data::SummaryRow;
use crate::metrics::correlation::{pearson, spearman};
use crate::parity::cosine;

/// `human` and `machine` hold every row's summaries, flattened in row order.
pub fn evaluate(rows: &[SummaryRow], human: &View, machine: &View, params: &StsParams) -> Scores {
    let range = params.max_score - params.min_score;
    let (mut h0, mut m0) = (0, 0);
    let mut per_row: Vec<[f64; 4]> = Vec::new();
    for row in rows {
        let (nh, nm) = (row.human_summaries.len(), row.machine_summaries.len());
        let gold: Vec<f64> = row
            .relevance
            .iter()
            .map(|r| (r - params.min_score) / range)
            .collect();
        let (cos_pred, dot_pred) = best_matches(human, h0..h0 + nh, machine, m0..m0 + nm);
        h0 += nh;
        m0 += nm;
        // Constant inputs have no correlation; MTEB leaves such documents out.
        if all_equal(&gold) || all_equal(&dot_pred) || all_equal(&cos_pred) {
            continue;
        }
        per_row.push([
            spearman(&gold, &cos_pred),
            pearson(&gold, &cos_pred),
            spearman(&gold, &dot_pred),
            pearson(&gold, &dot_pred),
        ]);
    }
    let mean = |k: usize| per_row.iter().map(|r| r[k]).sum::<f64>() / per_row.len() as f64;
    let mut scores = Scores::default();
    scores.set("cosine_spearman", mean(0));
    scores.set("cosine_pearson", mean(1));
    scores.set("dot_spearman", mean(2));
    scores.set("dot_pearson", mean(3));
    // The model's own similarity is cosine.
    scores.set("spearman", mean(0));
    scores.set("pearson", mean(1));
    scores.main("cosine_spearman");
    scores
}

/// For each machine summary, its highest cosine and highest dot product with any human one.
/// Float views are compared in f64, code views by the kernels.
fn best_matches(
    human: &View,
    hs: std::ops::Range<usize>,
    machine: &View,
    ms: std::ops::Range<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let pair = |j: usize, k: usize| match (machine.as_float(), human.as_float()) {
        (Some(m), Some(h)) => {
            let (m, h) = (m.row(j), h.row(k));
            let dot: f64 = m.iter().zip(h).map(|(a, b)| *a as f64 * *b as f64).sum();
            (cosine(m, h), dot)
        }
        _ => (machine.cosine(j, human, k), machine.dot(j, human, k)),
    };
    ms.map(|j| {
        hs.clone()
            .fold((f64::NEG_INFINITY, f64::NEG_INFINITY), |(c, d), k| {
                let (cos, dot) = pair(j, k);
                (c.max(cos), d.max(dot))
            })
    })
    .unzip()
}

fn all_equal(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] == w[1])
}
