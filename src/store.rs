//! The embedding store: embeddings kept on disk in chunks, so that any process — a later run,
//! another shard of the same run, another machine sharing the folder — finds the vectors that
//! anyone computed. An encode call is stored in chunks ([`crate::chunks`]); each chunk is one
//! entry, keyed by everything that determines its vectors:
//! - the model folder's content ([`fingerprint_dir`]), the route (query, document, plain) and
//!   the prompt, the maximum sequence length;
//! - [`NUMERICS_VERSION`], raised whenever encoder code changes the floats it produces;
//! - the chunk's texts, batch by batch: which texts share a forward pass decides their
//!   padding, and so the last bits of their vectors.
//!
//! Not the executable, not the shard, not the rest of the call: a rebuilt binary or another
//! split of the work finds the same entries.
//!
//! Writers are safe together. An entry is written to a temporary file named after this host
//! and process, synced, then renamed into place, so a reader never sees half of one; the file
//! names its own key and carries a checksum, so a half-copied, damaged or misplaced file is
//! reported, removed and recomputed. A process about to compute a missing entry takes an
//! advisory lock (`<key>.lock`); another process wanting the same entry waits, then reads it.
//! Where the filesystem has no locks, both compute and the second rename wins: same vectors.
//!
//! Location: `--cache-dir`, else `$LEAFBENCH_CACHE`, else `$XDG_CACHE_HOME/leafbench/embeddings`,
//! else `~/.cache/leafbench/embeddings`. One file per entry, `<key[..2]>/<key>.emb`: magic
//! `LBEMB002`, the key (32 bytes), rows and dim (u64 little endian), the BLAKE3 hash of the
//! payload, then the payload (rows × dim f32, little endian).

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::output::process_alive;

/// The version of the encoder's arithmetic. Raise it in the change that makes any model give
/// other floats for the same texts (kernels, pooling, accumulation order); entries of other
/// versions are then never read.
pub const NUMERICS_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"LBEMB002";
const HEADER: usize = 8 + 32 + 8 + 8 + 32;

/// What an entry's key is made of, besides the texts.
#[derive(Clone, Copy)]
pub struct KeyParts<'a> {
    /// [`fingerprint_dir`] of the model folder that encodes.
    pub model: &'a str,
    pub role: &'a str,
    pub prompt: &'a str,
    pub max_length: usize,
}

impl KeyParts<'_> {
    /// The key of texts encoded as these parts say, in these batches (hex BLAKE3).
    pub fn key(&self, batches: &[Vec<&str>]) -> String {
        let mut h = blake3::Hasher::new();
        let mut field = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(MAGIC);
        field(&NUMERICS_VERSION.to_le_bytes());
        field(self.model.as_bytes());
        field(self.role.as_bytes());
        field(self.prompt.as_bytes());
        field(&(self.max_length as u64).to_le_bytes());
        field(&(batches.len() as u64).to_le_bytes());
        for batch in batches {
            field(&(batch.len() as u64).to_le_bytes());
            for t in batch {
                field(t.as_bytes());
            }
        }
        h.finalize().to_hex().to_string()
    }
}

pub struct EmbeddingStore {
    dir: PathBuf,
    /// Whether a failed write is an error (a shard's store is its output) or a warning (a
    /// run's store is a cache it can go on without).
    strict: bool,
    /// Set after the first failed write of a lenient store: it is then only read.
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
    /// process still waiting on it re-reads the store after taking it, and finds the entry).
    pub fn release(self, entry_written: bool) {
        if entry_written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl EmbeddingStore {
    /// A store whose write failures are reported once, after which it is only read.
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            strict: false,
            read_only: AtomicBool::new(false),
        }
    }

