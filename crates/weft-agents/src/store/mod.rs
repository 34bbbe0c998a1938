//! The one module that writes durable state under the state directory
//! (architecture.md: "Durable state goes through one module"): worker
//! snapshots (`<state>/workers/<id>.json`, workers.md §6), run records
//! (`<state>/runs/<id>.json`, workflows.md §4) and events
//! (`<state>/events.jsonl`, workers.md §7). Nothing else writes there.
//! Cluster mode's records (issue 14) live in JetStream KV buckets, written
//! by compare-and-set through [`cluster_kv`] (docs/cluster.md).
//!
//! # API
//!
//! One [`Store`] per program run, shared as `Rc<Store>` on the run's
//! single-threaded runtime:
//!
//! - [`Store::new`]`(state_dir, persist)` — with `persist = false` every
//!   write is a no-op that completes at once (reads still work).
//! - [`Store::write_json`]`(rel_path, &value).await` — returns when the new
//!   content is atomically in place **and** durable (temp file, sync,
//!   rename, directory fsync); a crash leaves the old or the new file.
//! - [`Store::write_json_later`]`(rel_path, &value)` — enqueue without
//!   waiting; [`Store::flush`]`().await` — everything enqueued is durable;
//!   [`Store::close`]`().await` — flush and stop (call at program end).
//! - [`Store::append_line`]`(rel_path, line).await` /
//!   [`Store::append_line_later`] — append one whole line (for
//!   `events.jsonl`), durable with the same batching.
//! - [`Store::read_json`], [`Store::list`], [`Store::load`] and the free
//!   function [`load_record`]`(path, expected_type, supported_version)` —
//!   reading back; every failure is a reason naming the path, never a panic.
//! - [`secret_values`] — values of `*_API_KEY`/`*_TOKEN`/`*_SECRET`
//!   environment variables; every write replaces them with `[redacted]`.
//! - [`crash_points`] — the crash-point test hook (inert unless its
//!   environment variables are set): abort after the N-th durable write.
//! - [`Store::stats`] (batches, files written, syncs, …) and
//!   [`Store::last_error`] (failures of writes nobody awaited).
//!
//! `rel_path`s are relative to the state directory (`"workers/ID.json"`,
//! `"runs/ID.json"`, `"events.jsonl"`); directories are created on demand;
//! a path leaving the state directory is an `InvalidInput` error.
//!
//! # Group commit
//!
//! Writes go to one background committer thread (`commit.rs`): writes
//! requested while a batch is being flushed join the next batch, and a batch
//! costs one `syncfs` plus one `fsync` per affected directory however many
//! files it holds (several writes of one path in a batch write only the
//! newest content and wake all their waiters). File-level steps are in
//! `atomic.rs`, reading in `load.rs`, secrets in `secrets.rs`, and the
//! reuse of replaced files in `spares.rs`: on Linux an existing target is
//! swapped with `RENAME_EXCHANGE` and its old inode is later overwritten as
//! the next temporary file, because freeing inodes is what makes file
//! creation slow on this machine's ext4.
//!
//! Reads go straight to the disk: content given to `write_json_later` is
//! visible to [`Store::read_json`] only after [`Store::flush`]. Call
//! [`Store::close`] before the program ends (dropping the last `Rc<Store>`
//! also commits whatever is queued); after `std::process::exit` without
//! it, queued writes are lost and spare files stay behind.
//!
//! # Cost
//!
//! Measured with `cargo run --release -p weft-agents --example store_bench`
//! on this VM: 10,000 tasks each awaiting one snapshot write and one event
//! append take ~0.5 s (6 batches, ~2 syncs each); four awaited rewrites
//! per task in lock-step (40,000 writes) ~2.2 s. Syncs are cheap; the cost
//! is per distinct file per batch (~40 µs to create, ~20 µs to reuse a
//! spare). After a bulk delete on the same filesystem (e.g. `rm -rf` of a
//! big state directory) file creation is up to 10× slower for a minute or
//! more (ext4 skips recently deleted inodes). Prefer `write_json_later` for
//! intermediate states (coalesced with the next write of the same path)
//! and await only what must be durable before it is reported.

mod atomic;
pub mod cluster_kv;
mod commit;
pub mod crash_points;
mod fields;
mod keys;
pub mod liveness;
mod load;
mod secrets;
mod spares;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use serde_json::Value;
use tokio::sync::oneshot;

pub use atomic::is_temp_name;

pub use fields::{RUN_STATUSES, WORKER_STATUSES};
pub use keys::{fingerprint, key_index_rel, legacy_key_index_rel, read_key_index};
pub use load::{
    check_record, list_dir, load_record, parse_json, read_json_file, MAX_STATE_FILE_BYTES,
};
pub use secrets::{secret_values, secret_values_from, REDACTED};

use commit::{Msg, Shared};

