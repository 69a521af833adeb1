//! Which charts `leafbench plot` draws from a set of scores: per model with compression cells,
//! score against dims (one line per storage level) for each task and each task type, a
//! retention heatmap (levels × dims) of the float32 encoding, and score against bytes per vector
//! and (where the run timed its encodings) against tokens per second, each with its Pareto
//! front and one series per compute precision and level;
//! across models, bars per task comparing their plain results.

use std::collections::{BTreeMap, BTreeSet};

use super::plot::{Chart, Series};
use super::results_json::EncodingSpeed;
use super::sources::TaskScore;
use crate::compress::quantize::Level;
use crate::compress::setting::Setting;
use crate::encoder::Precision;

/// A chart, the file stem it is saved under and its size in pixels.
pub struct Named {
    pub stem: String,
    pub chart: Chart,
    pub width: u32,
    pub height: u32,
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 650;

/// Every chart the scores support.
pub fn charts(scores: &[TaskScore]) -> Vec<Named> {
    let mut out = Vec::new();
    let speeds = speeds(scores);
    for (model, cells) in grids(scores) {
        out.extend(score_vs_dim(&model, &cells));
        out.extend(retention(&model, &cells));
        out.extend(pareto(&model, &cells));
        if let Some(speeds) = speeds.get(&model) {
            out.extend(speed_pareto(&model, &cells, speeds));
        }
    }
    if let Some(bars) = model_bars(scores) {
        out.push(bars);
    }
    out
}

/// One model's grid: cell → task → (task type, score ×100). Rescoring cells (retrieval only)
/// are left out, since they cover fewer tasks than the others.
type Cells = BTreeMap<Setting, BTreeMap<String, (String, f64)>>;

/// One model's encoding speeds: precision → task → speed.
type Speeds = BTreeMap<Precision, BTreeMap<String, EncodingSpeed>>;

/// The speeds result files record, per model (every cell of a task and precision shares its
/// encoding, so any one of them gives it).
fn speeds(scores: &[TaskScore]) -> BTreeMap<String, Speeds> {
    let mut out: BTreeMap<String, Speeds> = BTreeMap::new();
    for s in scores {
        let setting = s.setting.as_deref().and_then(Setting::parse);
        if let (Some(setting), Some(speed)) = (setting, s.encoding) {
            out.entry(s.model.clone())
                .or_default()
                .entry(setting.precision)
                .or_default()
                .insert(s.task.clone(), speed);
        }
    }
    out
}

fn grids(scores: &[TaskScore]) -> BTreeMap<String, Cells> {
    let mut out: BTreeMap<String, Cells> = BTreeMap::new();
    for s in scores {
        let Some(setting) = s.setting.as_deref().and_then(Setting::parse) else {
            continue;
        };
        if setting.rescore {
            continue;
        }
        out.entry(s.model.clone())
            .or_default()
            .entry(setting)
            .or_default()
            .insert(s.task.clone(), (s.task_type.clone(), 100.0 * s.score));
    }
    out
}

fn slug(model: &str) -> String {
    super::results_json::model_dir_name(model)
}

/// The model's name without its organisation, for titles.
fn short(model: &str) -> &str {
    model.rsplit('/').next().unwrap_or(model)
}

fn levels(cells: &Cells) -> Vec<Level> {
    let mut v: Vec<Level> = cells.keys().map(|s| s.level).collect();
    v.sort_by_key(|l| Level::ALL.iter().position(|a| a == l));
    v.dedup();
    v
}

fn dims(cells: &Cells) -> Vec<usize> {
    let set: BTreeSet<usize> = cells.keys().map(|s| s.dim).collect();
    set.into_iter().rev().collect()
}

/// The mean of `tasks`' scores at a cell, if the cell has every one of them.
fn mean_at(cells: &Cells, setting: &Setting, tasks: &[String]) -> Option<f64> {
    let cell = cells.get(setting)?;
    let v: Option<Vec<f64>> = tasks.iter().map(|t| cell.get(t).map(|(_, s)| *s)).collect();
    let v = v?;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn tasks_of(cells: &Cells) -> BTreeMap<String, String> {
    cells
        .values()
        .flat_map(|c| c.iter().map(|(t, (ty, _))| (t.clone(), ty.clone())))
        .collect()
}

/// Score against dims for each task and for each task type's mean.
fn score_vs_dim(model: &str, cells: &Cells) -> Vec<Named> {
    let tasks = tasks_of(cells);
    let mut groups: Vec<(String, Vec<String>)> =
        tasks.keys().map(|t| (t.clone(), vec![t.clone()])).collect();
    let types: BTreeSet<&String> = tasks.values().collect();
    for ty in types {
        let members: Vec<String> = tasks
            .iter()
            .filter(|(_, t)| *t == ty)
            .map(|(n, _)| n.clone())
            .collect();
        groups.push((format!("{ty} (mean of {} tasks)", members.len()), members));
    }
    groups
        .into_iter()
        .filter_map(|(name, members)| {
            let series: Vec<Series> = levels(cells)
                .into_iter()
                .map(|level| Series {
                    label: level.name().to_string(),
                    points: dims(cells)
                        .into_iter()
                        .rev()
                        .filter_map(|dim| {
                            let s = Setting {
                                level,
                                ..Setting::plain(dim)
                            };
                            Some((dim as f64, mean_at(cells, &s, &members)?))
                        })
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if series.is_empty() {
                return None;
            }
            let file = name.split(' ').next().unwrap_or(&name).to_string();
            Some(Named {
                stem: format!("score-vs-dim_{}_{file}", slug(model)),
                chart: Chart::lines(
                    &format!("{}: {name}", short(model)),
                    "embedding dimensions kept (MRL truncation)",
                    "main score (×100)",
                    series,
                    true,
                ),
                width: WIDTH,
                height: HEIGHT,
            })
        })
        .collect()
}

/// Mean retention (% of the float32 full-size score) per level and dim; none without a
/// float32 cell at the largest dims.
fn retention(model: &str, cells: &Cells) -> Option<Named> {
    let dims = dims(cells);
    let tasks: Vec<String> = tasks_of(cells).into_keys().collect();
    let Some(base) = dims
        .first()
        .and_then(|&dim| cells.get(&Setting::plain(dim)))
    else {
        tracing::warn!("{model}: no float32 cell at full size; no retention heatmap");
        return None;
    };
    let rows: Vec<Level> = levels(cells);
    let values = rows
        .iter()
        .map(|&level| {
            dims.iter()
                .map(|&dim| {
                    let cell = cells.get(&Setting {
                        level,
                        ..Setting::plain(dim)
                    })?;
                    let ratios: Vec<f64> = tasks
                        .iter()
                        .filter_map(|t| Some(100.0 * cell.get(t)?.1 / base.get(t)?.1))
                        .collect();
                    (ratios.len() == tasks.len() && !ratios.is_empty())
                        .then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
                })
                .collect()
        })
        .collect();
    Some(Named {
        stem: format!("retention_{}", slug(model)),
        chart: Chart::heatmap(
            &format!(
                "{}: % of the float32 full-size score (mean of {} tasks)",
                short(model),
                tasks.len()
            ),
            "embedding dimensions kept",
            "storage level",
            dims.iter().map(|d| d.to_string()).collect(),
            rows.iter().map(|l| l.name().to_string()).collect(),
            values,
            1,
        ),
        width: WIDTH,
        height: HEIGHT,
    })
}

/// Mean score over the tasks against bytes per vector, one series per compute precision and
/// level; none when no cell has every task.
fn pareto(model: &str, cells: &Cells) -> Option<Named> {
    let tasks: Vec<String> = tasks_of(cells).into_keys().collect();
    let series =
        series_by_precision_and_level(cells, &tasks, |s| Some(s.bytes_per_vector() as f64));
    if series.is_empty() {
        return None;
    }
    Some(Named {
        stem: format!("score-vs-bytes_{}", slug(model)),
        chart: Chart::pareto(
            &format!(
                "{}: score against storage (mean of {} tasks)",
                short(model),
                tasks.len()
            ),
            "bytes per vector",
            "mean main score (×100)",
            series,
            false,
        ),
        width: WIDTH,
        height: HEIGHT,
    })
}

/// Mean score over the tasks against the encoding's tokens per second, series as in
/// [`pareto`]; a precision is drawn where its encoding was timed on every task (not read
/// from the cache), and the chart only where one was.
fn speed_pareto(model: &str, cells: &Cells, speeds: &Speeds) -> Option<Named> {
    let tasks: Vec<String> = tasks_of(cells).into_keys().collect();
    let tokens_per_second: BTreeMap<Precision, f64> = speeds
        .iter()
        .filter_map(|(&p, per_task)| {
            let timed: Option<Vec<EncodingSpeed>> =
                tasks.iter().map(|t| per_task.get(t).copied()).collect();
            let total = timed?.into_iter().reduce(EncodingSpeed::plus)?;
            // Whole tokens per second: the axis labels its points' values.
            Some((p, total.tokens_per_second()?.round()))
        })
        .collect();
    let series = series_by_precision_and_level(cells, &tasks, |s| {
        tokens_per_second.get(&s.precision).copied()
    });
    if series.is_empty() {
        return None;
    }
    Some(Named {
        stem: format!("score-vs-speed_{}", slug(model)),
        chart: Chart::pareto_larger_x(
            &format!(
                "{}: score against encoding speed (mean of {} tasks)",
                short(model),
                tasks.len()
            ),
            "tokens per second, encoding",
            "mean main score (×100)",
            series,
        ),
        width: WIDTH,
        height: HEIGHT,
    })
}

/// One series per compute precision and level: each cell with every task at (`x` of its
/// setting, its mean score); cells without an `x` are left out.
fn series_by_precision_and_level(
    cells: &Cells,
    tasks: &[String],
    x: impl Fn(&Setting) -> Option<f64>,
) -> Vec<Series> {
    let precisions: BTreeSet<Precision> = cells.keys().map(|s| s.precision).collect();
    precisions
        .into_iter()
        .flat_map(|p| levels(cells).into_iter().map(move |level| (p, level)))
        .map(|(precision, level)| Series {
            label: match precision {
                Precision::Float32 => level.name().to_string(),
                p => format!("{} ({p} compute)", level.name()),
            },
            points: cells
                .keys()
                .filter(|s| s.level == level && s.precision == precision)
                .filter_map(|s| Some((x(s)?, mean_at(cells, s, tasks)?)))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// Plain scores per task, one bar per model (published scores apart from run results of the
/// same model), when there are any.
fn model_bars(scores: &[TaskScore]) -> Option<Named> {
    let plain: Vec<&TaskScore> = scores.iter().filter(|s| s.setting.is_none()).collect();
    let tasks: Vec<String> = plain
        .iter()
        .map(|s| s.task.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if tasks.is_empty() {
        return None;
    }
    let models: BTreeSet<(&str, &str)> = plain
        .iter()
        .map(|s| (s.model.as_str(), s.revision.as_str()))
        .collect();
    let series = models
        .iter()
        .map(|&(model, revision)| Series {
            label: if revision == "published" {
                format!("{model} (published)")
            } else {
                model.to_string()
            },
            points: tasks
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let s = plain
                        .iter()
                        .find(|s| s.model == model && s.revision == revision && s.task == *t)?;
                    Some((i as f64, 100.0 * s.score))
                })
                .collect(),
        })
        .collect();
    // Bars widen with the number of tasks and models so each stays readable.
    let width = WIDTH.max(60 + (tasks.len() * (models.len() + 1) * 14) as u32);
    Some(Named {
        stem: "models-by-task".into(),
        chart: Chart::bars(
            "Main score per task",
            "task",
            "main score (×100)",
            tasks,
            series,
        ),
        width,
        height: HEIGHT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(setting: Option<&str>, task: &str, value: f64) -> TaskScore {
        TaskScore {
            model: "org/m".into(),
            revision: "r".into(),
            setting: setting.map(str::to_string),
            task: task.into(),
            task_type: "STS".into(),
            score: value,
            metrics: BTreeMap::new(),
            coverage: vec!["test/default".into()],
            source: "test".into(),
            encoding: None,
        }
    }

    fn stems(charts: &[Named]) -> Vec<&str> {
        charts.iter().map(|c| c.stem.as_str()).collect()
    }

    #[test]
    fn a_grid_gives_lines_per_task_and_type_a_heatmap_and_a_pareto_chart() {
        let scores = vec![
            score(Some("dim8-float32"), "A", 0.8),
            score(Some("dim8-int8"), "A", 0.6),
            score(Some("dim4-float32"), "A", 0.4),
            score(Some("dim8-binary-rescore"), "A", 0.1),
            score(None, "A", 0.8),
        ];
        let charts = charts(&scores);
        assert_eq!(
            stems(&charts),
            [
                "score-vs-dim_org__m_A",
                "score-vs-dim_org__m_STS",
                "retention_org__m",
                "score-vs-bytes_org__m",
                "models-by-task"
            ]
        );
        // The rescore cell is left out: int8 is the only other level.
        let grid = &grids(&scores)["org/m"];
        assert_eq!(levels(grid), [Level::Float32, Level::Int8]);
        assert_eq!(dims(grid), [8, 4]);
    }

    #[test]
    fn each_compute_precision_is_its_own_pareto_series() {
        let scores = vec![
            score(Some("dim8-float32"), "A", 0.8),
            score(Some("dim8-int8"), "A", 0.6),
            score(Some("int8-compute-dim8-int8"), "A", 0.7),
            score(Some("bfloat16-compute-dim8-float32"), "A", 0.75),
        ];
        let charts = charts(&scores);
        let pareto = charts
            .iter()
            .find(|c| c.stem == "score-vs-bytes_org__m")
            .expect("a Pareto chart");
        // The int8-compute cell beats the float32 encoding's at 8 bytes, so it is on the front.
        assert_eq!(pareto.chart.pareto_front(), [(8.0, 70.0), (32.0, 80.0)]);
        let svg = pareto.chart.to_svg(800, 500).unwrap();
        for label in ["int8 (int8 compute)", "float32 (bfloat16 compute)"] {
            assert!(svg.contains(label), "no series `{label}`");
        }
        // The dims chart and the heatmap stay the float32 encoding's.
        let grid = &grids(&scores)["org/m"];
        assert_eq!(dims(grid), [8]);
    }

    #[test]
    fn timed_encodings_give_a_speed_chart_whose_front_favours_the_faster() {
        let timed = |setting, task, value, tokens, seconds| TaskScore {
            encoding: Some(EncodingSpeed { tokens, seconds }),
            ..score(Some(setting), task, value)
        };
        let mut scores = vec![
            timed("dim8-float32", "A", 0.8, 100, 1.0),
            timed("dim8-float32", "B", 0.6, 300, 1.0),
            timed("int8-compute-dim8-float32", "A", 0.79, 400, 1.0),
            timed("int8-compute-dim8-float32", "B", 0.6, 400, 1.0),
        ];
        let speed_chart = |scores: &[TaskScore]| {
            charts(scores)
                .into_iter()
                .find(|c| c.stem == "score-vs-speed_org__m")
        };
        let chart = speed_chart(&scores).expect("a speed chart").chart;
        // float32: 400 tokens in 2 s; int8: 800 in 2 s, a little lower but twice as fast.
        assert_eq!(chart.pareto_front(), [(200.0, 70.0), (400.0, 69.5)]);
        assert!(chart
            .to_svg(800, 500)
            .unwrap()
            .contains("tokens per second"));
        // A precision whose encoding was not timed on every task is not drawn.
        scores[3].encoding = None;
        let chart = speed_chart(&scores).expect("float32 is timed").chart;
        assert_eq!(chart.pareto_front(), [(200.0, 70.0)]);
        for s in &mut scores {
            s.encoding = None;
        }
        assert!(speed_chart(&scores).is_none());
    }

    #[test]
    fn a_grid_without_its_full_size_float32_cell_has_no_heatmap() {
        let scores = vec![
            score(Some("dim8-int8"), "A", 0.6),
            score(Some("dim4-float32"), "A", 0.4),
        ];
        let charts = charts(&scores);
        assert!(
            !stems(&charts).contains(&"retention_org__m"),
            "{:?}",
            stems(&charts)
        );
        assert!(stems(&charts).contains(&"score-vs-bytes_org__m"));
    }
}
