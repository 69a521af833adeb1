//! Output files appear whole or not at all: data goes to a temporary file beside the
//! target, which is renamed over it only once everything was written. A symlink is followed to
//! the file it names, and a target that is not a regular file (a device such as `/dev/null`, a
//! FIFO) is written through, never replaced by a plain file.

use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Symlink hops followed before giving up, as the kernel does.
const MAX_LINKS: usize = 40;

pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let target = follow_links(path)?;
    if is_special(&target) {
        return write_through(&target, write);
    }
    let tmp = sibling(&target, "partial")?;
    let result = (|| {
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::invalid(path, format!("cannot write: {e}"))
    })
}

/// Writes straight into an existing non-regular file (device, FIFO).
fn write_through(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let result = (|| {
        let file = std::fs::OpenOptions::new().write(true).open(target)?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()
    })();
    result.map_err(|e| Error::invalid(target, format!("cannot write: {e}")))
}

/// Fails early, before any long computation, if `path` could not be written.
pub fn check_writable(path: &Path) -> Result<()> {
    let target = follow_links(path)?;
    if target.is_dir() {
        return Err(Error::invalid(
            path,
            "output path is a folder; expected a file name",
        ));
    }
    if is_special(&target) {
        // Opening a FIFO for writing would block until a reader comes; it is opened when
        // the output is written.
        return Ok(());
    }
    let probe = sibling(&target, "probe")?;
    std::fs::File::create(&probe)
        .map_err(|e| Error::invalid(path, format!("output path is not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Whether `a` and `b` name the same existing file (through links and different spellings).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

/// Fails unless `path` lies below `root` with no `..`, root or prefix component after it:
/// names that come from configs and task files must never steer a write elsewhere.
pub fn ensure_inside(root: &Path, path: &Path) -> Result<()> {
    let inside = path
        .strip_prefix(root)
        .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))));
    if inside {
        Ok(())
    } else {
        Err(Error::invalid(
            path,
            format!(
                "would be written outside the output folder {}; a model name, revision or task \
                 name must not step out of it",
                root.display()
            ),
        ))
    }
}

/// Removes the temporary files that a killed process left below `dir` (`.<name>.partial-<pid>`
/// and `.<name>.probe-<pid>` of a process that no longer runs). Nothing reads them, and a
/// running process's own are kept. Problems are ignored: sweeping is housekeeping.
pub fn sweep_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            sweep_partials(&entry.path());
        } else if kind.is_file() && left_by_dead_process(&entry.file_name().to_string_lossy()) {
            tracing::info!("removing {} left by a killed run", entry.path().display());
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn left_by_dead_process(name: &str) -> bool {
    if !name.starts_with('.') {
        return false;
    }
    let pid = [".partial-", ".probe-"]
        .iter()
        .find_map(|tag| name.rsplit_once(tag).map(|(_, pid)| pid))
        .and_then(|pid| pid.parse::<i32>().ok());
    pid.is_some_and(|pid| pid > 0 && !process_alive(pid))
}

/// Whether a process with this id runs (signal 0 probes without sending anything).
pub(crate) fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The path a chain of symlinks ends at (the path itself when it is not a link). The end
/// need not exist: a dangling link's target is created.
fn follow_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|e| Error::io(&current, e))?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(Error::invalid(
        path,
        format!("more than {MAX_LINKS} symlinks to follow; expected a file name"),
    ))
}

/// An existing target that is neither a regular file nor a folder.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> Result<()> {
        write_atomically(path, |w| w.write_all(text.as_bytes()))
    }

    #[test]
    fn a_symlink_is_followed_and_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        let link = dir.path().join("link.md");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.md", &link).unwrap();
        write(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let dangling = dir.path().join("dangling.md");
        std::os::unix::fs::symlink("made.md", &dangling).unwrap();
        write(&dangling, "x").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.md")).unwrap(),
            "x"
        );
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("a", &a).unwrap();
        assert!(write(&a, "x").unwrap_err().to_string().contains("symlinks"));
    }

    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        check_writable(&fifo).unwrap();
        write(&fifo, "through").unwrap();
        assert_eq!(reader.join().unwrap(), "through");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        use std::os::unix::fs::FileTypeExt;
        assert!(kind.is_fifo(), "still a FIFO");
    }

    #[test]
    fn paths_outside_the_root_are_refused() {
        let root = Path::new("/out");
        assert!(ensure_inside(root, Path::new("/out/org__m/main/T.json")).is_ok());
        for bad in ["/out/org__m/../../x/T.json", "/elsewhere/T.json"] {
            assert!(ensure_inside(root, Path::new(bad)).is_err(), "{bad}");
        }
        // Joining an absolute revision replaces the whole path.
        let absolute = Path::new("/abs/dir");
        let joined = root.join("org__m").join(absolute).join("T.json");
        assert!(ensure_inside(root, &joined).is_err());
    }

    #[test]
    fn only_dead_processes_leftovers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("org__m/main");
        std::fs::create_dir_all(&sub).unwrap();
        // Process ids are below 2^22 on Linux: this one cannot run.
        let dead = sub.join(".T.json.partial-4194999");
        let mine = sub.join(format!(".U.json.partial-{}", std::process::id()));
        let result = sub.join("T.json");
        for p in [&dead, &mine, &result] {
            std::fs::write(p, "x").unwrap();
        }
        sweep_partials(dir.path());
        assert!(!dead.exists() && mine.exists() && result.exists());
    }

    #[test]
    fn same_file_sees_through_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.txt");
        std::fs::write(&f, "x").unwrap();
        assert!(same_file(&f, &dir.path().join("./t.txt")));
        assert!(!same_file(&f, &dir.path().join("other.txt")));
    }
}