/// Counters of one store, for tests, benchmarks and `--events` diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Batches committed.
    pub batches: u64,
    /// Files atomically replaced (after coalescing same-path writes).
    pub files_written: u64,
    /// Append `write`s (one per file per batch, holding all its lines).
    pub append_writes: u64,
    /// `syncfs`/`fsync` calls, on files and directories.
    pub syncs: u64,
    /// Writes in which a secret was replaced with `[redacted]`.
    pub redactions: u64,
    /// Writes that reused a spare file instead of creating one.
    pub spares_reused: u64,
    /// Writes or appends that failed.
    pub errors: u64,
}

/// The running committer thread.
struct CommitterHandle {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

/// The durable-state store of one program run (module doc).
pub struct Store {
    state_dir: PathBuf,
    persist: bool,
    secrets: Vec<String>,
    shared: Arc<Shared>,
    committer: RefCell<Option<CommitterHandle>>,
    /// The outcome of [`Store::ensure_writable`], once checked.
    writable: std::cell::OnceCell<Result<(), String>>,
    /// Held from the first write on: tells readers this process is alive
    /// (`liveness.rs`).
    live: std::cell::OnceCell<Option<liveness::LiveLock>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("state_dir", &self.state_dir)
            .field("persist", &self.persist)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The error of a write whose committer thread is gone.
fn stopped() -> io::Error {
    io::Error::other("the state store's committer thread stopped")
}

impl Store {
    /// A store writing under `state_dir` (made absolute now, so a later
    /// change of the working directory does not move it), redacting the
    /// current [`secret_values`].
    pub fn new(state_dir: PathBuf, persist: bool) -> Rc<Store> {
        Store::with_secrets(state_dir, persist, secret_values())
    }

