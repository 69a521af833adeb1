//! The metrics of one (split, subset) evaluation, under the names MTEB writes.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub values: BTreeMap<String, Value>,
}

impl Scores {
    pub fn set(&mut self, name: &str, value: f64) {
        self.values.insert(name.to_string(), json_number(value));
    }

    pub fn set_value(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).and_then(Value::as_f64)
    }

    /// Marks `name` as the main score by copying it to `main_score`.
    pub fn main(&mut self, name: &str) {
        if let Some(v) = self.values.get(name).cloned() {
            self.values.insert("main_score".into(), v);
        }
    }

    pub fn main_score(&self) -> Option<f64> {
        self.get("main_score")
    }
}

/// The scores of one (split, subset) evaluation of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsetScores {
    pub split: String,
    pub subset: String,
    pub scores: Scores,
}

/// NaN (e.g. a correlation with a constant input) has no JSON number; MTEB writes null.
fn json_number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}
