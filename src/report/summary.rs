//! The table a run ends with: each task's main score beside the published one and the
//! difference, in points (×100), as text for the terminal or Markdown for a document.

use super::published::Published;
use crate::error::Result;
use crate::report::results_json::CompressionInfo;
use crate::task::Registry;

pub struct SummaryRow {
    pub model: String,
    pub task: String,
    pub task_type: &'static str,
    pub ours: Option<f64>,
    pub published: Option<f64>,
    /// The task was skipped: its data could not be had.
    pub unavailable: bool,
}

impl SummaryRow {
    pub fn delta(&self) -> Option<f64> {
        Some(self.ours? - self.published?)
    }

    /// The printed cells: model, task, type, score, published, Δ.
    fn cells(&self) -> [String; 6] {
        [
            self.model.clone(),
            self.task.clone(),
            self.task_type.to_string(),
            if self.unavailable {
                "no data".to_string()
            } else {
                points(self.ours)
            },
            points(self.published),
            signed(self.delta()),
        ]
    }
}

pub struct Summary {
    pub rows: Vec<SummaryRow>,
    /// The compression grid's cells, when the run had one.
    pub cells: Vec<CellRow>,
}

/// One line of the run's summary table.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub model: String,
    pub task: String,
    pub task_type: &'static str,
    pub main_score: Option<f64>,
    /// Whether the result was already on disk.
    pub reused: bool,
    /// Why the task was skipped, when its data could not be had.
    pub unavailable: Option<String>,
    /// The grid cell, when the run has a compression grid.
    pub compression: Option<CompressionInfo>,
}

/// One grid cell of one task.
pub struct CellRow {
    pub model: String,
    pub task: String,
    pub info: CompressionInfo,
    pub ours: Option<f64>,
}

impl CellRow {
    /// The printed cells: model, task, setting, bytes per vector, score, retention (%).
    fn cells(&self) -> [String; 6] {
        [
            self.model.clone(),
            self.task.clone(),
            self.info.setting.clone(),
            self.info.bytes_per_vector.to_string(),
            points(self.ours),
            self.info
                .retention
                .map(|r| format!("{:.1}", 100.0 * r))
                .unwrap_or_else(|| "–".into()),
        ]
    }
}

fn points(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn signed(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "–".into())
}

impl Summary {
    pub fn new(rows: &[RunRow], registry: &Registry, published: &Published) -> Result<Self> {
        let cells = rows
            .iter()
            .filter_map(|r| {
                Some(CellRow {
                    model: r.model.clone(),
                    task: r.task.clone(),
                    info: r.compression.clone()?,
                    ours: r.main_score.map(|v| v * 100.0),
                })
            })
            .collect();
        let rows = rows
            .iter()
            .filter(|r| r.compression.is_none())
            .map(|r| {
                let task = registry.get(&r.task)?;
                Ok(SummaryRow {
                    model: r.model.clone(),
                    task: r.task.clone(),
                    task_type: r.task_type,
                    ours: r.main_score.map(|v| v * 100.0),
                    // Published scores are of each task's default edition.
                    published: published
                        .score(&r.model, &r.task, &task.eval_splits, &task.subsets())
                        .filter(|_| task.edition.is_none())
                        .map(|v| v * 100.0),
                    unavailable: r.unavailable.is_some(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { rows, cells })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{:<40} {:<40} {:<20} {:>7} {:>9} {:>7}\n",
            "model", "task", "type", "score", "published", "Δ"
        );
        for r in &self.rows {
            let [model, task, kind, ours, published, delta] = r.cells();
            out +=
                &format!("{model:<40} {task:<40} {kind:<20} {ours:>7} {published:>9} {delta:>7}\n");
        }
        for line in self.mean_lines() {
            out += &line;
            out.push('\n');
        }
        if !self.cells.is_empty() {
            // Cells of a lower compute precision have longer names (`int8-compute-dim384-…`).
            let w = self
                .cells
                .iter()
                .map(|c| c.info.setting.len())
                .max()
                .unwrap_or(0)
                .max(24);
            out += &format!(
                "\n{:<40} {:<40} {:<w$} {:>9} {:>7} {:>9}\n",
                "model", "task", "setting", "bytes/vec", "score", "retained%"
            );
            for c in &self.cells {
                let [model, task, setting, bytes, ours, kept] = c.cells();
                out += &format!(
                    "{model:<40} {task:<40} {setting:<w$} {bytes:>9} {ours:>7} {kept:>9}\n"
                );
            }
        }
        out
    }

    /// Per model, MTEB's Mean(Task) (the mean of the main scores, ×100) when every task ran;
    /// otherwise which tasks had no data, since a mean over fewer tasks is not comparable.
    pub fn mean_lines(&self) -> Vec<String> {
        let mut models: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !models.contains(&r.model.as_str()) {
                models.push(&r.model);
            }
        }
        models
            .into_iter()
            .map(|model| {
                let rows: Vec<&SummaryRow> = self.rows.iter().filter(|r| r.model == model).collect();
                let missing: Vec<&str> = rows
                    .iter()
                    .filter(|r| r.ours.is_none())
                    .map(|r| r.task.as_str())
                    .collect();
                if missing.is_empty() {
                    let mean = rows.iter().filter_map(|r| r.ours).sum::<f64>() / rows.len() as f64;
                    format!("{model}: Mean(Task) over {} tasks: {mean:.2}", rows.len())
                } else {
                    format!(
                        "{model}: {} of {} tasks ran; no Mean(Task) without all of them (no data: {})",
                        rows.len() - missing.len(),
                        rows.len(),
                        missing.join(", ")
                    )
                }
            })
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| model | task | type | leafbench | published | Δ |\n|---|---|---|---:|---:|---:|\n",
        );
        for r in &self.rows {
            out += &format!("| {} |\n", r.cells().join(" | "));
        }
        out.push('\n');
        for line in self.mean_lines() {
            out += &format!("{line}\n\n");
        }
        if !self.cells.is_empty() {
            out += "| model | task | setting | bytes/vector | leafbench | retained % |\n\
                    |---|---|---|---:|---:|---:|\n";
            for c in &self.cells {
                out += &format!("| {} |\n", c.cells().join(" | "));
            }
        }
        out
    }
}
