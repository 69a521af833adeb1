//! Tab-separated files with a header line: BEIR's `qrels/<split>.tsv`, and the TSV files a
//! loading script reads (AmazonCounterfactual's `data/EN_train.tsv`). Fields are split as
//! Python's `csv` module splits them with a tab delimiter: a field that starts with `"` is
//! quoted, `""` inside it is one `"`, and it may hold tabs and line breaks; a `"` anywhere else
//! is an ordinary character. Values are kept as text, untrimmed; the typed layer parses
//! numbers. Blank lines are skipped; a record with the wrong number of fields is named by the
//! line it starts on.

use std::path::Path;

use serde_json::{Map, Value};

use super::records::{Place, Record};
use crate::error::{Error, Result};

const QUOTE: char = '"';
const TAB: char = '\t';

/// The records of one file; `file` is the index the records will carry.
pub fn read_records(path: &Path, file: usize) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = |line: usize, what: String| Error::Record {
        path: path.to_path_buf(),
        at: Place::Line(line).to_string(),
        what,
    };
    let mut rows = split_rows(&text).map_err(|(line, what)| bad(line, what))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (_, header) = rows.remove(0);
    let columns: Vec<String> = header.iter().map(|c| c.trim().to_string()).collect();
    rows.into_iter()
        .map(|(line, values)| {
            if values.len() != columns.len() {
                return Err(bad(
                    line,
                    format!(
                        "{} tab-separated fields, but the header names {} ({})",
                        values.len(),
                        columns.len(),
                        columns.join(", ")
                    ),
                ));
            }
            let fields: Map<String, Value> = columns
                .iter()
                .cloned()
                .zip(values.into_iter().map(Value::String))
                .collect();
            Ok(Record {
                fields: Value::Object(fields),
                file,
                place: Place::Line(line),
            })
        })
        .collect()
}

/// Where the splitter is within a record.
#[derive(Clone, Copy, PartialEq)]
enum State {
    /// At the start of a field (or of a record).
    FieldStart,
    /// Inside an unquoted field.
    Plain,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: a second `"` is a literal one.
    QuoteInQuoted,
}

/// Every non-blank record of `text` with the 1-based line it starts on. The error is the line
/// a quoted field opened on, when the file ends inside it.
fn split_rows(text: &str) -> std::result::Result<Vec<(usize, Vec<String>)>, (usize, String)> {
    let mut rows = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::FieldStart;
    let (mut line, mut record_line, mut quote_line) = (1, 1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let newline = c == '\n' || c == '\r';
        if newline && state != State::Quoted {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            fields.push(std::mem::take(&mut field));
            let record = std::mem::take(&mut fields);
            if !(record.len() == 1 && record[0].is_empty()) {
                rows.push((record_line, record));
            }
            state = State::FieldStart;
            line += 1;
            record_line = line;
            continue;
        }
        if newline {
            line += usize::from(c == '\n' || chars.peek() != Some(&'\n'));
        }
        state = match (state, c) {
            (State::FieldStart, QUOTE) => {
                quote_line = line;
                State::Quoted
            }
            (State::FieldStart | State::Plain | State::QuoteInQuoted, TAB) => {
                fields.push(std::mem::take(&mut field));
                State::FieldStart
            }
            (State::Quoted, QUOTE) => State::QuoteInQuoted,
            (State::QuoteInQuoted, QUOTE) => {
                field.push(QUOTE);
                State::Quoted
            }
            (State::Quoted, c) => {
                field.push(c);
                State::Quoted
            }
            (_, c) => {
                field.push(c);
                State::Plain
            }
        };
    }
    if state == State::Quoted {
        return Err((
            quote_line,
            "a quoted field is not closed before the end of the file".into(),
        ));
    }
    if state != State::FieldStart || !fields.is_empty() {
        fields.push(field);
        rows.push((record_line, fields));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &str) -> Result<Vec<Record>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.tsv");
        std::fs::write(&path, content).unwrap();
        read_records(&path, 0)
    }

    #[test]
    fn header_names_the_columns_and_bad_lines_are_named() {
        let recs = read("query-id\tcorpus-id\tscore\nq1\td1\t1\n\nq2\td7\t2\n").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].fields["corpus-id"], "d7");
        assert_eq!(recs[1].place, Place::Line(4));
        let err = read("query-id\tcorpus-id\tscore\nq1\td1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.tsv: line 2: 2 tab-separated fields"),
            "{err}"
        );
    }

    /// The cases Python's `csv.reader(f, delimiter="\t")` gives (CPython 3.11): a leading `"`
    /// quotes a field, `""` is one quote there, text after the closing quote is kept, a `"`
    /// inside an unquoted field is plain, and a quoted field may hold tabs and line breaks.
    #[test]
    fn fields_are_split_as_pythons_csv_module_splits_them() {
        let file = concat!(
            "sentence\tis_counterfactual\n",
            "\"\"\"This book doesn't belong in the \\best ever\\\"\"\"\" category\"\"\"\t0\n",
            "plain \"quote\" inside\t1\n",
            "\"tab\there and\nnewline\"\t0\r\n",
            "\"closed\"after\t1\n",
            " spaced \t0",
        );
        let recs = read(file).unwrap();
        let texts: Vec<&str> = recs
            .iter()
            .map(|r| r.fields["sentence"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            [
                "\"This book doesn't belong in the \\best ever\\\"\" category\"",
                "plain \"quote\" inside",
                "tab\there and\nnewline",
                "closedafter",
                " spaced ",
            ]
        );
        let lines: Vec<Place> = recs.iter().map(|r| r.place.clone()).collect();
        assert_eq!(
            lines,
            [
                Place::Line(2),
                Place::Line(3),
                Place::Line(4),
                Place::Line(6),
                Place::Line(7)
            ]
        );
        assert_eq!(recs[4].fields["is_counterfactual"], "0");
    }

    #[test]
    fn an_unclosed_quote_is_named_by_its_line() {
        let err = read("a\tb\nx\t1\n\"open\t2\nmore\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.tsv: line 3: a quoted field is not closed"),
            "{err}"
        );
    }
}
