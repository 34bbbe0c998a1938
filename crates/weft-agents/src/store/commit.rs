//! Group commit: the committer thread that turns queued writes and appends
//! into batches, each made durable with a handful of syncs.
//!
//! The store sends [`Msg`]s over a channel to one background thread
//! (started lazily by the first write). The thread blocks for the first
//! message, drains whatever else is queued (up to [`MAX_BATCH`]) into a
//! [`Batch`], and commits it; everything sent while a batch is being
//! committed joins the next one — so N concurrent writers share the syncs
//! instead of paying N of them. A batch:
//!
//! 1. writes every temporary file (only the newest content of a path that
//!    was written several times; a reused spare where one is available,
//!    `spares.rs`) and appends every buffered line (one `write` per file,
//!    whole lines only);
//! 2. makes all of it durable with one `syncfs` per filesystem (Linux), or
//!    per-file `fsync` if that fails or is unavailable;
//! 3. renames each temporary file over its target (on Linux: exchanges it
//!    with an existing target, keeping the old inode as a spare);
//! 4. `fsync`s each affected directory once;
//! 5. wakes every waiter of the batch with its own result.
//!
//! A thread rather than a local task keeps the I/O off the single runtime
//! thread (workers keep running while a batch syncs), needs no `LocalSet`,
//! and finishes a batch even when the task awaiting it is cancelled.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;

use super::atomic;
use super::crash_points;
use super::spares::{self, SparePool};

/// The most messages one batch takes, bounding the latency of its first
/// waiter.
pub(crate) const MAX_BATCH: usize = 4096;

/// Completion of one write or append.
pub(crate) type Waiter = oneshot::Sender<io::Result<()>>;

/// A request to the committer thread.
pub(crate) enum Msg {
    /// Replace `target` atomically with `bytes`.
    Write {
        target: PathBuf,
        bytes: Vec<u8>,
        done: Option<Waiter>,
    },
    /// Append `bytes` (whole lines) to `target`.
    Append {
        target: PathBuf,
        bytes: Vec<u8>,
        done: Option<Waiter>,
    },
    /// Answer once everything sent before is durable.
    Flush(oneshot::Sender<()>),
}

/// Counters shared between the store and its committer thread.
#[derive(Default)]
pub(crate) struct Shared {
    pub batches: AtomicU64,
    pub files_written: AtomicU64,
    pub append_writes: AtomicU64,
    pub syncs: AtomicU64,
    pub redactions: AtomicU64,
    pub spares_reused: AtomicU64,
    pub errors: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

impl Shared {
    fn record_error(&self, e: &io::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(e.to_string());
        }
    }
}

/// One pending atomic write (the newest content for its path).
struct WriteEntry {
    target: PathBuf,
    bytes: Vec<u8>,
    waiters: Vec<Waiter>,
    temp: Option<PathBuf>,
    error: Option<io::Error>,
}

/// Lines pending for one append-only file.
struct AppendEntry {
    target: PathBuf,
    buf: Vec<u8>,
    waiters: Vec<Waiter>,
    /// The file, open for appending, once the lines are written.
    file: Option<File>,
    error: Option<io::Error>,
}

/// The requests one commit handles.
#[derive(Default)]
pub(crate) struct Batch {
    writes: Vec<WriteEntry>,
    write_index: HashMap<PathBuf, usize>,
    appends: Vec<AppendEntry>,
    append_index: HashMap<PathBuf, usize>,
    flushes: Vec<oneshot::Sender<()>>,
    messages: usize,
}

impl Batch {
    /// Adds a message; a later write of the same path replaces the content
    /// and keeps every earlier waiter.
    pub(crate) fn add(&mut self, msg: Msg) {
        self.messages += 1;
        match msg {
            Msg::Write {
                target,
                bytes,
                done,
            } => {
                if let Some(&i) = self.write_index.get(&target) {
                    let e = &mut self.writes[i];
                    e.bytes = bytes;
                    e.waiters.extend(done);
                } else {
                    self.write_index.insert(target.clone(), self.writes.len());
                    self.writes.push(WriteEntry {
                        target,
                        bytes,
                        waiters: done.into_iter().collect(),
                        temp: None,
                        error: None,
                    });
                }
            }
            Msg::Append {
                target,
                bytes,
                done,
            } => {
                if let Some(&i) = self.append_index.get(&target) {
                    let e = &mut self.appends[i];
                    e.buf.extend_from_slice(&bytes);
                    e.waiters.extend(done);
                } else {
                    self.append_index.insert(target.clone(), self.appends.len());
                    self.appends.push(AppendEntry {
                        target,
                        buf: bytes,
                        waiters: done.into_iter().collect(),
                        file: None,
                        error: None,
                    });
                }
            }
            Msg::Flush(done) => self.flushes.push(done),
        }
    }

    /// Messages taken so far.
    pub(crate) fn len(&self) -> usize {
        self.messages
    }

    /// Distinct files this batch will write (after coalescing).
    #[cfg(test)]
    pub(crate) fn distinct_writes(&self) -> usize {
        self.writes.len()
    }

