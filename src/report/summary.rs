//! The table a run ends with: each task's main score beside the published one and the
//! difference, in points (×100), as text for the terminal or Markdown for a document.

use super::published::Published;
use crate::error::Result;
use crate::run::RunRow;
use crate::task::Registry;

pub struct SummaryRow {
    pub model: String,
    pub task: String,
    pub task_type: &'static str,
    pub ours: Option<f64>,
    pub published: Option<f64>,
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
            points(self.ours),
            points(self.published),
            signed(self.delta()),
        ]
    }
}

pub struct Summary {
    pub rows: Vec<SummaryRow>,
}

fn points(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn signed(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "–".into())
}

impl Summary {
    pub fn new(rows: &[RunRow], registry: &Registry, published: &Published) -> Result<Self> {
        let rows = rows
            .iter()
            .map(|r| {
                let task = registry.get(&r.task)?;
                Ok(SummaryRow {
                    model: r.model.clone(),
                    task: r.task.clone(),
                    task_type: r.task_type,
                    ours: r.main_score.map(|v| v * 100.0),
                    published: published
                        .score(&r.model, &r.task, &task.eval_splits, &task.dataset.subset)
                        .map(|v| v * 100.0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { rows })
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
        out
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| model | task | type | leafbench | published | Δ |\n|---|---|---|---:|---:|---:|\n",
        );
        for r in &self.rows {
            out += &format!("| {} |\n", r.cells().join(" | "));
        }
        out
    }
}
