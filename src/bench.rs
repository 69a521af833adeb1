//! Encode throughput measurement: the leafbench side of `scripts/bench.sh encode`.
//! Same protocol as the peer's bench_encode.py: one warm-up batch, then `repeats` timed
//! encodes of the whole file; tokens are real tokens after truncation, no padding.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::encoder::{EncodeOptions, Encoder, Role};
use crate::error::Result;
use crate::texts::read_lines;

#[derive(Debug, Serialize)]
pub struct EncodeBench {
    pub input: String,
    /// Compute precision of the encoder's linear layers.
    pub precision: &'static str,
    pub n_texts: usize,
    pub tokens: usize,
    pub threads: usize,
    pub batch_size: usize,
    pub repeats: usize,
    pub wall_s: Vec<f64>,
    pub best_s: f64,
    pub median_s: f64,
    pub tok_per_s_best: f64,
    pub tok_per_s_median: f64,
}

pub fn bench_encode(
    encoder: &Encoder,
    input: &Path,
    opts: &EncodeOptions,
    repeats: usize,
    threads: usize,
) -> Result<EncodeBench> {
    // Blank lines are skipped, as the peer's benchmark skips them.
    let texts: Vec<String> = read_lines(input)?
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    let tokens: usize = encoder.token_lengths(&texts, Role::Plain)?.iter().sum();
    let quiet = EncodeOptions {
        progress: false,
        ..opts.clone()
    };
    encoder.encode(
        &texts[..texts.len().min(opts.batch_size)],
        Role::Plain,
        &quiet,
    )?;
    let mut wall_s = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        encoder.encode(&texts, Role::Plain, &quiet)?;
        wall_s.push(start.elapsed().as_secs_f64());
    }
    let mut sorted = wall_s.clone();
    sorted.sort_by(f64::total_cmp);
    let best_s = sorted[0];
    let median_s = sorted[sorted.len() / 2];
    Ok(EncodeBench {
        input: input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        precision: encoder.precision().name(),
        n_texts: texts.len(),
        tokens,
        threads,
        batch_size: opts.batch_size,
        repeats: wall_s.len(),
        wall_s,
        best_s,
        median_s,
        tok_per_s_best: (tokens as f64 / best_s).round(),
        tok_per_s_median: (tokens as f64 / median_s).round(),
    })
}
