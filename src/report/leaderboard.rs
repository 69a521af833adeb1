//! The leaderboard table of `leafbench report`, computed as MTEB's leaderboard does
//! (mteb-protocol section 2): per row (model, and compression setting when present) the task
//! scores ×100, Mean(Task) (null when any task is missing), the mean of each task type,
//! Mean(TaskType) (the mean of the type means), and the Borda rank. The table is a polars
//! DataFrame, rendered as Markdown, CSV or JSON.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::sources::TaskScore;
use crate::error::{Error, Result};

/// The rows of a leaderboard, before rendering.
pub struct Leaderboard {
    pub tasks: Vec<String>,
    pub types: Vec<String>,
    pub rows: Vec<Row>,
    /// Whether a published-score column is shown.
    pub with_reference: bool,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub model: String,
    pub revision: String,
    pub setting: Option<String>,
    /// task → score ×100.
    pub scores: BTreeMap<String, f64>,
    pub mean_task: Option<f64>,
    pub mean_type: Option<f64>,
    pub type_means: Vec<Option<f64>>,
    pub borda_rank: usize,
    /// Mean(Task) of the published scores of this model over the same tasks.
    pub published_mean: Option<f64>,
}

impl Leaderboard {
    /// `tasks`: the benchmark's tasks in order, with their types; `published`: the shipped
    /// scores per (model, task), ×1, when a reference column is wanted.
    pub fn new(
        scores: &[TaskScore],
        tasks: &[(String, String)],
        published: Option<&BTreeMap<(String, String), f64>>,
    ) -> Self {
        let mut types: Vec<String> = tasks.iter().map(|(_, t)| t.clone()).collect();
        types.sort();
        types.dedup();
        let mut rows: Vec<Row> = Vec::new();
        for s in scores {
            if !tasks.iter().any(|(t, _)| *t == s.task) {
                continue;
            }
            let at = rows.iter().position(|r| {
                r.model == s.model && r.revision == s.revision && r.setting == s.setting
            });
            let row = match at {
                Some(i) => &mut rows[i],
                None => {
                    rows.push(Row {
                        model: s.model.clone(),
                        revision: s.revision.clone(),
                        setting: s.setting.clone(),
                        scores: BTreeMap::new(),
                        mean_task: None,
                        mean_type: None,
                        type_means: Vec::new(),
                        borda_rank: 0,
                        published_mean: None,
                    });
                    rows.last_mut().expect("just pushed")
                }
            };
            row.scores.insert(s.task.clone(), 100.0 * s.score);
        }
        for row in &mut rows {
            row.mean_task = mean_all(tasks.iter().map(|(t, _)| row.scores.get(t).copied()));
            row.type_means = types
                .iter()
                .map(|ty| {
                    mean_all(
                        tasks
                            .iter()
                            .filter(|(_, t)| t == ty)
                            .map(|(t, _)| row.scores.get(t).copied()),
                    )
                })
                .collect();
            row.mean_type = mean_all(row.type_means.iter().copied());
            row.published_mean = published.and_then(|p| {
                mean_all(
                    tasks
                        .iter()
                        .map(|(t, _)| p.get(&(row.model.clone(), t.clone())).map(|v| 100.0 * v)),
                )
            });
        }
        let ranks = borda_ranks(&rows, tasks);
        for (row, rank) in rows.iter_mut().zip(ranks) {
            row.borda_rank = rank;
        }
        rows.sort_by(|a, b| {
            a.borda_rank
                .cmp(&b.borda_rank)
                .then_with(|| a.model.cmp(&b.model))
                .then_with(|| a.setting.cmp(&b.setting))
        });
        Self {
            tasks: tasks.iter().map(|(t, _)| t.clone()).collect(),
            types,
            rows,
            with_reference: published.is_some(),
        }
    }

