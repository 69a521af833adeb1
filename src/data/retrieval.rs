//! A retrieval split in BEIR form: a corpus, queries and relevance judgements (qrels), checked
//! and joined as MTEB joins them. Queries without judgements are not evaluated; judgements
//! naming a query or document missing from the files are counted and reported once. MTEB 2's
//! reranking form adds each query's candidate list (`top_ranked`).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::records::{Record, SplitRecords};
use crate::error::Result;

/// query id → (document id → relevance grade).
pub type Qrels = HashMap<String, HashMap<String, i64>>;

/// query id → the candidates it ranks, as listed (each a row of the corpus).
pub type TopRanked = HashMap<String, Vec<usize>>;

#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalSplit {
    pub doc_ids: Vec<String>,
    /// `title + " " + text`, as MTEB feeds documents to the model.
    pub doc_texts: Vec<String>,
    /// The queries that have judgements, in file order.
    pub query_ids: Vec<String>,
    pub query_texts: Vec<String>,
    pub qrels: Qrels,
    pub unmatched: Unmatched,
    /// Each query's candidates, in MTEB 2's reranking form; `None`: the whole corpus.
    pub top_ranked: Option<TopRanked>,
}

/// Judgements that point outside the files. MTEB keeps both kinds in its qrels: a missing
/// query is simply never evaluated, and a missing document counts as relevant but can never
/// be retrieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unmatched {
    pub judgements_of_missing_queries: usize,
    pub missing_queries: usize,
    pub judgements_of_missing_docs: usize,
}

impl Unmatched {
    pub fn is_empty(&self) -> bool {
        self.judgements_of_missing_queries == 0 && self.judgements_of_missing_docs == 0
    }
}

pub fn retrieval_split(
    corpus: &SplitRecords,
    queries: &SplitRecords,
    qrels: &SplitRecords,
) -> Result<RetrievalSplit> {
    corpus.require_rows()?;
    queries.require_rows()?;
    qrels.require_rows()?;
    let (doc_ids, doc_texts) = documents(corpus)?;
    let (all_query_ids, all_query_texts) = query_texts(queries)?;
    let judgements = judgements(qrels)?;

    let known_docs: HashSet<&str> = doc_ids.iter().map(String::as_str).collect();
    let known_queries: HashSet<&str> = all_query_ids.iter().map(String::as_str).collect();
    let mut unmatched = Unmatched::default();
    for (query, docs) in &judgements {
        if !known_queries.contains(query.as_str()) {
            unmatched.missing_queries += 1;
            unmatched.judgements_of_missing_queries += docs.len();
        }
        unmatched.judgements_of_missing_docs += docs
            .keys()
            .filter(|d| !known_docs.contains(d.as_str()))
            .count();
    }
    let (query_ids, query_texts): (Vec<String>, Vec<String>) = all_query_ids
        .into_iter()
        .zip(all_query_texts)
        .filter(|(id, _)| judgements.get(id).is_some_and(|d| !d.is_empty()))
        .unzip();
    Ok(RetrievalSplit {
        doc_ids,
        doc_texts,
        query_ids,
        query_texts,
        qrels: judgements,
        unmatched,
        top_ranked: None,
    })
}

/// The candidate lists of a `top_ranked` config: `query-id` and `corpus-ids`, every id a
/// document of the split's corpus (mteb fails on any other). A later row for the same query
/// replaces an earlier one, as mteb's dict of the rows does.
pub fn top_ranked(records: &SplitRecords, split: &RetrievalSplit) -> Result<TopRanked> {
    records.require_rows()?;
    let row_of: HashMap<&str, usize> = split
        .doc_ids
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_str(), i))
        .collect();
    let mut out = TopRanked::new();
    for r in &records.records {
        let query = match r.fields.get("query-id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(records.error_at(r, "expected a `query-id`")),
        };
        let Some(Value::Array(ids)) = r.fields.get("corpus-ids") else {
            return Err(records.error_at(r, "expected `corpus-ids`, a list of document ids"));
        };
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            let id = match id {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(
                        records.error_at(r, format!("expected a document id, found {other}"))
                    )
                }
            };
            let row = row_of.get(id.as_str()).ok_or_else(|| {
                records.error_at(
                    r,
                    format!("candidate `{id}` of query `{query}` is not in the corpus"),
                )
            })?;
            rows.push(*row);
        }
        out.insert(query, rows);
    }
    Ok(out)
}

/// Ids are strings in BEIR files but numbers in some Parquet conversions; MTEB casts them.
fn id_of(records: &SplitRecords, r: &Record) -> Result<String> {
    let value = r.fields.get("_id").or_else(|| r.fields.get("id"));
    match value {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(records.error_at(r, "expected an `_id` (or `id`) string")),
    }
}

fn text_field<'r>(records: &SplitRecords, r: &'r Record, key: &str) -> Result<&'r str> {
    match r.fields.get(key) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(records.error_at(r, format!("expected a `{key}` string"))),
    }
}

fn documents(corpus: &SplitRecords) -> Result<(Vec<String>, Vec<String>)> {
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(corpus.len());
    let mut texts = Vec::with_capacity(corpus.len());
    for r in &corpus.records {
        let id = id_of(corpus, r)?;
        if !seen.insert(id.clone()) {
            return Err(corpus.error_at(r, format!("duplicate document id `{id}`")));
        }
        let title = match r.fields.get("title") {
            Some(Value::String(t)) => t.as_str(),
            None | Some(Value::Null) => "",
            Some(_) => return Err(corpus.error_at(r, "expected `title` to be a string")),
        };
        texts.push(format!("{title} {}", text_field(corpus, r, "text")?));
        ids.push(id);
    }
    Ok((ids, texts))
}

