//! Groups texts into batches of similar length so that little compute goes to padding:
//! longest first, each batch capped both in count and in padded tokens.

/// Returns batches of indices into `lengths`. Each batch holds at most `max_batch`
/// sequences and at most `max_tokens` padded tokens (count × its longest), but always at
/// least one sequence.
pub fn plan(lengths: &[usize], max_batch: usize, max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable, so equal lengths keep input order and the plan is deterministic.
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Sorted longest first, so the batch's first element sets its padded length.
        let longest = current.first().map_or(lengths[i], |&f| lengths[f]).max(1);
        let fits = current.len() < max_batch.max(1) && (current.len() + 1) * longest <= max_tokens;
        if !current.is_empty() && !fits {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::plan;

    #[test]
    fn every_index_once_longest_first_within_caps() {
        let lengths = [3, 10, 1, 7, 7, 2, 9];
        let batches = plan(&lengths, 2, 100);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        assert_eq!(batches[0], vec![1, 6]);
        assert!(batches.iter().all(|b| b.len() <= 2));
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
    }

    #[test]
    fn token_budget_splits_long_batches_but_never_empties_one() {
        let lengths = [50, 50, 50, 5];
        let batches = plan(&lengths, 64, 100);
        assert_eq!(batches, vec![vec![0, 1], vec![2, 3]]);
        // A single sequence over budget still forms its own batch.
        assert_eq!(plan(&[500], 64, 100), vec![vec![0]]);
    }
}
