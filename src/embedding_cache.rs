//! The on-disk embedding cache: the embeddings of one encode call, keyed by everything that
//! determines them — the model folder's content, the role (route and prompt), the encoding
//! batch limits, the leafbench executable itself (its content hash, so a rebuilt encoder never
//! reads vectors an older build wrote) and the texts — so a changed model, prompt or text
//! never reuses stale vectors. Entries are written whole (temporary file, then rename) and carry
//! a checksum; an entry that fails it is reported, removed and recomputed.
//!
//! Runs may share a cache: a process about to compute a missing entry takes a lock on it
//! (`<key>.lock`, an advisory file lock), so another process wanting the same entry waits and
//! then reads it instead of encoding the same texts again. A cache that cannot be written
//! (disk full, not a folder) is reported once and the run goes on without it.
//!
//! Location: `$LEAFBENCH_CACHE`, else `$XDG_CACHE_HOME/leafbench/embeddings`, else
//! `~/.cache/leafbench/embeddings`. One file per entry, `<key[..2]>/<key>.emb`:
//! magic `LBEMB001`, rows and dim (u64 little endian), the BLAKE3 hash of the payload, then the
//! payload (rows × dim f32, little endian).

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::output::write_atomically;

const MAGIC: &[u8; 8] = b"LBEMB001";
const HEADER: usize = 8 + 8 + 8 + 32;

pub struct EmbeddingCache {
    dir: PathBuf,
    /// Set after the first failed write: the cache is then only read.
    read_only: AtomicBool,
}

/// Held while this process computes an entry; dropping it lets waiting processes go on.
pub struct EntryLock {
    path: PathBuf,
    /// Locked for as long as it is open.
    _file: File,
}

impl EntryLock {
    /// Releases the lock; once the entry is written its lock file is no longer needed (a
    /// process still waiting on it re-reads the cache after taking it, and finds the entry).
    pub fn release(self, entry_written: bool) {
        if entry_written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What an entry's key is made of, besides the texts.
pub struct KeyParts<'a> {
    /// [`fingerprint_dir`] of the model folder that encodes.
    pub model: &'a str,
    pub role: &'a str,
    pub prompt: &'a str,
    pub batch_size: usize,
    pub max_batch_tokens: usize,
}

impl EmbeddingCache {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            read_only: AtomicBool::new(false),
        }
    }

    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("LEAFBENCH_CACHE") {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        base.join("leafbench").join("embeddings")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of `texts` encoded as `parts` says (hex BLAKE3).
    pub fn key(parts: &KeyParts, texts: &[String]) -> String {
        let mut h = blake3::Hasher::new();
        let mut field = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(MAGIC);
        field(env!("CARGO_PKG_VERSION").as_bytes());
        field(build_id().as_bytes());
        field(parts.model.as_bytes());
        field(parts.role.as_bytes());
        field(parts.prompt.as_bytes());
        field(&(parts.batch_size as u64).to_le_bytes());
        field(&(parts.max_batch_tokens as u64).to_le_bytes());
        field(&(texts.len() as u64).to_le_bytes());
        for t in texts {
            field(t.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.emb"))
    }

    /// The entry for `key`, if present and intact. A damaged entry is reported and removed,
    /// so the caller recomputes it.
    pub fn get(&self, key: &str) -> Option<Embeddings> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        match decode(&bytes) {
            Ok(e) => Some(e),
            Err(why) => {
                tracing::warn!(
                    "embedding cache entry {} is corrupt ({why}); recomputing it",
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Takes the lock of `key`'s entry, waiting while another process holds it. `None` when
    /// locks cannot be taken here (a read-only cache): the caller then computes unlocked.
    pub fn lock(&self, key: &str) -> Option<EntryLock> {
        if self.read_only.load(Ordering::Relaxed) {
            return None;
        }
        let path = self.dir.join(&key[..2]).join(format!("{key}.lock"));
        let opened =
            std::fs::create_dir_all(path.parent().expect("in a subfolder")).and_then(|_| {
                File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
            });
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                self.stop_writing(&path, &e);
                return None;
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                tracing::info!("waiting for another process computing {}", path.display());
                file.lock().ok()?;
            }
            Err(TryLockError::Error(_)) => return None,
        }
        Some(EntryLock { path, _file: file })
    }

    /// Writes an entry; a failure is reported once and turns writing off for the rest of the
    /// run, which goes on without caching. Returns whether the entry was written.
    pub fn store(&self, key: &str, emb: &Embeddings) -> bool {
        if self.read_only.load(Ordering::Relaxed) {
            return false;
        }
        match self.put(key, emb) {
            Ok(()) => true,
            Err(e) => {
                self.stop_writing(&self.dir, &e);
                false
            }
        }
    }

    fn stop_writing(&self, at: &Path, e: &dyn std::fmt::Display) {
        if !self.read_only.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the embedding cache cannot be written at {} ({e}); going on without caching",
                at.display()
            );
        }
    }

    pub fn put(&self, key: &str, emb: &Embeddings) -> Result<()> {
        let path = self.path(key);
        let dir = path.parent().expect("entries live in a subfolder");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let payload: Vec<u8> = emb.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        write_atomically(&path, |w| {
            w.write_all(MAGIC)?;
            w.write_all(&(emb.rows as u64).to_le_bytes())?;
            w.write_all(&(emb.dim as u64).to_le_bytes())?;
            w.write_all(blake3::hash(&payload).as_bytes())?;
            w.write_all(&payload)
        })
    }
}

fn decode(bytes: &[u8]) -> std::result::Result<Embeddings, String> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err("not a leafbench embedding file".into());
    }
    let word =
        |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize;
    let (rows, dim) = (word(8), word(16));
    let payload = &bytes[HEADER..];
    if rows.checked_mul(dim).and_then(|n| n.checked_mul(4)) != Some(payload.len()) {
        return Err(format!(
            "{} payload bytes for {rows} x {dim} floats",
            payload.len()
        ));
    }
    if blake3::hash(payload).as_bytes() != &bytes[24..56] {
        return Err("checksum mismatch".into());
    }
    Ok(Embeddings {
        rows,
        dim,
        data: payload
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
    })
}

