//! The plan of a run: every encode call its models make on its tasks, cut into the chunks the
//! embedding store keeps ([`crate::chunks`]), and which shard encodes which chunk. The plan
//! follows from the configuration, the task files, the data and the models alone, so every
//! shard of a run computes the same plan and takes its own part without talking to the
//! others. Shards are balanced on padded tokens, the encoder's compute: chunks go, largest
//! first, to the shard with the least work so far.

use std::collections::{HashMap, HashSet};

use crate::chunks::{chunks, Chunk};
use crate::config::{ModelEntry, RunConfig};
use crate::data::check::{DataCheck, DataStats};
use crate::data::{local, DataSource};
use crate::encoder::{Batched, EncodeOptions, Role};
use crate::error::{Error, Result};
use crate::hub::ResolveOptions;
use crate::model_encoders::ModelEncoders;
use crate::shard::Shard;
use crate::task::{clustering, Registry, TaskSpec};
use crate::task_inputs::{units, SplitInputs};
use crate::text_stats::TextStats;

/// One encode call met on the walk through a run, with its chunks.
pub struct Call<'a> {
    /// Index of the model entry in the configuration.
    pub model: usize,
    pub encoders: &'a ModelEncoders,
    pub task: &'a str,
    pub texts: &'a [String],
    pub batched: &'a Batched,
    pub chunks: &'a [Chunk],
}

/// A chunk of the plan: its store key and size, and the first task that needs it.
#[derive(Clone, Debug)]
pub struct PlannedChunk {
    pub key: String,
    pub model: usize,
    pub task: String,
    pub texts: usize,
    pub tokens: usize,
    /// Sized from the task's text statistics, its data not being here.
    pub estimated: bool,
}

/// Every distinct chunk of a run, and the tasks whose data is not here.
pub struct Plan {
    pub chunks: Vec<PlannedChunk>,
    /// (model, task, why) of each task that could not be planned from data.
    pub no_data: Vec<(String, String, String)>,
}

/// What planning needs besides the configuration.
pub struct PlanInputs<'a> {
    pub registry: &'a Registry,
    pub offline: bool,
    pub encode: &'a EncodeOptions,
    /// Text statistics that size the tasks whose data is not here (`leafbench plan` only:
    /// a shard can only encode texts it has).
    pub estimates: Option<&'a TextStats>,
}

impl Plan {
    pub fn build(config: &RunConfig, inputs: &PlanInputs) -> Result<Plan> {
        let mut chunks: Vec<PlannedChunk> = Vec::new();
        let mut seen = HashSet::new();
        let no_data = walk(config, inputs, &mut |call| {
            for c in call.chunks {
                if seen.insert(c.key.clone()) {
                    chunks.push(PlannedChunk {
                        key: c.key.clone(),
                        model: call.model,
                        task: call.task.to_string(),
                        texts: c.texts,
                        tokens: c.padded_tokens,
                        estimated: false,
                    });
                }
            }
            Ok(())
        })?;
        let mut plan = Plan { chunks, no_data };
        if let Some(stats) = inputs.estimates {
            plan.estimate_missing(config, inputs, stats)?;
        }
        Ok(plan)
    }

    /// Adds estimated chunks for the tasks without data that the statistics describe.
    fn estimate_missing(
        &mut self,
        config: &RunConfig,
        inputs: &PlanInputs,
        stats: &TextStats,
    ) -> Result<()> {
        let mut still_missing = Vec::new();
        let mut loaded: HashMap<usize, ModelEncoders> = HashMap::new();
        for (model_name, task, why) in std::mem::take(&mut self.no_data) {
            let model = config
                .models
                .iter()
                .position(|m| m.name == model_name)
                .expect("a model of the configuration");
            let Some(calls) = stats.calls(&task) else {
                still_missing.push((model_name, task, why));
                continue;
            };
            if !loaded.contains_key(&model) {
                let encoders = ModelEncoders::load(&config.models[model], inputs.offline)?;
                loaded.insert(model, encoders);
            }
            let encoders = &loaded[&model];
            for call in calls {
                let max_length = encoders.max_seq_length(call.role)?;
                for (n, (texts, tokens)) in call.chunks(max_length, inputs.encode).enumerate() {
                    self.chunks.push(PlannedChunk {
                        key: format!("estimate:{model}:{task}:{}:{:?}:{n}", call.split, call.role),
                        model,
                        task: task.clone(),
                        texts,
                        tokens,
                        estimated: true,
                    });
                }
            }
        }
        self.no_data = still_missing;
        Ok(())
    }