fn query_texts(queries: &SplitRecords) -> Result<(Vec<String>, Vec<String>)> {
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(queries.len());
    let mut texts = Vec::with_capacity(queries.len());
    for r in &queries.records {
        let id = id_of(queries, r)?;
        if !seen.insert(id.clone()) {
            return Err(queries.error_at(r, format!("duplicate query id `{id}`")));
        }
        texts.push(text_field(queries, r, "text")?.to_string());
        ids.push(id);
    }
    Ok((ids, texts))
}

/// Grades are cast to integers as MTEB does (`Value("int32")`); a later line for the same
/// (query, document) replaces an earlier one.
fn judgements(qrels: &SplitRecords) -> Result<Qrels> {
    let mut out: Qrels = HashMap::new();
    for r in &qrels.records {
        let id = |key: &str| match r.fields.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(qrels.error_at(r, format!("expected a `{key}`"))),
        };
        let grade = match r.fields.get("score") {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| qrels.error_at(r, "expected an integer `score`"))?;
        out.entry(id("query-id")?)
            .or_default()
            .insert(id("corpus-id")?, grade);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::records::Place;
    use serde_json::json;
    use std::path::PathBuf;

    fn split(name: &str, rows: Vec<Value>) -> SplitRecords {
        SplitRecords {
            files: vec![PathBuf::from(name)],
            records: rows
                .into_iter()
                .enumerate()
                .map(|(i, fields)| Record {
                    fields,
                    file: 0,
                    place: Place::Line(i + 1),
                })
                .collect(),
        }
    }

    fn corpus() -> SplitRecords {
        split(
            "corpus.jsonl",
            vec![
                json!({"_id": "d1", "title": "T", "text": "one"}),
                json!({"_id": 2, "title": "", "text": "two"}),
            ],
        )
    }

    #[test]
    fn joins_and_counts_judgements_outside_the_files() {
        let queries = split(
            "queries.jsonl",
            vec![
                json!({"_id": "q1", "text": "a"}),
                json!({"_id": "q2", "text": "b"}),
            ],
        );
        let qrels = split(
            "test.tsv",
            vec![
                json!({"query-id": "q1", "corpus-id": "d1", "score": "1"}),
                json!({"query-id": "q1", "corpus-id": "d9", "score": "2"}),
                json!({"query-id": "q7", "corpus-id": "2", "score": 1}),
            ],
        );
        let s = retrieval_split(&corpus(), &queries, &qrels).unwrap();
        assert_eq!(s.doc_texts, ["T one", " two"]);
        assert_eq!(s.doc_ids[1], "2");
        assert_eq!(s.query_ids, ["q1"], "q2 has no judgements");
        assert_eq!(s.qrels["q1"]["d9"], 2);
        assert_eq!(
            s.unmatched,
            Unmatched {
                judgements_of_missing_queries: 1,
                missing_queries: 1,
                judgements_of_missing_docs: 1
            }
        );
    }

    #[test]
    fn candidate_lists_point_into_the_corpus() {
        let queries = split("queries.jsonl", vec![json!({"_id": "q1", "text": "a"})]);
        let qrels = split(
            "qrels.parquet",
            vec![json!({"query-id": "q1", "corpus-id": "d1", "score": 1})],
        );
        let s = retrieval_split(&corpus(), &queries, &qrels).unwrap();
        let lists = split(
            "top_ranked.parquet",
            vec![
                json!({"query-id": "q1", "corpus-ids": ["d1"]}),
                json!({"query-id": "q1", "corpus-ids": ["2", "d1"]}),
                json!({"query-id": 7, "corpus-ids": []}),
            ],
        );
        let ranked = top_ranked(&lists, &s).unwrap();
        assert_eq!(ranked["q1"], [1, 0], "the later row replaces the earlier");
        assert!(ranked["7"].is_empty());
        let bad = split(
            "top_ranked.parquet",
            vec![json!({"query-id": "q1", "corpus-ids": ["d1", "d9"]})],
        );
        let err = top_ranked(&bad, &s).unwrap_err().to_string();
        assert!(
            err.contains(
                "top_ranked.parquet: line 1: candidate `d9` of query `q1` is not in the corpus"
            ),
            "{err}"
        );
        let bad = split("top_ranked.parquet", vec![json!({"query-id": "q1"})]);
        let err = top_ranked(&bad, &s).unwrap_err().to_string();
        assert!(err.contains("expected `corpus-ids`"), "{err}");
    }

    #[test]
    fn duplicate_ids_and_bad_grades_are_named() {
        let mut dup = corpus();
        dup.records.push(Record {
            fields: json!({"_id": "d1", "text": "again"}),
            file: 0,
            place: Place::Line(3),
        });
        let queries = split("queries.jsonl", vec![json!({"_id": "q1", "text": "a"})]);
        let qrels = split(
            "test.tsv",
            vec![json!({"query-id": "q1", "corpus-id": "d1", "score": "x"})],
        );
        let err = retrieval_split(&dup, &queries, &qrels)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("corpus.jsonl: line 3: duplicate document id `d1`"),
            "{err}"
        );
        let err = retrieval_split(&corpus(), &queries, &qrels)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.tsv: line 1: expected an integer `score`"),
            "{err}"
        );
    }
}
