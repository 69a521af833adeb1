//! Pair classification: are two texts duplicates/paraphrases? Each of five pair scores
//! (the model's similarity, cosine, Manhattan, Euclidean, dot) is judged by average precision
//! and by the best accuracy and F1 over thresholds; the main score is the best AP.

use super::scores::Scores;
use super::sts::PairedSimilarities;
use crate::compress::view::View;
use crate::data::PairSplit;
use crate::metrics::pair_threshold::{
    best_accuracy_threshold, best_f1_threshold, pair_average_precision,
};

const SUMMARY: [&str; 5] = ["accuracy", "f1", "precision", "recall", "ap"];

/// `left[i]` and `right[i]` are the rows of pair i's sentences in `view`.
pub fn evaluate(split: &PairSplit, view: &View, left: &[usize], right: &[usize]) -> Scores {
    let labels: Vec<bool> = split.gold.iter().map(|&g| g > 0.5).collect();
    let pairs = left.iter().copied().zip(right.iter().copied());
    let sims = PairedSimilarities::of_pairs(view, view, pairs);
    let manhattan: Vec<f64> = sims.neg_manhattan.iter().map(|d| -d).collect();
    let euclidean: Vec<f64> = sims.neg_euclidean.iter().map(|d| -d).collect();
    // The model's own similarity is cosine for every model leafbench loads.
    let scorers: [(&str, &[f64], bool); 5] = [
        ("similarity", &sims.cosine, true),
        ("cosine", &sims.cosine, true),
        ("manhattan", &manhattan, false),
        ("euclidean", &euclidean, false),
        ("dot", &sims.dot, true),
    ];
    let mut scores = Scores::default();
    for (name, values, higher_is_closer) in scorers {
        score_one(&mut scores, name, values, &labels, higher_is_closer);
    }
    for metric in SUMMARY {
        let best = scorers
            .iter()
            .filter_map(|(name, _, _)| scores.get(&format!("{name}_{metric}")))
            .fold(f64::NEG_INFINITY, f64::max);
        scores.set(&format!("max_{metric}"), best);
    }
    scores.main("max_ap");
    scores
}

fn score_one(
    scores: &mut Scores,
    name: &str,
    values: &[f64],
    labels: &[bool],
    higher_is_closer: bool,
) {
    let acc = best_accuracy_threshold(values, labels, higher_is_closer);
    let f1 = best_f1_threshold(values, labels, higher_is_closer);
    scores.set(&format!("{name}_accuracy"), acc.accuracy);
    scores.set(&format!("{name}_accuracy_threshold"), acc.threshold);
    scores.set(&format!("{name}_f1"), f1.f1);
    scores.set(&format!("{name}_f1_threshold"), f1.threshold);
    scores.set(&format!("{name}_precision"), f1.precision);
    scores.set(&format!("{name}_recall"), f1.recall);
    scores.set(
        &format!("{name}_ap"),
        pair_average_precision(values, labels, higher_is_closer),
    );
}