    /// The shard of each chunk (indices into `chunks`): largest first, each to the shard with
    /// the fewest tokens so far (the lowest index on a tie), so every process agrees.
    pub fn assign(&self, shards: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.chunks.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&self.chunks[a], &self.chunks[b]);
            b.tokens.cmp(&a.tokens).then_with(|| a.key.cmp(&b.key))
        });
        let mut load = vec![0usize; shards.max(1)];
        let mut owner = vec![0; self.chunks.len()];
        for i in order {
            let least = (0..load.len())
                .min_by_key(|&s| (load[s], s))
                .expect("at least one shard");
            load[least] += self.chunks[i].tokens;
            owner[i] = least;
        }
        owner
    }

    /// The store keys of the chunks `shard` encodes.
    pub fn keys_of(&self, shard: Shard) -> HashSet<String> {
        self.assign(shard.count)
            .into_iter()
            .zip(&self.chunks)
            .filter(|(owner, _)| *owner == shard.index)
            .map(|(_, c)| c.key.clone())
            .collect()
    }

    /// (chunks, texts, tokens) per shard.
    pub fn shard_totals(&self, shards: usize) -> Vec<(usize, usize, usize)> {
        let mut totals = vec![(0, 0, 0); shards.max(1)];
        for (owner, c) in self.assign(shards).into_iter().zip(&self.chunks) {
            let t = &mut totals[owner];
            *t = (t.0 + 1, t.1 + c.texts, t.2 + c.tokens);
        }
        totals
    }
}

/// Walks every encode call of the run, model by model and task by task, in run order, and
/// hands each to `visit`. Returns (model, task, why) of the tasks whose data is not here.
pub fn walk(
    config: &RunConfig,
    inputs: &PlanInputs,
    visit: &mut dyn FnMut(Call) -> Result<()>,
) -> Result<Vec<(String, String, String)>> {
    let tasks = inputs.registry.resolve(&config.tasks)?;
    let data = data_source(config, inputs.registry, inputs.offline)?;
    let mut no_data = Vec::new();
    for (m, entry) in config.models.iter().enumerate() {
        walk_model(
            config,
            inputs,
            (m, entry),
            &tasks,
            &data,
            visit,
            &mut no_data,
        )?;
    }
    Ok(no_data)
}

/// One model's encode calls, at each of the run's compute precisions: the data is read and
/// tokenized once (the tokenizer is the same at every precision), then keyed per encoding.
fn walk_model(
    config: &RunConfig,
    inputs: &PlanInputs,
    (m, entry): (usize, &ModelEntry),
    tasks: &[TaskSpec],
    data: &DataSource,
    visit: &mut dyn FnMut(Call) -> Result<()>,
    no_data: &mut Vec<(String, String, String)>,
) -> Result<()> {
    let encodings = config
        .precisions()
        .into_iter()
        .map(|p| ModelEncoders::load_at(entry, inputs.offline, p))
        .collect::<Result<Vec<_>>>()?;
    let mut call = |task: &str, texts: &[String], role: Role| -> Result<()> {
        let batched = encodings[0].batched(texts, role, inputs.encode)?;
        for encoders in &encodings {
            let parts = encoders.key_parts(role)?;
            let chunks = chunks(&batched, texts, &parts);
            visit(Call {
                model: m,
                encoders,
                task,
                texts,
                batched: &batched,
                chunks: &chunks,
            })?;
        }
        Ok(())
    };
    if let Some(path) = config.calibration_file() {
        call("calibration", &calibration_texts(path)?, Role::Plain)?;
    }
    for task in tasks {
        let mut stream = clustering::task_stream();
        for unit in units(task) {
            let split_inputs = match SplitInputs::load(&unit.task, &unit.split, data, &mut stream) {
                Ok(i) => i,
                Err(e) if e.is_data_unavailable() => {
                    no_data.push((entry.name.clone(), task.key(), e.to_string()));
                    break;
                }
                Err(e) => return Err(e),
            };
            for c in split_inputs.encode_calls() {
                call(&task.key(), c.texts, c.role)?;
            }
        }
    }
    Ok(())
}

