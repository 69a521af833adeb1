//! `leafbench compare`: per task, the change of the main score (and optionally of every
//! metric) from a baseline to a candidate, in points (×100), against a tolerance. Tasks are
//! matched by name and compression setting; each side holds one model's results. A task (or
//! grid cell) of the baseline that the candidate lacks fails the gate unless missing ones are
//! allowed: a port that skipped a task has not shown it still scores.

use std::collections::BTreeMap;

use super::sources::TaskScore;
use crate::error::{Error, Result};
use crate::task::spec::TASK_TYPES;

/// Allowed |Δ| in points, per task type or by default.
pub struct Tolerances {
    pub default: f64,
    pub per_type: BTreeMap<String, f64>,
}

impl Tolerances {
    pub fn of(&self, task_type: &str) -> f64 {
        self.per_type
            .get(task_type)
            .copied()
            .unwrap_or(self.default)
    }

    /// Parses `Type=points`; the type must be one of MTEB's task types.
    pub fn parse_per_type(s: &str) -> std::result::Result<(String, f64), String> {
        let (ty, tol) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected TaskType=points, e.g. Retrieval=0.5"))?;
        if !TASK_TYPES.contains(&ty) {
            return Err(format!(
                "`{ty}` is not a task type; expected one of {}",
                TASK_TYPES.join(", ")
            ));
        }
        Ok((ty.to_string(), Self::parse_points(tol)?))
    }

    /// Parses a tolerance: a finite, non-negative number of points. NaN would pass every
    /// change, a negative one none.
    pub fn parse_points(s: &str) -> std::result::Result<f64, String> {
        match s.trim().parse::<f64>() {
            Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
            Ok(t) => Err(format!(
                "`{t}` is not a tolerance; expected a finite number of points, 0 or more"
            )),
            Err(_) => Err(format!("`{s}` is not a number of points")),
        }
    }
}

/// One compared value.
#[derive(Debug, Clone)]
pub struct Delta {
    pub task: String,
    pub task_type: String,
    pub setting: Option<String>,
    pub metric: String,
    pub baseline: f64,
    pub candidate: f64,
    /// candidate − baseline, in points.
    pub delta: f64,
    pub tolerance: f64,
}

impl Delta {
    pub fn beyond(&self) -> bool {
        // NaN on either side counts as beyond any tolerance.
        self.delta.is_nan() || self.delta.abs() > self.tolerance
    }
}

pub struct Comparison {
    pub baseline_model: String,
    pub candidate_model: String,
    pub deltas: Vec<Delta>,
    /// Tasks only one side has (not compared); the baseline's also lists tasks the candidate
    /// scored over other subsets or splits.
    pub only_baseline: Vec<String>,
    pub only_candidate: Vec<String>,
    /// Whether baseline tasks missing from the candidate are accepted.
    pub allow_missing: bool,
}

type Key = (Option<String>, String);

pub fn compare(
    baseline: &[TaskScore],
    candidate: &[TaskScore],
    tolerances: &Tolerances,
    all_metrics: bool,
    allow_missing: bool,
) -> Result<Comparison> {
    let base = by_task(baseline, "baseline")?;
    let cand = by_task(candidate, "candidate")?;
    let mut deltas = Vec::new();
    let mut other_subsets = Vec::new();
    for (key, b) in &base.1 {
        let Some(c) = cand.1.get(key) else { continue };
        if b.coverage != c.coverage {
            // A mean over other subsets or splits is another number: the candidate has not
            // shown what the baseline scored, as if the task were missing.
            other_subsets.push(format!(
                "{} (baseline scores {}; candidate {})",
                label(key),
                b.coverage.join(", "),
                c.coverage.join(", ")
            ));
            continue;
        }
        let tolerance = tolerances.of(&b.task_type);
        let metrics: Vec<&String> = if all_metrics {
            b.metrics
                .keys()
                .filter(|m| c.metrics.contains_key(*m) && *m != "evaluation_time")
                .collect()
        } else {
            vec![]
        };
        let main = "main_score".to_string();
        for metric in std::iter::once(&main).chain(metrics.into_iter().filter(|m| **m != main)) {
            let (bv, cv) = (b.metrics[metric], c.metrics[metric]);
            deltas.push(Delta {
                task: b.task.clone(),
                task_type: b.task_type.clone(),
                setting: b.setting.clone(),
                metric: metric.clone(),
                baseline: bv,
                candidate: cv,
                delta: 100.0 * (cv - bv),
                tolerance,
            });
        }
    }
    if deltas.is_empty() && other_subsets.is_empty() {
        return Err(Error::Unsupported {
            task: "compare".into(),
            what: format!(
                "the baseline ({}) and the candidate ({}) have no task in common",
                base.0, cand.0
            ),
        });
    }
    let names = |m: &BTreeMap<Key, &TaskScore>, other: &BTreeMap<Key, &TaskScore>| {
        m.keys()
            .filter(|k| !other.contains_key(*k))
            .map(label)
            .collect::<Vec<String>>()
    };
    let mut only_baseline = names(&base.1, &cand.1);
    only_baseline.extend(other_subsets);
    Ok(Comparison {
        only_baseline,
        only_candidate: names(&cand.1, &base.1),
        baseline_model: base.0,
        candidate_model: cand.0,
        deltas,
        allow_missing,
    })
}

