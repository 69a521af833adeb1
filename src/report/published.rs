//! Published MTEB scores shipped with leafbench (`reference/published_scores.csv`), so a run
//! can show how far it is from a model card without a network.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedScore {
    pub model: String,
    pub revision: String,
    pub task: String,
    pub split: String,
    pub hf_subset: String,
    pub main_score: f64,
}

pub struct Published {
    rows: Vec<PublishedScore>,
}

impl Published {
    pub fn default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/published_scores.csv")
    }

    /// Reads the CSV (header `model,model_revision,task,split,hf_subset,main_score,…`).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> = lines
            .next()
            .map(|(_, h)| h.split(',').collect())
            .unwrap_or_default();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .ok_or_else(|| Error::invalid(path, format!("no `{name}` column")))
        };
        let r = col("model_revision")?;
        let (m, t, s, h, v) = (
            col("model")?,
            col("task")?,
            col("split")?,
            col("hf_subset")?,
            col("main_score")?,
        );
        let rows = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| {
                let f: Vec<&str> = line.split(',').collect();
                let field = |k: usize| f.get(k).copied().unwrap_or_default().to_string();
                let main_score = field(v).parse::<f64>().map_err(|_| Error::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    what: format!("main_score `{}` is not a number", field(v)),
                })?;
                Ok(PublishedScore {
                    model: field(m),
                    revision: field(r),
                    task: field(t),
                    split: field(s),
                    hf_subset: field(h),
                    main_score,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { rows })
    }

    /// Every published row of `model`.
    pub fn rows_of<'a>(&'a self, model: &'a str) -> impl Iterator<Item = &'a PublishedScore> + 'a {
        self.rows.iter().filter(move |r| r.model == model)
    }

    /// Mean published main score of `model` on `task` over `splits` and `subsets`.
    pub fn score(
        &self,
        model: &str,
        task: &str,
        splits: &[String],
        subsets: &[String],
    ) -> Option<f64> {
        self.score_and_coverage(model, task, splits, subsets)
            .map(|(score, _)| score)
    }

    /// [`score`](Self::score), with the `split/subset` rows it averages, sorted.
    pub fn score_and_coverage(
        &self,
        model: &str,
        task: &str,
        splits: &[String],
        subsets: &[String],
    ) -> Option<(f64, Vec<String>)> {
        let hits: Vec<&PublishedScore> = self
            .rows
            .iter()
            .filter(|r| {
                r.model == model
                    && r.task == task
                    && subsets.contains(&r.hf_subset)
                    && splits.contains(&r.split)
            })
            .collect();
        if hits.is_empty() {
            return None;
        }
        let score = hits.iter().map(|r| r.main_score).sum::<f64>() / hits.len() as f64;
        let mut coverage: Vec<String> = hits
            .iter()
            .map(|r| format!("{}/{}", r.split, r.hf_subset))
            .collect();
        coverage.sort();
        coverage.dedup();
        Some((score, coverage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_scores_load_and_match_the_model_card() {
        let p = Published::load(&Published::default_path()).unwrap();
        let sts = p
            .score(
                "sentence-transformers/all-MiniLM-L6-v2",
                "STSBenchmark",
                &["test".into()],
                &["default".into()],
            )
            .unwrap();
        assert!(sts > 0.5 && sts < 1.0);
        assert_eq!(
            p.score(
                "nobody/none",
                "STSBenchmark",
                &["test".into()],
                &["default".into()]
            ),
            None
        );
    }
}
