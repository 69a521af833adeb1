//! A split stored as a zip archive (`test.zip`, as MindSmallReranking's pinned revision stores
//! it): `datasets` reads the data files inside it, so leafbench does too. Members that are
//! folders or hidden (`.x`, `__MACOSX/…`) are skipped; the others are read in archive order and
//! must be JSON or JSON Lines, plain or gzipped. Each is named `<archive>/<member>` in messages.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Extensions of the members leafbench reads from an archive.
const MEMBER_EXTENSIONS: [&str; 4] = [".jsonl", ".json", ".jsonl.gz", ".json.gz"];

pub fn is_archive(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zip")
}

/// Every data member of the archive at `path`: its name (archive path joined with the member's)
/// and its bytes, in archive order.
pub fn data_members(path: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad =
        |e: zip::result::ZipError| Error::invalid(path, format!("not a readable zip archive: {e}"));
    let mut archive = zip::ZipArchive::new(file).map_err(bad)?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(bad)?;
        let name = member.name().map_err(bad)?.to_string();
        if member.is_dir() || is_hidden(&name) {
            continue;
        }
        if !MEMBER_EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
            return Err(Error::invalid(
                path,
                format!(
                    "member `{name}` is not a data file leafbench reads from an archive ({})",
                    MEMBER_EXTENSIONS.join(", ")
                ),
            ));
        }
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).map_err(|e| {
            Error::invalid(path, format!("member `{name}` cannot be unpacked: {e}"))
        })?;
        out.push((path.join(&name), bytes));
    }
    if out.is_empty() {
        return Err(Error::invalid(path, "the archive holds no data file"));
    }
    Ok(out)
}

fn is_hidden(name: &str) -> bool {
    name.split('/')
        .any(|part| part.starts_with('.') || part.starts_with("__"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(members: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap();
        (dir, path)
    }

    #[test]
    fn data_members_are_read_in_order_and_hidden_ones_skipped() {
        let (_dir, path) = archive(&[
            ("__MACOSX/._test.jsonl", b"junk"),
            ("test.jsonl", b"{\"a\": 1}\n"),
            ("more/test-2.json", b"[{\"a\": 2}]"),
        ]);
        let members = data_members(&path).unwrap();
        let names: Vec<PathBuf> = members.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(
            names,
            [path.join("test.jsonl"), path.join("more/test-2.json")]
        );
        assert_eq!(members[0].1, b"{\"a\": 1}\n");
    }

    #[test]
    fn other_members_and_other_bytes_are_refused_by_name() {
        let (_dir, path) = archive(&[("test.csv", b"a,b\n")]);
        let err = data_members(&path).unwrap_err().to_string();
        assert!(
            err.contains("member `test.csv` is not a data file"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("test.zip");
        std::fs::write(&fake, b"not a zip").unwrap();
        let err = data_members(&fake).unwrap_err().to_string();
        assert!(err.contains("not a readable zip archive"), "{err}");
    }
}