    /// A store whose write failures are errors.
    pub fn strict(dir: PathBuf) -> Self {
        Self {
            strict: true,
            ..Self::new(dir)
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

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.emb"))
    }

    /// The entry for `key`, if present and intact. A damaged entry is reported and removed,
    /// so the caller recomputes it.
    pub fn get(&self, key: &str) -> Option<Embeddings> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        match decode(key, &bytes) {
            Ok(e) => Some(e),
            Err(why) => {
                tracing::warn!(
                    "embedding store entry {} is damaged ({why}); recomputing it",
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Takes the lock of `key`'s entry, waiting while another process holds it. `None` when
    /// locks cannot be taken here (a read-only store, a filesystem without locks): the
    /// caller then computes unlocked.
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

    /// Writes an entry. A strict store returns the failure; a lenient one reports it once
    /// and turns writing off for the rest of the run. Returns whether the entry was written.
    pub fn save(&self, key: &str, emb: &Embeddings) -> Result<bool> {
        if self.read_only.load(Ordering::Relaxed) {
            return Ok(false);
        }
        match self.put(key, emb) {
            Ok(()) => Ok(true),
            Err(e) if self.strict => Err(e),
            Err(e) => {
                self.stop_writing(&self.dir, &e);
                Ok(false)
            }
        }
    }

    fn stop_writing(&self, at: &Path, e: &dyn std::fmt::Display) {
        if !self.read_only.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the embedding store cannot be written at {} ({e}); going on without storing",
                at.display()
            );
        }
    }

    /// Writes an entry whole or not at all; an error names the entry and the reason (a full
    /// disk, say), and leaves nothing a reader would accept.
    pub fn put(&self, key: &str, emb: &Embeddings) -> Result<()> {
        let path = self.path(key);
        let dir = path.parent().expect("entries live in a subfolder");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = dir.join(format!(
            ".{key}.emb.partial-{}-{}",
            host(),
            std::process::id()
        ));
        let payload: Vec<u8> = emb.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let key_bytes = key_digest(key);
        let written = (|| {
            let mut file = File::create(&tmp)?;
            let mut header = Vec::with_capacity(HEADER);
            header.extend_from_slice(MAGIC);
            header.extend_from_slice(&key_bytes);
            header.extend_from_slice(&(emb.rows as u64).to_le_bytes());
            header.extend_from_slice(&(emb.dim as u64).to_le_bytes());
            header.extend_from_slice(blake3::hash(&payload).as_bytes());
            file.write_all(&header)?;
            file.write_all(&payload)?;
            // On the disk before the name: a crash after the rename cannot leave a short file.
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::invalid(
                &path,
                format!("cannot write the embedding store entry: {e}"),
            )
        })
    }

    /// Removes the temporary files that killed processes of this host left. Another host's
    /// are kept: its process ids mean nothing here, and it may still be writing them.
    pub fn sweep_partials(&self) {
        let tag = format!(".partial-{}-", host());
        let Ok(subdirs) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for sub in subdirs.flatten() {
            let Ok(entries) = std::fs::read_dir(sub.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let pid = name
                    .rsplit_once(&tag)
                    .and_then(|(_, pid)| pid.parse::<i32>().ok());
                if pid.is_some_and(|pid| pid > 0 && !process_alive(pid)) {
                    tracing::info!("removing {} left by a killed run", entry.path().display());
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// The 32 bytes a key's hex spells (the key itself when it is not hex).
fn key_digest(key: &str) -> [u8; 32] {
    blake3::Hash::from_hex(key)
        .map(|h| *h.as_bytes())
        .unwrap_or_else(|_| *blake3::hash(key.as_bytes()).as_bytes())
}

fn decode(key: &str, bytes: &[u8]) -> std::result::Result<Embeddings, String> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err("not a leafbench embedding file of this version".into());
    }
    if bytes[8..40] != key_digest(key) {
        return Err("the file holds another entry".into());
    }
    let word =
        |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize;
    let (rows, dim) = (word(40), word(48));
    let payload = &bytes[HEADER..];
    if rows.checked_mul(dim).and_then(|n| n.checked_mul(4)) != Some(payload.len()) {
        return Err(format!(
            "{} payload bytes for {rows} x {dim} floats",
            payload.len()
        ));
    }
    if blake3::hash(payload).as_bytes() != &bytes[56..88] {
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

/// This machine's name (letters, digits and dots), naming temporary files on a shared folder.
fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer outlives the call and its length is passed.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = if ok {
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            String::new()
        };
        let clean: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        if clean.is_empty() {
            "host".into()
        } else {
            clean
        }
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
            max_length: 512,
        }
    }

    fn store() -> (tempfile::TempDir, EmbeddingStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddingStore::new(dir.path().to_path_buf());
        (dir, store)
    }

    fn one(text: &str) -> Vec<Vec<&str>> {
        vec![vec![text]]
    }

    #[test]
    fn keys_change_with_every_part_the_texts_and_their_batches() {
        let texts = vec![vec!["a", "b"]];
        let k = parts("m1").key(&texts);
        assert_eq!(k, parts("m1").key(&texts));
        assert_ne!(k, parts("m2").key(&texts));
        let variants: [fn(&mut KeyParts); 3] = [
            |p| p.role = "document",
            |p| p.prompt = "query: ",
            |p| p.max_length = 256,
        ];
        for change in variants {
            let mut other = parts("m1");
            change(&mut other);
            assert_ne!(k, other.key(&texts));
        }
        // The same texts batched otherwise are padded otherwise.
        assert_ne!(k, parts("m1").key(&[vec!["a"], vec!["b"]]));
        // Field boundaries are length-prefixed: ["ab"] is not ["a", "b"].
        assert_ne!(k, parts("m1").key(&one("ab")));
    }

    #[test]
    fn entries_round_trip_and_damage_is_detected_and_removed() {
        let (_dir, store) = store();
        let emb = Embeddings {
            rows: 2,
            dim: 3,
            data: vec![1.0, -2.0, 3.5, 0.0, 1e-7, -0.25],
        };
        let key = parts("m").key(&[vec!["x", "y"]]);
        assert!(store.get(&key).is_none());
        store.put(&key, &emb).unwrap();
        assert_eq!(store.get(&key).unwrap(), emb);
        let path = store.path(&key);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(store.get(&key).is_none(), "a flipped bit is caught");
        assert!(!path.exists(), "the damaged entry is removed");
        store.put(&key, &emb).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(store.get(&key).is_none(), "a half-copied entry is caught");
    }

    #[test]
    fn an_entry_under_another_key_s_name_is_refused() {
        let (_dir, store) = store();
        let (a, b) = (parts("m").key(&one("a")), parts("m").key(&one("b")));
        store.put(&a, &Embeddings::zeros(1, 2)).unwrap();
        std::fs::create_dir_all(store.path(&b).parent().unwrap()).unwrap();
        std::fs::copy(store.path(&a), store.path(&b)).unwrap();
        assert!(store.get(&b).is_none());
        assert!(store.get(&a).is_some());
    }

    #[test]
    fn an_unwritable_store_fails_when_strict_and_turns_read_only_when_lenient() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_folder = dir.path().join("file");
        std::fs::write(&not_a_folder, "x").unwrap();
        let key = parts("m").key(&one("x"));
        let strict = EmbeddingStore::strict(not_a_folder.clone());
        assert!(strict.save(&key, &Embeddings::zeros(1, 2)).is_err());
        let store = EmbeddingStore::new(not_a_folder);
        assert!(store.put(&key, &Embeddings::zeros(1, 2)).is_err());
        assert!(store.lock(&key).is_none());
        assert!(!store.save(&key, &Embeddings::zeros(1, 2)).unwrap());
        assert!(store.get(&key).is_none());
    }

    #[test]
    fn a_second_locker_waits_until_the_first_releases() {
        let (_dir, store) = store();
        let store = std::sync::Arc::new(store);
        let key = parts("m").key(&one("x"));
        let first = store.lock(&key).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let (store, key) = (store.clone(), key.clone());
            std::thread::spawn(move || {
                let lock = store.lock(&key).unwrap();
                tx.send(store.get(&key).is_some()).unwrap();
                lock.release(false);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(rx.try_recv().is_err(), "the second lock waits");
        store.put(&key, &Embeddings::zeros(1, 2)).unwrap();
        first.release(true);
        assert!(rx.recv().unwrap(), "the waiter then finds the entry");
        waiter.join().unwrap();
    }

    #[test]
    fn sweeping_removes_this_host_s_dead_partials_only() {
        let (_dir, store) = store();
        let sub = store.dir().join("ab");
        std::fs::create_dir_all(&sub).unwrap();
        // Far above any pid_max: no such process.
        let dead = sub.join(format!(".abc.emb.partial-{}-2000000000", host()));
        let elsewhere = sub.join(".abc.emb.partial-otherhost-2000000000");
        let alive = sub.join(format!(
            ".abc.emb.partial-{}-{}",
            host(),
            std::process::id()
        ));
        for p in [&dead, &elsewhere, &alive] {
            std::fs::write(p, "x").unwrap();
        }
        store.sweep_partials();
        assert!(!dead.exists());
        assert!(elsewhere.exists(), "another host may still be writing it");
        assert!(alive.exists());
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