    /// [`Store::new`] with an explicit list of secret values to redact.
    pub fn with_secrets(state_dir: PathBuf, persist: bool, secrets: Vec<String>) -> Rc<Store> {
        let state_dir = std::path::absolute(&state_dir).unwrap_or(state_dir);
        let secrets = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        Rc::new(Store {
            state_dir,
            persist,
            secrets,
            shared: Arc::new(Shared::default()),
            committer: RefCell::new(None),
            writable: std::cell::OnceCell::new(),
            live: std::cell::OnceCell::new(),
        })
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Checks once that the state directory can be written (created if
    /// missing, a directory, a file can be created in it); later calls
    /// return the first answer. The error names the directory and what to
    /// do. Always `Ok` when not persisting.
    pub fn ensure_writable(&self) -> Result<(), String> {
        if !self.persist {
            return Ok(());
        }
        self.writable
            .get_or_init(|| {
                atomic::probe_dir(&self.state_dir).map_err(|e| {
                    format!(
                        "the state directory '{}' cannot be written: {e} (give a writable --state-dir, or set WEFT_PERSIST=0 to run without durable state)",
                        self.state_dir.display()
                    )
                })
            })
            .clone()
    }

    /// Whether writes reach the disk.
    pub fn persist(&self) -> bool {
        self.persist
    }

    /// The absolute path of `rel_path`, checked to stay inside the state
    /// directory.
    pub fn path(&self, rel_path: &str) -> io::Result<PathBuf> {
        atomic::resolve(&self.state_dir, rel_path)
    }

    /// Writes `value` (pretty JSON) to `rel_path` atomically; returns once
    /// the new content is in place and durable. Concurrent calls share
    /// syncs (group commit).
    pub async fn write_json(&self, rel_path: &str, value: &Value) -> io::Result<()> {
        if !self.persist {
            return Ok(());
        }
        let target = self.path(rel_path)?;
        let bytes = self.encode_json(value)?;
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Write {
            target,
            bytes,
            done: Some(tx),
        })?;
        rx.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Enqueues an atomic write of `value` to `rel_path` without waiting;
    /// [`Store::flush`] waits for it. A failure shows in
    /// [`Store::last_error`].
    pub fn write_json_later(&self, rel_path: &str, value: &Value) {
        if !self.persist {
            return;
        }
        let r = self.path(rel_path).and_then(|target| {
            let bytes = self.encode_json(value)?;
            self.send(Msg::Write {
                target,
                bytes,
                done: None,
            })
        });
        if let Err(e) = r {
            self.note_error(&e);
        }
    }

    /// Returns once everything enqueued before is durable (or failed; see
    /// [`Store::last_error`]).
    pub async fn flush(&self) {
        if !self.persist || self.committer.borrow().is_none() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        if self.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Flushes, then stops the committer thread, which removes its spare
    /// files (see `spares.rs`). Call it when the program ends; a later
    /// write starts a new committer. Dropping the store does the same
    /// without the wait for enqueued work to be reported.
    pub async fn close(&self) {
        self.flush().await;
        self.stop_committer();
    }

    /// Appends `line` (a newline is added if missing; it must not contain
    /// other newlines) to `rel_path`; returns once it is durable. Lines are
    /// written whole, so a reader never sees half a line from a running
    /// process (after a crash, ignore an unterminated last line). A
    /// failure shows in [`Store::last_error`].
    pub async fn append_line(&self, rel_path: &str, line: &str) {
        if !self.persist {
            return;
        }
        let (tx, rx) = oneshot::channel();
        match self.enqueue_append(rel_path, line, Some(tx)) {
            Ok(()) => {
                // The committer records failures itself.
                let _ = rx.await;
            }
            Err(e) => self.note_error(&e),
        }
    }

    /// [`Store::append_line`] without waiting; [`Store::flush`] waits.
    pub fn append_line_later(&self, rel_path: &str, line: &str) {
        if !self.persist {
            return;
        }
        if let Err(e) = self.enqueue_append(rel_path, line, None) {
            self.note_error(&e);
        }
    }

    /// Reads and parses `rel_path` as JSON (no `_type` check).
    pub fn read_json(&self, rel_path: &str) -> Result<Value, String> {
        let path = self.path(rel_path).map_err(|e| e.to_string())?;
        read_json_file(&path)
    }

    /// [`load_record`] of `rel_path`.
    pub fn load(
        &self,
        rel_path: &str,
        expected_type: &str,
        supported_version: u64,
    ) -> Result<Value, String> {
        let path = self.path(rel_path).map_err(|e| e.to_string())?;
        load_record(&path, expected_type, supported_version)
    }

    /// The files in `rel_dir` (absolute paths, sorted, without `*.tmp-*`
    /// leftovers); empty if the directory does not exist.
    pub fn list(&self, rel_dir: &str) -> Vec<PathBuf> {
        match self.path(rel_dir) {
            Ok(dir) => list_dir(&dir),
            Err(_) => Vec::new(),
        }
    }

    /// Removes the file `rel_path` (best effort: a missing file or a
    /// failure is noted in [`Store::last_error`], never raised). Used for
    /// files that a newer format replaced (old-format key index entries).
    pub fn remove(&self, rel_path: &str) {
        if !self.persist {
            return;
        }
        let r = self.path(rel_path).and_then(std::fs::remove_file);
        if let Err(e) = r {
            if e.kind() != io::ErrorKind::NotFound {
                self.note_error(&e);
            }
        }
    }

    /// The store's counters so far.
    pub fn stats(&self) -> StoreStats {
        let s = &self.shared;
        StoreStats {
            batches: s.batches.load(Ordering::Relaxed),
            files_written: s.files_written.load(Ordering::Relaxed),
            append_writes: s.append_writes.load(Ordering::Relaxed),
            syncs: s.syncs.load(Ordering::Relaxed),
            redactions: s.redactions.load(Ordering::Relaxed),
            spares_reused: s.spares_reused.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
        }
    }

    /// The most recent write or append failure, if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn note_error(&self, e: &io::Error) {
        self.shared.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.shared.last_error.lock() {
            *last = Some(e.to_string());
        }
    }

    /// Serialized `value`, with secrets redacted.
    fn encode_json(&self, value: &Value) -> io::Result<Vec<u8>> {
        let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        text.push('\n');
        Ok(self.redacted(text).into_bytes())
    }

    fn redacted(&self, mut text: String) -> String {
        if !self.secrets.is_empty() && secrets::redact(&mut text, &self.secrets) > 0 {
            self.shared.redactions.fetch_add(1, Ordering::Relaxed);
        }
        text
    }

    fn enqueue_append(
        &self,
        rel_path: &str,
        line: &str,
        done: Option<commit::Waiter>,
    ) -> io::Result<()> {
        let target = self.path(rel_path)?;
        let mut text = self.redacted(line.to_string());
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.send(Msg::Append {
            target,
            bytes: text.into_bytes(),
            done,
        })
    }

    /// Closes the committer's queue and waits for it to commit what is
    /// queued and remove its spares.
    fn stop_committer(&self) {
        let taken = self.committer.borrow_mut().take();
        if let Some(mut c) = taken {
            drop(c.tx);
            if let Some(t) = c.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// Sends to the committer thread, starting it on first use.
    fn send(&self, msg: Msg) -> io::Result<()> {
        self.live
            .get_or_init(|| liveness::LiveLock::take(&self.state_dir).ok());
        let mut slot = self.committer.borrow_mut();
        if slot.is_none() {
            let (tx, thread) = commit::spawn(self.shared.clone())?;
            *slot = Some(CommitterHandle {
                tx,
                thread: Some(thread),
            });
        }
        let handle = slot.as_ref().expect("started above");
        handle.tx.send(msg).map_err(|_| stopped())
    }
}

impl Drop for Store {
    /// Commits everything still queued (e.g. `write_json_later` without a
    /// `flush`) before the store goes away.
    fn drop(&mut self) {
        self.stop_committer();
    }
}
