//! Text statistics of tasks (`tasks/text_stats.json`: per split and role, how many texts a
//! task encodes and their characters, from MTEB's descriptive statistics), which size the
//! tasks whose data is not here when `leafbench plan` splits a benchmark into shards.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::chunks::cut;
use crate::encoder::{EncodeOptions, Role};
use crate::error::{Error, Result};

/// English text runs about four characters per subword token.
const CHARS_PER_TOKEN: f64 = 4.0;
/// The special tokens around each text ([CLS] … [SEP]).
const SPECIAL_TOKENS: usize = 2;

#[derive(Deserialize)]
struct File {
    tasks: HashMap<String, Vec<StatRow>>,
}

#[derive(Deserialize)]
struct StatRow {
    split: String,
    role: String,
    texts: usize,
    chars: usize,
}

/// One estimated encode call: `texts` texts of `chars` characters in all.
pub struct EstimatedCall {
    pub split: String,
    pub role: Role,
    pub texts: usize,
    pub chars: usize,
}

pub struct TextStats {
    tasks: HashMap<String, Vec<EstimatedCall>>,
}

impl TextStats {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let file: File = serde_json::from_str(&text)
            .map_err(|e| Error::invalid(path, format!("not a text statistics file: {e}")))?;
        let mut tasks = HashMap::new();
        for (task, rows) in file.tasks {
            let calls = rows
                .into_iter()
                .map(|r| {
                    let role = match r.role.as_str() {
                        "query" => Role::Query,
                        "document" => Role::Document,
                        "plain" => Role::Plain,
                        other => {
                            return Err(Error::invalid(
                                path,
                                format!(
                                    "{task}: role `{other}`; expected query, document or plain"
                                ),
                            ))
                        }
                    };
                    Ok(EstimatedCall {
                        split: r.split,
                        role,
                        texts: r.texts,
                        chars: r.chars,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            tasks.insert(task, calls);
        }
        Ok(Self { tasks })
    }

    pub fn calls(&self, task: &str) -> Option<&[EstimatedCall]> {
        self.tasks.get(task).map(Vec::as_slice)
    }
}

impl EstimatedCall {
    /// (texts, padded tokens) of each chunk, as if every text had the average length.
    pub fn chunks(
        &self,
        max_length: usize,
        opts: &EncodeOptions,
    ) -> impl Iterator<Item = (usize, usize)> {
        let average = self.chars as f64 / self.texts.max(1) as f64;
        let length = ((average / CHARS_PER_TOKEN).ceil() as usize + SPECIAL_TOKENS).min(max_length);
        let per_batch = opts
            .batch_size
            .min(opts.max_batch_tokens / length.max(1))
            .max(1);
        let mut sizes = Vec::new();
        let mut left = self.texts;
        while left > 0 {
            let n = per_batch.min(left);
            sizes.push((n, n * length));
            left -= n;
        }
        cut(&sizes).into_iter().map(move |range| {
            let part = &sizes[range];
            (
                part.iter().map(|s| s.0).sum(),
                part.iter().map(|s| s.1).sum(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimated_chunks_cover_every_text_within_budget() {
        let call = EstimatedCall {
            split: "test".into(),
            role: Role::Document,
            texts: 100_000,
            chars: 100_000 * 4_000,
        };
        let opts = EncodeOptions::default();
        let chunks: Vec<(usize, usize)> = call.chunks(512, &opts).collect();
        assert_eq!(chunks.iter().map(|c| c.0).sum::<usize>(), 100_000);
        // Long texts are cut at 512 tokens: 8 per 4,096-token batch.
        assert_eq!(chunks.iter().map(|c| c.1).sum::<usize>(), 100_000 * 512);
        assert!(chunks.iter().all(|c| c.1 <= crate::chunks::CHUNK_TOKENS));
    }
}