/// Where a run reads its tasks' data, and the statistics (beside the task files) it checks
/// that data against.
pub fn data_source(config: &RunConfig, registry: &Registry, offline: bool) -> Result<DataSource> {
    let stats = DataStats::load_from(registry.dir())?;
    Ok(DataSource {
        origin: config.data_source,
        data_dir: config
            .data_dir
            .clone()
            .unwrap_or_else(local::default_data_dir),
        hub: ResolveOptions::from_env(offline),
        check: DataCheck::new(stats, config.no_data_check.clone()),
    })
}

/// The non-blank lines of a calibration file.
pub fn calibration_texts(path: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let texts: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if texts.len() < 2 {
        return Err(Error::invalid(
            path,
            "a calibration file needs at least two texts, one per line",
        ));
    }
    Ok(texts)
}

/// The plan as `leafbench plan` prints it: per shard, its chunks, texts, tokens and share,
/// and how far the largest share is from the ideal 1/N.
pub fn describe(plan: &Plan, shards: usize, config: &RunConfig) -> String {
    let mut out = String::new();
    let total_tokens: usize = plan.chunks.iter().map(|c| c.tokens).sum();
    let total_texts: usize = plan.chunks.iter().map(|c| c.texts).sum();
    out += &format!(
        "{} chunks, {total_texts} texts, {total_tokens} padded tokens, over {shards} shard(s)\n",
        plan.chunks.len()
    );
    let estimated: HashSet<&str> = plan
        .chunks
        .iter()
        .filter(|c| c.estimated)
        .map(|c| c.task.as_str())
        .collect();
    if !estimated.is_empty() {
        out += &format!(
            "{} task(s) sized from text statistics, their data not being here (estimated)\n",
            estimated.len()
        );
    }
    let mut by_model: HashMap<usize, usize> = HashMap::new();
    for c in &plan.chunks {
        *by_model.entry(c.model).or_default() += c.tokens;
    }
    for (m, entry) in config.models.iter().enumerate() {
        out += &format!(
            "  model {}: {} tokens\n",
            entry.name,
            by_model.get(&m).copied().unwrap_or(0)
        );
    }
    out += &format!(
        "{:>6} {:>8} {:>10} {:>14} {:>8}\n",
        "shard", "chunks", "texts", "tokens", "share"
    );
    let totals = plan.shard_totals(shards);
    let share = |t: usize| {
        if total_tokens == 0 {
            0.0
        } else {
            t as f64 / total_tokens as f64
        }
    };
    for (s, (c, n, t)) in totals.iter().enumerate() {
        out += &format!(
            "{s:>6} {c:>8} {n:>10} {t:>14} {:>7.3}%\n",
            100.0 * share(*t)
        );
    }
    let largest = totals.iter().map(|t| t.2).max().unwrap_or(0);
    let ideal = 1.0 / shards.max(1) as f64;
    out += &format!(
        "largest shard: {:.3}% of tokens; ideal {:.3}% ({:+.1}% of ideal)\n",
        100.0 * share(largest),
        100.0 * ideal,
        100.0 * (share(largest) / ideal - 1.0)
    );
    for (model, task, _) in &plan.no_data {
        out += &format!("not planned: {task} ({model}): its data is not here\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(tokens: &[usize]) -> Plan {
        Plan {
            chunks: tokens
                .iter()
                .enumerate()
                .map(|(i, &t)| PlannedChunk {
                    key: format!("k{i:03}"),
                    model: 0,
                    task: "T".into(),
                    texts: 1,
                    tokens: t,
                    estimated: false,
                })
                .collect(),
            no_data: Vec::new(),
        }
    }

    #[test]
    fn chunks_go_largest_first_to_the_least_loaded_shard() {
        let p = plan(&[5, 9, 3, 7, 7, 1]);
        // 9→0, 7→1, 7→2, 5→1 (tie at 7: lowest index; 12), 3→2 (10), 1→0 (10).
        assert_eq!(p.assign(3), vec![1, 0, 2, 1, 2, 0]);
        let totals: Vec<usize> = p.shard_totals(3).iter().map(|t| t.2).collect();
        assert_eq!(totals, vec![10, 12, 10]);
        assert_eq!(p.assign(3), p.assign(3), "every process agrees");
        let shard = Shard { index: 1, count: 3 };
        let keys: HashSet<String> = ["k000", "k003"].iter().map(|k| k.to_string()).collect();
        assert_eq!(p.keys_of(shard), keys);
    }

    #[test]
    fn more_shards_than_chunks_leaves_some_idle() {
        let p = plan(&[4, 4]);
        let totals = p.shard_totals(4);
        assert_eq!(totals.iter().filter(|t| t.0 == 0).count(), 2);
    }
}
