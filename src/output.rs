//! Output files appear whole or not at all: data goes to a temporary file beside the
//! target, which is renamed over it only once everything was written.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = sibling(path, "partial")?;
    let result = (|| {
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::invalid(path, format!("cannot write: {e}"))
    })
}

/// Fails early, before any long computation, if `path` could not be written.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(
            path,
            "output path is a folder; expected a file name",
        ));
    }
    let probe = sibling(path, "probe")?;
    std::fs::File::create(&probe)
        .map_err(|e| Error::invalid(path, format!("output path is not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A hidden file next to `path`, unique to this process.
fn sibling(path: &Path, tag: &str) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::invalid(
            path,
            format!(
                "output path is not writable: folder {} does not exist",
                dir.display()
            ),
        ));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    Ok(dir.join(format!(".{name}.{tag}-{}", std::process::id())))
}
