//! Input text files: UTF-8, one text per line. An empty line is an empty text; a line's
//! `\n` (and a preceding `\r`) end it, nothing else is stripped.

use std::path::Path;

use crate::error::{Error, Result};

pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_lines(&bytes).map_err(|(line, what)| Error::Line {
        path: path.to_path_buf(),
        line,
        what,
    })
}

fn parse_lines(bytes: &[u8]) -> std::result::Result<Vec<String>, (usize, String)> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            std::str::from_utf8(line).map(str::to_string).map_err(|e| {
                (
                    i + 1,
                    format!(
                        "not valid UTF-8 (byte {} of the line); expected UTF-8 text",
                        e.valid_up_to() + 1
                    ),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_lines;

    #[test]
    fn keeps_empty_and_whitespace_lines() {
        assert_eq!(
            parse_lines(b"a\n\n  \n\tb\r\n").unwrap(),
            vec!["a", "", "  ", "\tb"]
        );
        assert_eq!(parse_lines(b"a\nlast").unwrap(), vec!["a", "last"]);
        assert_eq!(parse_lines(b"").unwrap(), Vec::<String>::new());
        assert_eq!(parse_lines(b"\n").unwrap(), vec![""]);
    }

    #[test]
    fn names_the_line_that_is_not_utf8() {
        let (line, what) = parse_lines(b"ok\nalso ok\nbad \xff here\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(what.contains("UTF-8"));
    }
}