/// A task as the report names it: `Task`, or `Task [setting]` for a grid cell.
fn label((setting, task): &Key) -> String {
    match setting {
        Some(s) => format!("{task} [{s}]"),
        None => task.clone(),
    }
}

/// The side's one model and its scores by (setting, task).
fn by_task<'a>(
    scores: &'a [TaskScore],
    side: &str,
) -> Result<(String, BTreeMap<Key, &'a TaskScore>)> {
    let mut models: Vec<&str> = scores.iter().map(|s| s.model.as_str()).collect();
    models.sort();
    models.dedup();
    if models.len() != 1 {
        return Err(Error::Unsupported {
            task: "compare".into(),
            what: format!(
                "the {side} holds results of {} models ({}); compare takes one model per side",
                models.len(),
                models.join(", ")
            ),
        });
    }
    let map = scores
        .iter()
        .map(|s| ((s.setting.clone(), s.task.clone()), s))
        .collect();
    Ok((models[0].to_string(), map))
}

impl Comparison {
    pub fn failures(&self) -> Vec<&Delta> {
        self.deltas.iter().filter(|d| d.beyond()).collect()
    }

    /// Baseline tasks the candidate lacks that fail the gate.
    pub fn missing(&self) -> &[String] {
        if self.allow_missing {
            &[]
        } else {
            &self.only_baseline
        }
    }

    /// The gate's verdict: every compared value within tolerance, nothing missing.
    pub fn passes(&self) -> bool {
        self.failures().is_empty() && self.missing().is_empty()
    }