    /// The table as a DataFrame: rank, model, revision, [setting], means, [published and Δ],
    /// type means, then every task (scores ×100; null where missing).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let text =
            |f: &dyn Fn(&Row) -> String| -> Vec<String> { self.rows.iter().map(f).collect() };
        let num = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<Option<f64>> {
            self.rows.iter().map(f).collect()
        };
        let mut cols: Vec<Column> = vec![
            Column::new(
                "Rank (Borda)".into(),
                self.rows
                    .iter()
                    .map(|r| r.borda_rank as u32)
                    .collect::<Vec<u32>>(),
            ),
            Column::new("Model".into(), text(&|r| r.model.clone())),
            Column::new("Revision".into(), text(&|r| r.revision.clone())),
        ];
        if self.rows.iter().any(|r| r.setting.is_some()) {
            cols.push(Column::new(
                "Setting".into(),
                text(&|r| r.setting.clone().unwrap_or_else(|| "plain".into())),
            ));
        }
        cols.push(Column::new("Mean (Task)".into(), num(&|r| r.mean_task)));
        cols.push(Column::new("Mean (TaskType)".into(), num(&|r| r.mean_type)));
        if self.with_reference {
            cols.push(Column::new(
                "Published Mean (Task)".into(),
                num(&|r| r.published_mean),
            ));
            cols.push(Column::new(
                "Δ published".into(),
                num(&|r| Some(r.mean_task? - r.published_mean?)),
            ));
        }
        for (i, ty) in self.types.iter().enumerate() {
            cols.push(Column::new(ty.as_str().into(), num(&|r| r.type_means[i])));
        }
        for task in &self.tasks {
            cols.push(Column::new(
                task.as_str().into(),
                num(&|r| r.scores.get(task).copied()),
            ));
        }
        DataFrame::new(self.rows.len(), cols).map_err(|e| Error::Unsupported {
            task: "report".into(),
            what: format!("cannot build the table: {e}"),
        })
    }
}

/// The mean of the values, or `None` if any is missing (pandas `skipna=False`).
fn mean_all(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Option<Vec<f64>> = values.collect();
    let v = v?;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Borda ranks: per task, rows ranked by score (highest first, ties share the average rank);
/// a row earns `rows − rank` points per task it has; the final rank is the `min` rank of the
/// points, most points first.
fn borda_ranks(rows: &[Row], tasks: &[(String, String)]) -> Vec<usize> {
    let n = rows.len() as f64;
    let mut points = vec![0.0f64; rows.len()];
    for (task, _) in tasks {
        let scored: Vec<(usize, f64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, *r.scores.get(task)?)))
            .collect();
        for &(i, s) in &scored {
            let above = scored.iter().filter(|(_, o)| *o > s).count() as f64;
            let tied = scored.iter().filter(|(_, o)| *o == s).count() as f64;
            let rank = above + (tied + 1.0) / 2.0;
            points[i] += n - rank;
        }
    }
    points
        .iter()
        .map(|p| 1 + points.iter().filter(|o| *o > p).count())
        .collect()
}

