//! Hugging Face `datasets`' `Dataset.train_test_split(test_size=n, seed=s[, stratify_by_column])`,
//! index for index: MTEB cuts some test splits with it (ToxicConversations and
//! StackExchangeClustering.v2 stratified by label, the ArXiv hierarchical sets plainly), so the
//! rows evaluated are only MTEB's when the same positions are drawn from the same stream.
//!
//! The plain cut is the first `n` entries of `default_rng(seed).permutation(rows)`. The stratified
//! one follows scikit-learn's `StratifiedShuffleSplit` as `datasets` adapted it: per-class train
//! and test counts from an approximate multivariate-hypergeometric mode (ties broken by
//! `choice(replace=False)`), each class's rows permuted, then the assembled train and test lists
//! permuted in turn. Classes are ordered as MTEB encodes them: label names sorted as strings.

use std::collections::BTreeMap;

use crate::rng::numpy_generator::Generator;

/// Positions, in the order `datasets` returns them, of the `test` and `train` parts of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPositions {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// `train_test_split(test_size=n_test, seed=seed)` of a split of `n_rows` rows.
pub fn random_split(n_rows: usize, n_test: usize, seed: u64) -> Result<SplitPositions, String> {
    check_sizes(n_rows, n_test)?;
    let mut permutation = Generator::new(seed).permutation(n_rows);
    let train = permutation.split_off(n_test);
    Ok(SplitPositions {
        train,
        test: permutation,
    })
}

/// `train_test_split(test_size=n_test, seed=seed, stratify_by_column=...)` of a split whose rows
/// carry `labels`.
pub fn stratified_split<L: AsRef<str>>(
    labels: &[L],
    n_test: usize,
    seed: u64,
) -> Result<SplitPositions, String> {
    check_sizes(labels.len(), n_test)?;
    let n_train = labels.len() - n_test;
    let members = class_members(labels);
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    if counts.iter().any(|&c| c < 2) {
        return Err(
            "the least populated label has only 1 row; stratifying needs at least 2 \
                    rows per label"
                .to_string(),
        );
    }
    for (part, n) in [("train", n_train), ("test", n_test)] {
        if n < counts.len() {
            return Err(format!(
                "the {part} part's {n} rows cannot hold one row of each of the {} labels",
                counts.len()
            ));
        }
    }
    let mut rng = Generator::new(seed);
    let train_counts = approximate_mode(&counts, n_train, &mut rng);
    let remaining: Vec<usize> = counts
        .iter()
        .zip(&train_counts)
        .map(|(c, t)| c - t)
        .collect();
    let test_counts = approximate_mode(&remaining, n_test, &mut rng);
    let (mut train, mut test) = (Vec::with_capacity(n_train), Vec::with_capacity(n_test));
    for ((rows, &n_tr), &n_te) in members.iter().zip(&train_counts).zip(&test_counts) {
        let order = rng.permutation(rows.len());
        let permuted: Vec<usize> = order.iter().map(|&i| rows[i]).collect();
        train.extend_from_slice(&permuted[..n_tr]);
        test.extend_from_slice(&permuted[n_tr..n_tr + n_te]);
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    Ok(SplitPositions { train, test })
}

/// `datasets`' argument checks for an integer `test_size`.
fn check_sizes(n_rows: usize, n_test: usize) -> Result<(), String> {
    if n_test == 0 || n_test >= n_rows {
        return Err(format!(
            "a test part of {n_test} rows must be positive and smaller than the split's \
             {n_rows} rows"
        ));
    }
    Ok(())
}

/// Row positions of each label, labels in string order, rows ascending within a label.
fn class_members<L: AsRef<str>>(labels: &[L]) -> Vec<Vec<usize>> {
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, label) in labels.iter().enumerate() {
        by_label.entry(label.as_ref()).or_default().push(row);
    }
    by_label.into_values().collect()
}

/// How many of `n_draws` rows each class contributes: the floor of its proportional share, with
/// the rows still missing given to the classes of largest fractional remainder. Classes tied on a
/// remainder are chosen among with `choice(replace=False)`, as `datasets` does.
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut Generator) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let continuous: Vec<f64> = counts
        .iter()
        .map(|&c| (n_draws * c) as f64 / total as f64)
        .collect();
    let mut taken: Vec<usize> = continuous.iter().map(|c| c.floor() as usize).collect();
    let mut need = n_draws - taken.iter().sum::<usize>();
    let remainder: Vec<f64> = continuous
        .iter()
        .zip(&taken)
        .map(|(c, &t)| c - t as f64)
        .collect();
    let mut values = remainder.clone();
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    for value in values {
        if need == 0 {
            break;
        }
        let tied: Vec<usize> = (0..counts.len())
            .filter(|&i| remainder[i] == value)
            .collect();
        let add_now = tied.len().min(need);
        for pick in rng.choice_without_replacement(tied.len(), add_now) {
            taken[tied[pick]] += 1;
        }
        need -= add_now;
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::fixture::{load, usizes};

    #[test]
    fn cuts_match_datasets_index_for_index() {
        let fx = load("train_test_split.json");
        let cases = fx["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let call = case["call"].as_str().unwrap();
            let n_test = case["test_size"].as_u64().unwrap() as usize;
            let seed = case["seed"].as_u64().unwrap();
            let got = match case["label_names"].as_array() {
                Some(names) => {
                    let labels: Vec<&str> = usizes(&case["label_ids"])
                        .into_iter()
                        .map(|i| names[i].as_str().unwrap())
                        .collect();
                    stratified_split(&labels, n_test, seed)
                }
                None => random_split(case["n"].as_u64().unwrap() as usize, n_test, seed),
            };
            match case.get("error") {
                Some(_) => assert!(got.is_err(), "{call}: datasets refused, leafbench cut"),
                None => {
                    let got = got.unwrap_or_else(|e| panic!("{call}: {e}"));
                    assert_eq!(got.test, usizes(&case["test"]), "{call}: test");
                    let train = &case["train"];
                    assert_eq!(
                        got.train.len(),
                        train["len"].as_u64().unwrap() as usize,
                        "{call}"
                    );
                    let sum: usize = got.train.iter().sum();
                    assert_eq!(sum as u64, train["sum"].as_u64().unwrap(), "{call}: train");
                    let head = usizes(&train["first_100"]);
                    assert_eq!(&got.train[..head.len()], head, "{call}: train");
                }
            }
        }
    }

    #[test]
    fn sizes_outside_the_split_are_refused() {
        assert!(random_split(10, 10, 1).is_err());
        assert!(random_split(10, 0, 1).is_err());
        let labels = ["a", "a", "b", "b", "c", "c"];
        let err = stratified_split(&labels, 2, 1).unwrap_err();
        assert!(
            err.contains("cannot hold one row of each of the 3 labels"),
            "{err}"
        );
    }
}