    /// How many waiters the write of `target` will wake.
    #[cfg(test)]
    pub(crate) fn waiters_of(&self, target: &Path) -> usize {
        self.write_index
            .get(target)
            .map_or(0, |&i| self.writes[i].waiters.len())
    }

    /// The content the write of `target` will have.
    #[cfg(test)]
    pub(crate) fn newest(&self, target: &Path) -> Option<&[u8]> {
        self.write_index
            .get(target)
            .map(|&i| self.writes[i].bytes.as_slice())
    }
}

/// The committer thread's state.
struct Committer {
    shared: Arc<Shared>,
    /// Directories known to exist, with their filesystem id.
    dirs: HashMap<PathBuf, u64>,
    /// Old versions kept for reuse (`spares.rs`).
    spares: SparePool,
    /// Whether `RENAME_EXCHANGE` works here.
    exchange_ok: bool,
    /// Whether `syncfs` is available (Linux).
    syncfs_ok: bool,
    /// Number of the batch being committed.
    batch_no: u64,
}

/// Starts the committer thread; it runs until every sender is dropped and
/// the queue is drained.
pub(crate) fn spawn(
    shared: Arc<Shared>,
) -> io::Result<(mpsc::Sender<Msg>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let handle = std::thread::Builder::new()
        .name("weft-store".into())
        .spawn(move || {
            let mut c = Committer {
                shared,
                dirs: HashMap::new(),
                spares: SparePool::default(),
                exchange_ok: cfg!(target_os = "linux"),
                syncfs_ok: cfg!(target_os = "linux"),
                batch_no: 0,
            };
            loop {
                let first = match rx.recv_timeout(spares::IDLE_TRIM) {
                    Ok(m) => m,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        c.spares.clear();
                        match rx.recv() {
                            Ok(m) => m,
                            Err(_) => break,
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                let mut batch = Batch::default();
                batch.add(first);
                // The crash-point hook needs one write per batch, so the
                // N-th write is the same on every run.
                let max = if crash_points::active() { 1 } else { MAX_BATCH };
                while batch.len() < max {
                    match rx.try_recv() {
                        Ok(m) => batch.add(m),
                        Err(_) => break,
                    }
                }
                c.commit(batch);
            }
        })?;
    Ok((tx, handle))
}

/// The same error for another waiter (`io::Error` is not `Clone`).
fn copy_err(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

/// `e` with the path it is about.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Committer {
    fn sync_counted<T>(&self, r: io::Result<T>) -> io::Result<T> {
        self.shared.syncs.fetch_add(1, Ordering::Relaxed);
        r
    }

    /// Makes sure `dir` exists, creating missing ancestors; the parents of
    /// created directories go to `sync_dirs` so the creation is durable.
    fn ensure_dir(&mut self, dir: &Path, sync_dirs: &mut BTreeSet<PathBuf>) -> io::Result<u64> {
        if let Some(&dev) = self.dirs.get(dir) {
            return Ok(dev);
        }
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", dir.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = atomic::parent_dir(dir);
                if parent != dir {
                    self.ensure_dir(&parent, sync_dirs)?;
                }
                match fs::create_dir(dir) {
                    Ok(()) => {
                        sync_dirs.insert(parent);
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(at(dir, e)),
                }
            }
            Err(e) => return Err(at(dir, e)),
        }
        let dev = atomic::device_of(dir).map_err(|e| at(dir, e))?;
        self.dirs.insert(dir.to_path_buf(), dev);
        Ok(dev)
    }

    /// Writes `bytes` into a file next to `target` that no reader sees: a
    /// quarantined spare overwritten in place, else a new `<name>.tmp-<uuid>`.
    fn stage(
        &mut self,
        target: &Path,
        dir: &Path,
        bytes: &[u8],
        now: Instant,
    ) -> io::Result<PathBuf> {
        if let Some(spare) = self.spares.take(dir, self.batch_no, now) {
            if atomic::overwrite(&spare, bytes).is_ok() {
                self.shared.spares_reused.fetch_add(1, Ordering::Relaxed);
                return Ok(spare);
            }
            let _ = fs::remove_file(&spare);
        }
        let tmp = atomic::temp_path(target);
        match atomic::write_new(&tmp, bytes) {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(at(&tmp, e))
            }
        }
    }

    /// Puts the durable file `tmp` in place of `target`: exchanged with an
    /// existing target (whose old version becomes a spare), else renamed.
    fn replace(&mut self, tmp: &Path, target: &Path, dir: &Path) -> io::Result<()> {
        if self.exchange_ok {
            match atomic::exchange(tmp, target) {
                Ok(()) => {
                    if let Err(old) = self.spares.give(dir, tmp.to_path_buf(), self.batch_no) {
                        let _ = fs::remove_file(old);
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {} // a new target
                Err(e) if e.kind() == io::ErrorKind::Unsupported => self.exchange_ok = false,
                Err(e) => return Err(e),
            }
        }
        fs::rename(tmp, target)
    }

    /// Commits one batch (steps 1–5 of the module doc).
    fn commit(&mut self, mut batch: Batch) {
        let mut sync_dirs = BTreeSet::new();
        // filesystem id -> a directory on it, for syncfs.
        let mut devices: HashMap<u64, PathBuf> = HashMap::new();

        // 1. Temporary files and appends.
        self.batch_no += 1;
        let now = Instant::now();
        for w in &mut batch.writes {
            let dir = atomic::parent_dir(&w.target);
            let dev = match self.ensure_dir(&dir, &mut sync_dirs) {
                Ok(d) => d,
                Err(e) => {
                    w.error = Some(e);
                    continue;
                }
            };
            match self.stage(&w.target, &dir, &w.bytes, now) {
                Ok(tmp) => {
                    w.temp = Some(tmp);
                    devices.entry(dev).or_insert(dir);
                }
                Err(e) => {
                    // The directory may have been removed behind our back.
                    self.dirs.remove(&dir);
                    w.error = Some(e);
                }
            }
        }
        for a in &mut batch.appends {
            let dir = atomic::parent_dir(&a.target);
            let dev = match self.ensure_dir(&dir, &mut sync_dirs) {
                Ok(d) => d,
                Err(e) => {
                    a.error = Some(e);
                    continue;
                }
            };
            let is_new = fs::symlink_metadata(&a.target).is_err();
            // One write of whole lines: O_APPEND keeps them contiguous.
            let r = atomic::open_append(&a.target).and_then(|mut f| {
                f.write_all(&a.buf)?;
                Ok(f)
            });
            match r {
                Ok(f) => {
                    a.file = Some(f);
                    if is_new {
                        sync_dirs.insert(dir.clone());
                    }
                    devices.entry(dev).or_insert(dir);
                }
                Err(e) => {
                    self.dirs.remove(&dir);
                    a.error = Some(at(&a.target, e));
                }
            }
        }

        // 2. Durable data: one syncfs per filesystem, else fsync per file.
        let mut synced = self.syncfs_ok && !devices.is_empty();
        for dir in devices.values() {
            if !synced {
                break;
            }
            if let Err(e) = self.sync_counted(atomic::syncfs(dir)) {
                synced = false;
                if e.kind() == io::ErrorKind::Unsupported {
                    self.syncfs_ok = false;
                }
            }
        }
        if !synced {
            for w in &mut batch.writes {
                let Some(tmp) = &w.temp else { continue };
                if let Err(e) = self.sync_counted(atomic::fsync_file(tmp)) {
                    let _ = fs::remove_file(tmp);
                    w.error = Some(at(tmp, e));
                    w.temp = None;
                }
            }
            for a in &mut batch.appends {
                let Some(f) = &a.file else { continue };
                let r = f.sync_data();
                if let Err(e) = self.sync_counted(r) {
                    a.error = Some(at(&a.target, e));
                }
            }
        }

        // 3. Rename each temporary file over its target.
        let mut written = 0u64;
        for w in &mut batch.writes {
            let Some(tmp) = w.temp.take() else { continue };
            let dir = atomic::parent_dir(&w.target);
            match self.replace(&tmp, &w.target, &dir) {
                Ok(()) => {
                    written += 1;
                    sync_dirs.insert(dir);
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    w.error = Some(at(&w.target, e));
                }
            }
        }

        // 4. fsync each affected directory once.
        for dir in &sync_dirs {
            if let Err(e) = self.sync_counted(atomic::fsync_dir(dir)) {
                let e = at(dir, e);
                for w in &mut batch.writes {
                    if w.error.is_none() && atomic::parent_dir(&w.target) == *dir {
                        w.error = Some(copy_err(&e));
                    }
                }
                for a in &mut batch.appends {
                    if a.error.is_none() && atomic::parent_dir(&a.target) == *dir {
                        a.error = Some(copy_err(&e));
                    }
                }
            }
        }

        // The crash-point hook (a test hook, inert unless enabled): each
        // write now in place is a crash point, passed before anyone hears
        // of it.
        for _ in batch.writes.iter().filter(|w| w.error.is_none()) {
            crash_points::after_durable_write();
        }
        for _ in batch.appends.iter().filter(|a| a.error.is_none()) {
            crash_points::after_durable_write();
        }

        // 5. Wake every waiter.
        let s = &self.shared;
        s.batches.fetch_add(1, Ordering::Relaxed);
        s.files_written.fetch_add(written, Ordering::Relaxed);
        for w in batch.writes {
            if let Some(e) = &w.error {
                s.record_error(e);
            }
            for waiter in w.waiters {
                let _ = waiter.send(match &w.error {
                    None => Ok(()),
                    Some(e) => Err(copy_err(e)),
                });
            }
        }
        for a in batch.appends {
            match &a.error {
                None => {
                    s.append_writes.fetch_add(1, Ordering::Relaxed);
                }
                Some(e) => s.record_error(e),
            }
            for waiter in a.waiters {
                let _ = waiter.send(match &a.error {
                    None => Ok(()),
                    Some(e) => Err(copy_err(e)),
                });
            }
        }
        for f in batch.flushes {
            let _ = f.send(());
        }
    }
}