/// Renders a DataFrame as a Markdown table (numbers with 2 decimals, `–` for null).
pub fn markdown(df: &DataFrame) -> String {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut out = format!("| {} |\n", names.join(" | "));
    let align: Vec<&str> = df
        .columns()
        .iter()
        .map(|c| {
            if c.dtype().is_primitive_numeric() {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out += &format!("|{}|\n", align.join("|"));
    for i in 0..df.height() {
        let cells: Vec<String> = df.columns().iter().map(|c| cell(c, i, 2)).collect();
        out += &format!("| {} |\n", cells.join(" | "));
    }
    out
}

/// Renders a DataFrame as CSV (numbers with 4 decimals, empty for null).
pub fn csv(df: &DataFrame) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let names: Vec<String> = df.get_column_names().iter().map(|n| quote(n)).collect();
    let mut out = names.join(",") + "\n";
    for i in 0..df.height() {
        let cells: Vec<String> = df
            .columns()
            .iter()
            .map(|c| {
                let v = cell(c, i, 4);
                if v == "–" {
                    String::new()
                } else {
                    quote(&v)
                }
            })
            .collect();
        out += &(cells.join(",") + "\n");
    }
    out
}

/// Renders a DataFrame as a JSON array of row objects (null for missing).
pub fn json(df: &DataFrame) -> String {
    let rows: Vec<serde_json::Value> = (0..df.height())
        .map(|i| {
            let obj: serde_json::Map<String, serde_json::Value> = df
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), json_value(c, i)))
                .collect();
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::to_string_pretty(&rows).expect("table serialises") + "\n"
}

fn cell(c: &Column, i: usize, decimals: usize) -> String {
    match c.get(i) {
        Ok(AnyValue::Float64(v)) => format!("{v:.decimals$}"),
        Ok(AnyValue::UInt32(v)) => v.to_string(),
        Ok(AnyValue::String(s)) => s.to_string(),
        Ok(AnyValue::StringOwned(s)) => s.to_string(),
        _ => "–".into(),
    }
}

fn json_value(c: &Column, i: usize) -> serde_json::Value {
    match c.get(i) {
        Ok(AnyValue::Float64(v)) => serde_json::json!(v),
        Ok(AnyValue::UInt32(v)) => serde_json::json!(v),
        Ok(AnyValue::String(s)) => serde_json::json!(s),
        Ok(AnyValue::StringOwned(s)) => serde_json::json!(s.as_str()),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(model: &str, task: &str, ty: &str, score: f64) -> TaskScore {
        TaskScore {
            model: model.into(),
            revision: "r".into(),
            setting: None,
            task: task.into(),
            task_type: ty.into(),
            score,
            metrics: BTreeMap::new(),
            coverage: vec!["test/default".into()],
            source: "test".into(),
            encoding: None,
        }
    }

    fn tasks() -> Vec<(String, String)> {
        [("A", "STS"), ("B", "STS"), ("C", "Retrieval")]
            .iter()
            .map(|(t, ty)| (t.to_string(), ty.to_string()))
            .collect()
    }

    #[test]
    fn means_follow_the_leaderboard_and_a_missing_task_gives_null() {
        let scores = vec![
            score("m1", "A", "STS", 0.8),
            score("m1", "B", "STS", 0.6),
            score("m1", "C", "Retrieval", 0.4),
            score("m2", "A", "STS", 0.9),
            score("m2", "C", "Retrieval", 0.5),
        ];
        let board = Leaderboard::new(&scores, &tasks(), None);
        let m1 = board.rows.iter().find(|r| r.model == "m1").unwrap();
        assert!((m1.mean_task.unwrap() - 60.0).abs() < 1e-9);
        // Types: Retrieval 40, STS 70 → 55.
        assert!((m1.mean_type.unwrap() - 55.0).abs() < 1e-9);
        let m2 = board.rows.iter().find(|r| r.model == "m2").unwrap();
        assert_eq!(m2.mean_task, None);
        assert_eq!(m2.mean_type, None);
        // Borda: m2 wins A and C (1 point each), m1 wins B alone (1 point) and gets 0 for A, C:
        // m2 has 2 points, m1 1.
        assert_eq!((m2.borda_rank, m1.borda_rank), (1, 2));
        let md = markdown(&board.to_frame().unwrap());
        assert!(
            md.starts_with("| Rank (Borda) | Model | Revision | Mean (Task) |"),
            "{md}"
        );
        assert!(md.contains("| 1 | m2 | r | – | – |"), "{md}");
        let csv = csv(&board.to_frame().unwrap());
        assert!(
            csv.contains("2,m1,r,60.0000,55.0000,40.0000,70.0000,80.0000,60.0000,40.0000"),
            "{csv}"
        );
    }

    #[test]
    fn borda_ties_share_the_average_rank() {
        let scores = vec![score("m1", "A", "STS", 0.5), score("m2", "A", "STS", 0.5)];
        let board = Leaderboard::new(&scores, &tasks()[..1], None);
        assert!(board.rows.iter().all(|r| r.borda_rank == 1));
    }
}
