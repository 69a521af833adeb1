//! A task as a run config or a benchmark names it: a task name (or, in a run config, a task
//! type), or a task with the subsets and splits to evaluate, as MTEB's benchmarks select
//! `hf_subsets` and `eval_splits`:
//!
//! A name may be a task file's key: `AskUbuntuDupQuestions@mteb2` names that edition.
//!
//! ```yaml
//! tasks:
//!   - STSBenchmark
//!   - AskUbuntuDupQuestions@mteb2
//!   - {name: STS17, subsets: [en-en]}
//!   - {name: MassiveIntentClassification, subsets: [en], eval_splits: [test]}
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum TaskRef {
    Name(String),
    Selection(Selection),
}

/// Some subsets and/or splits of one task.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub name: String,
    #[serde(default)]
    pub subsets: Option<Vec<String>>,
    #[serde(default)]
    pub eval_splits: Option<Vec<String>>,
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
            TaskRef::Selection(s) => s.subsets.as_deref(),
        }
    }

    /// The evaluation splits selected; `None` means all of the task's.
    pub fn eval_splits(&self) -> Option<&[String]> {
        match self {
            TaskRef::Name(_) => None,
            TaskRef::Selection(s) => s.eval_splits.as_deref(),
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
        let refs: Vec<TaskRef> = serde_saphyr::from_str(
            "- STS\n- {name: STS17, subsets: [en-en, es-es]}\n- {name: M, eval_splits: [test]}\n",
        )
        .unwrap();
        assert_eq!((refs[0].name(), refs[0].subsets()), ("STS", None));
        assert_eq!(refs[1].name(), "STS17");
        assert_eq!(refs[1].subsets().unwrap(), ["en-en", "es-es"]);
        assert_eq!(refs[1].eval_splits(), None);
        assert_eq!(
            (refs[2].subsets(), refs[2].eval_splits().unwrap()),
            (None, &["test".to_string()][..])
        );
        let bad = serde_saphyr::from_str::<Vec<TaskRef>>("- {name: STS17, subset: [en-en]}\n");
        assert!(bad.is_err());
    }
}
