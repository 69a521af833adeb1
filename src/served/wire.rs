//! The bodies sent and received, per API, and what every answer must satisfy: one vector
//! per text, in the texts' order (OpenAI answers carry an `index`), all of one length, every
//! value a finite number.

use serde_json::{json, Value};

use super::endpoint::Api;

/// The JSON body asking for the embeddings of `texts`.
pub fn request(api: Api, model: Option<&str>, texts: &[String]) -> Value {
    match api {
        Api::OpenAi => {
            let mut body = json!({"input": texts, "encoding_format": "float"});
            if let Some(m) = model {
                body["model"] = json!(m);
            }
            body
        }
        Api::Tei => json!({"inputs": texts, "truncate": false}),
    }
}

/// The vectors of an answer to a request of `expected` texts, in the texts' order; the
/// error says what is wrong with the answer.
pub fn vectors(api: Api, body: &str, expected: usize) -> Result<Vec<Vec<f32>>, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not valid JSON ({e})"))?;
    let rows = match api {
        Api::OpenAi => openai_rows(&value, expected)?,
        Api::Tei => match value.as_array() {
            Some(rows) => rows.iter().collect(),
            None => return Err("expected a JSON array of vectors".into()),
        },
    };
    if rows.len() != expected {
        return Err(format!("{} vectors for {expected} texts", rows.len()));
    }
    let mut out: Vec<Vec<f32>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let vector = numbers(row).map_err(|e| format!("vector {i}: {e}"))?;
        if let Some(first) = out.first() {
            if vector.len() != first.len() {
                return Err(format!(
                    "vector {i} has {} dimensions, vector 0 has {}",
                    vector.len(),
                    first.len()
                ));
            }
        }
        out.push(vector);
    }
    Ok(out)
}

/// The `embedding` of each `data` item, placed by its `index`.
fn openai_rows(value: &Value, expected: usize) -> Result<Vec<&Value>, String> {
    let Some(data) = value.get("data").and_then(Value::as_array) else {
        return Err("expected `data`, a list of embeddings".into());
    };
    if data.len() != expected {
        return Err(format!("{} vectors for {expected} texts", data.len()));
    }
    let mut placed: Vec<Option<&Value>> = vec![None; data.len()];
    for (i, item) in data.iter().enumerate() {
        let index = match item.get("index") {
            None => i,
            Some(v) => v
                .as_u64()
                .map(|x| x as usize)
                .filter(|&x| x < data.len())
                .ok_or_else(|| format!("item {i}: `index` {v} is not a text of the request"))?,
        };
        let embedding = item
            .get("embedding")
            .ok_or_else(|| format!("item {i}: no `embedding`"))?;
        if placed[index].replace(embedding).is_some() {
            return Err(format!("two items answer text {index}"));
        }
    }
    Ok(placed
        .into_iter()
        .map(|p| p.expect("each index once"))
        .collect())
}

fn numbers(row: &Value) -> Result<Vec<f32>, String> {
    let Some(items) = row.as_array() else {
        return Err("expected a list of numbers (base64 answers are not read)".into());
    };
    if items.is_empty() {
        return Err("it is empty".into());
    }
    items
        .iter()
        .enumerate()
        .map(|(j, x)| {
            x.as_f64()
                .map(|v| v as f32)
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("value {j} is {x}, not a finite number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_answers_are_put_in_index_order() {
        let body =
            r#"{"data": [{"index": 1, "embedding": [3, 4]}, {"index": 0, "embedding": [1, 2]}]}"#;
        assert_eq!(
            vectors(Api::OpenAi, body, 2).unwrap(),
            [[1.0, 2.0], [3.0, 4.0]]
        );
        let texts = ["a".to_string()];
        assert_eq!(request(Api::OpenAi, Some("m"), &texts)["model"], "m");
        assert_eq!(request(Api::Tei, None, &texts)["inputs"][0], "a");
    }

    #[test]
    fn every_broken_answer_is_named() {
        let cases = [
            (
                Api::OpenAi,
                r#"{"data": [{"index": 0, "embedding": [1]}]}"#,
                "1 vectors for 2 texts",
            ),
            (
                Api::OpenAi,
                r#"{"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]}"#,
                "two items answer text 0",
            ),
            (
                Api::OpenAi,
                r#"{"data": [{"index": 0, "embedding": [1]}, {"index": 5, "embedding": [2]}]}"#,
                "`index` 5",
            ),
            (
                Api::Tei,
                "[[1, 2], [1]]",
                "vector 1 has 1 dimensions, vector 0 has 2",
            ),
            (
                Api::Tei,
                "[[1, null], [1, 2]]",
                "vector 0: value 1 is null, not a finite number",
            ),
            (
                Api::Tei,
                "[[1, 1e39], [1, 2]]",
                "value 1 is 1e+39, not a finite number",
            ),
            (Api::Tei, "[[1, NaN], [1, 2]]", "not valid JSON"),
            (Api::Tei, r#"{"error": "x"}"#, "expected a JSON array"),
            (Api::Tei, "[[], []]", "vector 0: it is empty"),
        ];
        for (api, body, want) in cases {
            let err = vectors(api, body, 2).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
    }
}
