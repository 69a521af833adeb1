//! Which part of a split run this process does: `--shard I/N` (0-based), or the environment
//! of the engine that started it, so no wrapper script is needed:
//! - Slurm job arrays: `SLURM_ARRAY_TASK_ID` is the index (arrays are 0-based:
//!   `--array=0-$((N-1))`); the count is `--shards` / `LEAFBENCH_SHARDS`, else
//!   `SLURM_ARRAY_TASK_COUNT`, else `SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1`. A rerun
//!   of one failed task (`--array=K`) sees a one-task array, so scripts pass the count.
//! - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` is the index; the count must be given
//!   (`--shards N` or `LEAFBENCH_SHARDS`, the Job's `completions`).
//!
//! `LEAFBENCH_SHARDS` without an index is ignored: the final, evaluating step of a split run
//! often runs in the same environment as its shards.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `I/N` with 0 ≤ I < N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a shard; expected I/N, e.g. 0/4"))?;
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{text}`: the {what} `{s}` is not a whole number"))
        };
        Shard::new(number(i, "index")?, number(n, "count")?)
    }

    fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count is 0; expected at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the shard count {count} (indices are 0-based)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard named by `flag` (`--shard`), else by the environment (`env` looks a variable
    /// up); `count` is `--shards`. `None`: not a shard, the whole run.
    pub fn resolve(
        flag: Option<&str>,
        count: Option<usize>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        if let Some(text) = flag {
            let shard = Shard::parse(text)?;
            if count.is_some_and(|n| n != shard.count) {
                return Err(format!(
                    "--shard {text} and --shards {} disagree",
                    count.unwrap()
                ));
            }
            return Ok(Some(shard));
        }
        let number = |name: &str| -> Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}=`{v}` is not a whole number")),
            }
        };
        let flag_count = count;
        let count = match count {
            Some(n) => Some(n),
            None => number("LEAFBENCH_SHARDS")?,
        };
        if let Some(index) = number("SLURM_ARRAY_TASK_ID")? {
            let from_array = match (
                number("SLURM_ARRAY_TASK_COUNT")?,
                number("SLURM_ARRAY_TASK_MIN")?,
                number("SLURM_ARRAY_TASK_MAX")?,
            ) {
                (Some(n), _, _) => Some(n),
                (None, Some(lo), Some(hi)) if hi >= lo => Some(hi - lo + 1),
                _ => None,
            };
            let count = count.or(from_array).ok_or(
                "SLURM_ARRAY_TASK_ID is set but no shard count is: pass --shards N or set \
                 LEAFBENCH_SHARDS",
            )?;
            return Shard::new(index, count).map(Some).map_err(|e| {
                format!(
                    "Slurm array task: {e}; arrays are 0-based (--array=0-{}), and a rerun \
                         of one task needs LEAFBENCH_SHARDS",
                    count - 1
                )
            });
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = count.ok_or(
                "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the shard count is \
                 not: pass --shards N or set LEAFBENCH_SHARDS to the Job's completions",
            )?;
            return Shard::new(index, count).map(Some);
        }
        // LEAFBENCH_SHARDS alone is the environment of a split run's final step: not a shard.
        match flag_count {
            Some(n) => Err(format!(
                "a shard count ({n}) is given but no shard index: pass --shard I/{n}, or run \
                 as a Slurm array task or a Kubernetes Indexed Job"
            )),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_flag_is_i_of_n_zero_based() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("not below"));
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("a/4").is_err());
        assert!(Shard::parse("3").is_err());
        let flagged = Shard::resolve(Some("1/2"), None, env(&[("SLURM_ARRAY_TASK_ID", "0")]));
        assert_eq!(flagged, Ok(Some(Shard { index: 1, count: 2 })));
        assert!(Shard::resolve(Some("1/2"), Some(3), env(&[])).is_err());
    }

    #[test]
    fn slurm_arrays_give_index_and_count() {
        let full = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ];
        assert_eq!(
            Shard::resolve(None, None, env(&full)),
            Ok(Some(Shard { index: 3, count: 4 }))
        );
        let no_count = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
        ];
        assert_eq!(
            Shard::resolve(None, None, env(&no_count))
                .unwrap()
                .unwrap()
                .count,
            8
        );
        // A rerun of task 2 alone is a one-task array: the count comes from LEAFBENCH_SHARDS.
        let rerun = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("LEAFBENCH_SHARDS", "4"),
        ];
        assert_eq!(
            Shard::resolve(None, None, env(&rerun)),
            Ok(Some(Shard { index: 2, count: 4 }))
        );
        let rerun_without = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ];
        assert!(Shard::resolve(None, None, env(&rerun_without))
            .unwrap_err()
            .contains("LEAFBENCH_SHARDS"));
    }

    #[test]
    fn indexed_jobs_need_the_count_given() {
        let index = [("JOB_COMPLETION_INDEX", "1")];
        assert!(Shard::resolve(None, None, env(&index))
            .unwrap_err()
            .contains("LEAFBENCH_SHARDS"));
        assert_eq!(
            Shard::resolve(None, Some(3), env(&index)),
            Ok(Some(Shard { index: 1, count: 3 }))
        );
        assert_eq!(Shard::resolve(None, None, env(&[])), Ok(None));
        assert!(Shard::resolve(None, Some(3), env(&[])).is_err());
        let final_step = [("LEAFBENCH_SHARDS", "3")];
        assert_eq!(Shard::resolve(None, None, env(&final_step)), Ok(None));
    }
}
