//! `leafbench run --shard I/N`: this shard's part of the plan, encoded into the embedding
//! store. Nothing is evaluated and no result is written; a later `leafbench run` without a
//! shard evaluates every task from the store. Chunks already in the store (from an earlier
//! attempt, another shard, another run) are skipped, so a failed shard is simply rerun.

use std::collections::HashSet;

use crate::config::RunConfig;
use crate::embedder::stored_or_computed;
use crate::encoder::EncodeOptions;
use crate::error::{Error, Result};
use crate::plan::{walk, Plan, PlanInputs};
use crate::shard::Shard;
use crate::store::EmbeddingStore;
use crate::task::Registry;

/// What a shard did.
pub struct ShardReport {
    pub shard: Shard,
    /// Chunks of the whole plan, and of this shard.
    pub planned: usize,
    pub mine: usize,
    /// This shard's chunks encoded now, and found in the store.
    pub encoded: usize,
    pub found: usize,
    pub encoded_texts: usize,
    /// Padded tokens of this shard's chunks, and of the plan.
    pub tokens: usize,
    pub total_tokens: usize,
    /// Tasks whose data is not here (model, task).
    pub no_data: Vec<(String, String)>,
}

pub fn encode_shard(
    config: &RunConfig,
    registry: &Registry,
    encode: &EncodeOptions,
    offline: bool,
    store_dir: &std::path::Path,
    shard: Shard,
) -> Result<ShardReport> {
    let store = EmbeddingStore::strict(store_dir.to_path_buf());
    std::fs::create_dir_all(store_dir).map_err(|e| {
        Error::invalid(store_dir, format!("cannot create the embedding store: {e}"))
    })?;
    store.sweep_partials();
    let inputs = PlanInputs {
        registry,
        offline,
        encode,
        estimates: None,
    };
    let plan = Plan::build(config, &inputs)?;
    let mine = plan.keys_of(shard);
    let mut report = ShardReport {
        shard,
        planned: plan.chunks.len(),
        mine: mine.len(),
        encoded: 0,
        found: 0,
        encoded_texts: 0,
        tokens: plan
            .chunks
            .iter()
            .filter(|c| mine.contains(&c.key))
            .map(|c| c.tokens)
            .sum(),
        total_tokens: plan.chunks.iter().map(|c| c.tokens).sum(),
        no_data: Vec::new(),
    };
    let progress = shard_progress(report.tokens, encode.progress);
    let mut done: HashSet<String> = HashSet::new();
    let no_data = walk(config, &inputs, &mut |call| {
        let dim = call.encoders.dim()?;
        for chunk in call.chunks {
            if !mine.contains(&chunk.key) || !done.insert(chunk.key.clone()) {
                continue;
            }
            let hidden = indicatif::ProgressBar::hidden();
            let shape = (chunk.texts, dim);
            let (_, computed) = stored_or_computed(Some(&store), &chunk.key, shape, || {
                call.encoders
                    .encode_chunk(call.texts, call.batched, chunk, &hidden)
            })?;
            if computed {
                report.encoded += 1;
                report.encoded_texts += chunk.texts;
            } else {
                report.found += 1;
            }
            progress.inc(chunk.padded_tokens as u64);
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    report.no_data = no_data.into_iter().map(|(m, t, _)| (m, t)).collect();
    Ok(report)
}

/// A bar over this shard's padded tokens (hidden for `--quiet`).
fn shard_progress(tokens: usize, enabled: bool) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(tokens as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "shard {bar:30} {pos}/{len} padded tokens  eta {eta}",
        )
        .expect("static template"),
    );
    bar
}

impl ShardReport {
    /// The line a shard ends with.
    pub fn summary(&self) -> String {
        let share = if self.total_tokens == 0 {
            0.0
        } else {
            100.0 * self.tokens as f64 / self.total_tokens as f64
        };
        format!(
            "shard {}: {} of {} chunks ({share:.1}% of padded tokens); encoded {} chunk(s), \
             {} text(s); {} already in the store",
            self.shard, self.mine, self.planned, self.encoded, self.encoded_texts, self.found
        )
    }
}