/// The content hash of the running executable (empty if it cannot be read), computed once.
fn build_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::read)
            .map(|bytes| blake3::hash(&bytes).to_hex().to_string())
            .unwrap_or_default()
    })
}

/// BLAKE3 over every file of a model folder (relative path, size and content, in path order;
/// symlinks followed, hidden entries skipped), so any change to weights, tokenizer or
/// configuration gives new cache keys.
pub fn fingerprint_dir(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    let mut h = blake3::Hasher::new();
    for rel in files {
        let path = dir.join(&rel);
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        h.update(rel.to_string_lossy().as_bytes());
        h.update(&len.to_le_bytes());
        h.update_reader(file).map_err(|e| Error::io(&path, e))?;
    }
    Ok(h.finalize().to_hex().to_string())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `metadata` follows symlinks: hub snapshots link to blobs.
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            collect_files(root, &path, out)?;
        } else if meta.is_file() {
            out.push(path.strip_prefix(root).expect("below root").to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(model: &str) -> KeyParts<'_> {
        KeyParts {
            model,
            role: "query",
            prompt: "q: ",
            batch_size: 64,
            max_batch_tokens: 4096,
        }
    }

    #[test]
    fn keys_change_with_model_prompt_and_text() {
        let texts = vec!["a".to_string(), "b".to_string()];
        let k = EmbeddingCache::key(&parts("m1"), &texts);
        assert_ne!(k, EmbeddingCache::key(&parts("m2"), &texts));
        let mut other = parts("m1");
        other.prompt = "query: ";
        assert_ne!(k, EmbeddingCache::key(&other, &texts));
        // Field boundaries are length-prefixed: ["ab"] is not ["a", "b"].
        assert_ne!(k, EmbeddingCache::key(&parts("m1"), &["ab".to_string()]));
        assert_eq!(k, EmbeddingCache::key(&parts("m1"), &texts));
    }

    #[test]
    fn entries_round_trip_and_damage_is_detected_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::new(dir.path().to_path_buf());
        let emb = Embeddings {
            rows: 2,
            dim: 3,
            data: vec![1.0, -2.0, 3.5, 0.0, 1e-7, -0.25],
        };
        let key = EmbeddingCache::key(&parts("m"), &["x".into(), "y".into()]);
        assert!(cache.get(&key).is_none());
        cache.put(&key, &emb).unwrap();
        assert_eq!(cache.get(&key).unwrap(), emb);
        let path = cache.path(&key);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(&key).is_none(), "a flipped bit is caught");
        assert!(!path.exists(), "the damaged entry is removed");
        cache.put(&key, &emb).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(cache.get(&key).is_none(), "a truncated entry is caught");
    }

    #[test]
    fn an_unwritable_cache_turns_read_only_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_folder = dir.path().join("file");
        std::fs::write(&not_a_folder, "x").unwrap();
        let cache = EmbeddingCache::new(not_a_folder);
        let key = EmbeddingCache::key(&parts("m"), &["x".into()]);
        assert!(cache.lock(&key).is_none());
        assert!(!cache.store(&key, &Embeddings::zeros(1, 2)));
        assert!(cache.get(&key).is_none());
    }

    #[test]
    fn a_second_locker_waits_until_the_first_releases() {
        let dir = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(EmbeddingCache::new(dir.path().to_path_buf()));
        let key = EmbeddingCache::key(&parts("m"), &["x".into()]);
        let first = cache.lock(&key).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let (cache, key) = (cache.clone(), key.clone());
            std::thread::spawn(move || {
                let lock = cache.lock(&key).unwrap();
                tx.send(cache.get(&key).is_some()).unwrap();
                lock.release(false);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(rx.try_recv().is_err(), "the second lock waits");
        cache.put(&key, &Embeddings::zeros(1, 2)).unwrap();
        first.release(true);
        assert!(rx.recv().unwrap(), "the waiter then finds the entry");
        waiter.join().unwrap();
    }

    #[test]
    fn fingerprints_follow_file_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        std::fs::write(dir.path().join("1_Pooling/config.json"), "{\"a\":1}").unwrap();
        let a = fingerprint_dir(dir.path()).unwrap();
        assert_eq!(a, fingerprint_dir(dir.path()).unwrap());
        std::fs::write(dir.path().join("1_Pooling/config.json"), "{\"a\":2}").unwrap();
        assert_ne!(a, fingerprint_dir(dir.path()).unwrap());
    }
}
