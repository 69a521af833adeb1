//! A task as a run config or a benchmark names it: a task name (or, in a run config, a task
//! type), or a task with the subsets to evaluate, as MTEB's benchmarks select `hf_subsets`:
//!
//! ```yaml
//! tasks:
//!   - STSBenchmark
//!   - {name: STS17, subsets: [en-en]}
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum TaskRef {
    Name(String),
    Selection(Selection),
}

/// Some subsets of one task.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub name: String,
    pub subsets: Vec<String>,
}

impl TaskRef {
    /// The task name (or type) named.
    pub fn name(&self) -> &str {
        match self {
            TaskRef::Name(n) => n,
            TaskRef::Selection(s) => &s.name,
        }
    }

    /// The subsets selected; `None` means all of the task's.
    pub fn subsets(&self) -> Option<&[String]> {
        match self {
            TaskRef::Name(_) => None,
            TaskRef::Selection(s) => Some(&s.subsets),
        }
    }
}

impl From<&str> for TaskRef {
    fn from(name: &str) -> Self {
        TaskRef::Name(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_or_a_name_with_subsets() {
        let refs: Vec<TaskRef> =
            serde_saphyr::from_str("- STS\n- {name: STS17, subsets: [en-en, es-es]}\n").unwrap();
        assert_eq!((refs[0].name(), refs[0].subsets()), ("STS", None));
        assert_eq!(refs[1].name(), "STS17");
        assert_eq!(refs[1].subsets().unwrap(), ["en-en", "es-es"]);
        let bad = serde_saphyr::from_str::<Vec<TaskRef>>("- {name: STS17, subset: [en-en]}\n");
        assert!(bad.is_err());
    }
}