    /// The line a CI log reader sees first.
    pub fn summary_line(&self) -> String {
        let tasks = self
            .deltas
            .iter()
            .filter(|d| d.metric == "main_score")
            .count();
        let failures = self.failures();
        let worst = self
            .deltas
            .iter()
            .max_by(|a, b| a.delta.abs().total_cmp(&b.delta.abs()))
            .expect("at least one delta");
        let worst_text = format!(
            "{}{} {} Δ {:+.2} (tolerance {:.2})",
            worst.task,
            worst
                .setting
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default(),
            worst.metric,
            worst.delta,
            worst.tolerance
        );
        let missing = self.missing();
        if self.passes() {
            format!("compare: PASS, {tasks} tasks within tolerance; largest change: {worst_text}")
        } else if failures.is_empty() {
            format!(
                "compare: FAIL, {} baseline task(s) missing from the candidate ({}); {tasks} compared tasks within tolerance (--allow-missing accepts missing tasks)",
                missing.len(),
                missing.join(", ")
            )
        } else {
            format!(
                "compare: FAIL, {} of {} compared values beyond tolerance over {tasks} tasks{}; worst: {worst_text}",
                failures.len(),
                self.deltas.len(),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(", and {} baseline task(s) missing", missing.len())
                }
            )
        }
    }

    /// The summary line, then one line per compared value, then what was not compared.
    pub fn to_text(&self) -> String {
        let mut out = self.summary_line() + "\n";
        out += &format!(
            "baseline: {}   candidate: {}\n",
            self.baseline_model, self.candidate_model
        );
        out += &format!(
            "{:<44} {:<18} {:<24} {:>9} {:>9} {:>7} {:>6}  status\n",
            "task", "type", "metric", "baseline", "candidate", "Δ", "tol"
        );
        for d in &self.deltas {
            let task = match &d.setting {
                Some(s) => format!("{} [{s}]", d.task),
                None => d.task.clone(),
            };
            let status = match (d.beyond(), d.delta < 0.0) {
                (false, _) => "ok",
                (true, true) => "REGRESSION",
                (true, false) => "BEYOND TOLERANCE (higher)",
            };
            out += &format!(
                "{task:<44} {:<18} {:<24} {:>9.2} {:>9.2} {:>+7.2} {:>6.2}  {status}\n",
                d.task_type,
                d.metric,
                100.0 * d.baseline,
                100.0 * d.candidate,
                d.delta,
                d.tolerance
            );
        }
        if !self.only_baseline.is_empty() {
            let verdict = if self.allow_missing {
                "allowed"
            } else {
                "MISSING"
            };
            out += &format!(
                "not in the candidate ({verdict}): {}\n",
                self.only_baseline.join(", ")
            );
        }
        if !self.only_candidate.is_empty() {
            out += &format!("not in the baseline: {}\n", self.only_candidate.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(model: &str, task: &str, main: f64) -> TaskScore {
        TaskScore {
            model: model.into(),
            revision: "r".into(),
            setting: None,
            task: task.into(),
            task_type: "STS".into(),
            score: main,
            metrics: BTreeMap::from([("main_score".into(), main), ("pearson".into(), main - 0.1)]),
            coverage: vec!["test/default".into()],
            source: "t".into(),
            encoding: None,
        }
    }

    fn tol() -> Tolerances {
        Tolerances {
            default: 0.1,
            per_type: BTreeMap::new(),
        }
    }

    #[test]
    fn a_change_beyond_tolerance_fails_and_is_named_first() {
        let base = vec![score("m", "A", 0.80), score("m", "B", 0.70)];
        let same = compare(&base, &base, &tol(), false, false).unwrap();
        assert!(same.failures().is_empty());
        assert!(same.summary_line().starts_with("compare: PASS, 2 tasks"));
        let cand = vec![score("m2", "A", 0.795), score("m2", "B", 0.7005)];
        let c = compare(&base, &cand, &tol(), false, false).unwrap();
        assert_eq!(c.failures().len(), 1);
        assert!(
            c.summary_line().starts_with("compare: FAIL, 1 of 2"),
            "{}",
            c.summary_line()
        );
        assert!(c.to_text().contains("REGRESSION"));
        let loose = Tolerances {
            default: 0.1,
            per_type: BTreeMap::from([("STS".into(), 1.0)]),
        };
        assert!(compare(&base, &cand, &loose, false, false)
            .unwrap()
            .failures()
            .is_empty());
        assert_eq!(
            compare(&base, &cand, &tol(), true, false)
                .unwrap()
                .deltas
                .len(),
            4
        );
    }

    #[test]
    fn sides_must_hold_one_model_and_share_a_task() {
        let mixed = vec![score("m", "A", 0.8), score("n", "B", 0.7)];
        let err = compare(&mixed, &mixed, &tol(), false, false)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("2 models (m, n)"), "{err}");
        let err = compare(
            &[score("m", "A", 0.8)],
            &[score("m", "B", 0.8)],
            &tol(),
            false,
            false,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("no task in common"), "{err}");
        assert_eq!(Tolerances::parse_per_type("Retrieval=0.5").unwrap().1, 0.5);
        assert!(Tolerances::parse_per_type("Retrieval").is_err());
    }

    #[test]
    fn a_task_missing_from_the_candidate_fails_unless_allowed() {
        let base = vec![score("m", "A", 0.80), score("m", "B", 0.70)];
        let cand = vec![score("m", "A", 0.80)];
        let c = compare(&base, &cand, &tol(), false, false).unwrap();
        assert!(!c.passes());
        assert!(
            c.summary_line()
                .starts_with("compare: FAIL, 1 baseline task(s) missing")
                && c.summary_line().contains("(B)"),
            "{}",
            c.summary_line()
        );
        assert!(c.to_text().contains("not in the candidate (MISSING): B"));
        let c = compare(&base, &cand, &tol(), false, true).unwrap();
        assert!(c.passes(), "{}", c.summary_line());
        // Extra tasks in the candidate never fail.
        assert!(compare(&cand, &base, &tol(), false, false)
            .unwrap()
            .passes());
    }

    #[test]
    fn a_task_scored_over_other_subsets_is_not_compared_and_fails_unless_allowed() {
        let base = vec![score("m", "A", 0.80), score("m", "B", 0.70)];
        let mut cand = base.clone();
        // B's mean over fewer subsets happens to equal the baseline's mean over more.
        cand[1].coverage = vec!["test/en-en".into()];
        let c = compare(&base, &cand, &tol(), false, false).unwrap();
        assert!(!c.passes(), "{}", c.summary_line());
        assert!(
            c.summary_line()
                .contains("B (baseline scores test/default; candidate test/en-en)"),
            "{}",
            c.summary_line()
        );
        assert_eq!(c.deltas.len(), 1, "only A is compared");
        assert!(compare(&base, &cand, &tol(), false, true).unwrap().passes());
        // The only common task on other subsets: still a failing comparison, not a pass.
        let c = compare(&base[1..], &cand[1..], &tol(), false, false).unwrap();
        assert!(!c.passes());
    }

    #[test]
    fn tolerances_must_be_finite_non_negative_points_of_a_known_type() {
        assert_eq!(Tolerances::parse_points("0.25"), Ok(0.25));
        assert_eq!(Tolerances::parse_points("0"), Ok(0.0));
        for bad in ["nan", "NaN", "-0.1", "inf", "x"] {
            assert!(Tolerances::parse_points(bad).is_err(), "{bad}");
        }
        let err = Tolerances::parse_per_type("Unknown=1").unwrap_err();
        assert!(
            err.contains("not a task type") && err.contains("Retrieval"),
            "{err}"
        );
        assert!(Tolerances::parse_per_type("STS=nan").is_err());
    }
}
