//! Where the dashboard's data comes from: the [`StateSource`] trait (runs,
//! workers, the event log) and [`LocalState`], which reads a local state
//! directory through `weft::tooling`. A cluster backend implements the same
//! trait. Records are cached by file size and modification time, so a page
//! re-rendered on every live event re-reads only the files that changed.
//! Statuses are shown as `weft workers`/`weft runs` show them: a record
//! still `running`/`queued` with no live process on the directory is
//! `interrupted` (applied after the cache: liveness changes, files not).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value as Json;

use super::head::read_head;

/// A record (run or worker snapshot) shared between the cache and pages.
pub type Record = Arc<Json>;

/// Read access to the state the dashboard shows.
pub trait StateSource: Send + Sync + 'static {
    /// What the pages call the source (a directory, a cluster address).
    fn describe(&self) -> String;
    /// The list fields (see [`super::head`]) of every readable run record,
    /// and a message per unreadable one.
    fn runs(&self) -> (Vec<Record>, Vec<String>);
    /// The list fields of every readable worker snapshot, and a message
    /// per unreadable one.
    fn workers(&self) -> (Vec<Record>, Vec<String>);
    /// One run record by id.
    fn run(&self, id: &str) -> Result<Record, String>;
    /// One worker snapshot by id.
    fn worker(&self, id: &str) -> Result<Record, String>;
    /// Events of the log from byte `offset` on (whole lines only), and the
    /// offset after them. A log that shrank (rotated) restarts at 0.
    fn events_since(&self, offset: u64) -> (Vec<Json>, u64);
    /// The offset where the next event will be written.
    fn events_end(&self) -> u64;
}

/// A local state directory (`.weft/`, `--state-dir`, `WEFT_STATE_DIR`).
pub struct LocalState {
    dir: PathBuf,
    /// Whole records (the run and worker pages).
    cache: Mutex<HashMap<PathBuf, Cached>>,
    /// List fields (the runs list).
    heads: Mutex<HashMap<PathBuf, Cached>>,
}

struct Cached {
    stamp: (u64, Option<SystemTime>),
    record: Record,
}

/// An id as it may appear in a file name (no path separators, no dots).
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl LocalState {
    pub fn new(dir: PathBuf) -> LocalState {
        LocalState {
            dir,
            cache: Mutex::new(HashMap::new()),
            heads: Mutex::new(HashMap::new()),
        }
    }

    /// The whole record at `path` (a `type_name` record).
    fn load(&self, path: &Path, type_name: &str) -> Result<Record, String> {
        cached(&self.cache, path, || {
            weft::tooling::read_record(path, type_name, 1).map_err(|e| e.message().to_string())
        })
    }

    /// `records` with the cut-short ones shown `interrupted` (copies;
    /// the cached records stay as stored).
    fn shown(&self, mut records: Vec<Record>) -> Vec<Record> {
        let active = |r: &Record| matches!(r["status"].as_str(), Some("running" | "queued"));
        let at: Vec<usize> = (0..records.len())
            .filter(|&i| active(&records[i]))
            .collect();
        if at.is_empty() {
            return records;
        }
        let mut copies: Vec<Json> = at.iter().map(|&i| (*records[i]).clone()).collect();
        weft::tooling::mark_cut_short(&self.dir, copies.iter_mut());
        for (i, c) in at.into_iter().zip(copies) {
            records[i] = Arc::new(c);
        }
        records
    }

    /// The list fields of every record in `folder`.
    fn load_all(&self, folder: &str, type_name: &str) -> (Vec<Record>, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for path in weft::tooling::list_state_dir(&self.dir.join(folder)) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match cached(&self.heads, &path, || read_head(&path, type_name)) {
                Ok(r) => ok.push(r),
                Err(e) => bad.push(e),
            }
        }
        (self.shown(ok), bad)
    }

    fn load_one(
        &self,
        folder: &str,
        type_name: &str,
        what: &str,
        id: &str,
    ) -> Result<Record, String> {
        let path = self.dir.join(folder).join(format!("{id}.json"));
        if !safe_id(id) || !path.exists() {
            return Err(format!("no {what} {id} in {}", self.dir.display()));
        }
        let record = self.load(&path, type_name)?;
        Ok(self.shown(vec![record]).remove(0))
    }
}

/// `read()` of `path`, or its cached result while the file's size and
/// modification time are unchanged.
fn cached(
    cache: &Mutex<HashMap<PathBuf, Cached>>,
    path: &Path,
    read: impl FnOnce() -> Result<Json, String>,
) -> Result<Record, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let stamp = (meta.len(), meta.modified().ok());
    if let Some(c) = cache.lock().unwrap().get(path) {
        if c.stamp == stamp && stamp.1.is_some() {
            return Ok(c.record.clone());
        }
    }
    let record = Arc::new(read()?);
    cache.lock().unwrap().insert(
        path.to_path_buf(),
        Cached {
            stamp,
            record: record.clone(),
        },
    );
    Ok(record)
}

impl StateSource for LocalState {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn runs(&self) -> (Vec<Record>, Vec<String>) {
        self.load_all("runs", "weft.run")
    }

    fn workers(&self) -> (Vec<Record>, Vec<String>) {
        self.load_all("workers", "weft.worker")
    }

    fn run(&self, id: &str) -> Result<Record, String> {
        self.load_one("runs", "weft.run", "run", id)
    }

    fn worker(&self, id: &str) -> Result<Record, String> {
        self.load_one("workers", "weft.worker", "worker", id)
    }

    fn events_end(&self) -> u64 {
        std::fs::metadata(self.dir.join("events.jsonl")).map_or(0, |m| m.len())
    }

    fn events_since(&self, offset: u64) -> (Vec<Json>, u64) {
        use std::io::{Read, Seek, SeekFrom};
        let path = self.dir.join("events.jsonl");
        let Ok(mut file) = std::fs::File::open(&path) else {
            return (Vec::new(), 0);
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = if len < offset { 0 } else { offset };
        if file.seek(SeekFrom::Start(start)).is_err() {
            return (Vec::new(), start);
        }
        let mut bytes = Vec::new();
        if file.take(len - start).read_to_end(&mut bytes).is_err() {
            return (Vec::new(), start);
        }
        // Only whole lines: a line being written is read next time.
        let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let events = String::from_utf8_lossy(&bytes[..end])
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (events, start + end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_leave_the_state_directory() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalState::new(dir.path().to_path_buf());
        for id in ["../secret", "a/b", "", "..", "r_1.json"] {
            assert!(s.run(id).is_err(), "{id}");
        }
    }

    #[test]
    fn events_are_read_in_whole_lines_from_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalState::new(dir.path().to_path_buf());
        assert_eq!(s.events_since(0), (vec![], 0));
        let log = dir.path().join("events.jsonl");
        std::fs::write(&log, "{\"seq\":1}\n{\"seq\":2}\n{\"seq\"").unwrap();
        let (events, at) = s.events_since(0);
        assert_eq!(events.len(), 2);
        assert_eq!(at, 20);
        std::fs::write(&log, "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n").unwrap();
        let (events, at2) = s.events_since(at);
        assert_eq!(events, vec![serde_json::json!({"seq": 3})]);
        assert_eq!(at2, 30);
        // A log that shrank starts over.
        std::fs::write(&log, "{\"seq\":9}\n").unwrap();
        assert_eq!(s.events_since(at2).0.len(), 1);
    }

    #[test]
    fn a_changed_record_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("runs")).unwrap();
        let file = dir.path().join("runs/r_1.json");
        let rec = |status: &str| {
            serde_json::json!({"_type": "weft.run", "version": 1, "id": "r_1", "status": status, "task": "t", "workflow": "w"})
                .to_string()
        };
        std::fs::write(&file, rec("failed")).unwrap();
        let s = LocalState::new(dir.path().to_path_buf());
        assert_eq!(s.run("r_1").unwrap()["status"], "failed");
        std::fs::write(&file, rec("completed")).unwrap();
        assert_eq!(s.run("r_1").unwrap()["status"], "completed");
    }

    /// Like `weft runs list`: a record left `running` by a process that
    /// is gone is shown `interrupted`; while a process holds a lock under
    /// `live/`, it is `running`.
    #[test]
    fn a_run_cut_short_is_shown_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("runs")).unwrap();
        std::fs::create_dir(dir.path().join("workers")).unwrap();
        std::fs::write(
            dir.path().join("runs/r_1.json"),
            serde_json::json!({"_type": "weft.run", "version": 1, "id": "r_1", "status": "running",
                               "task": "t", "workflow": "w", "created_at": "2026-12-03T08:00:00Z"})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("workers/w_1.json"),
            serde_json::json!({"_type": "weft.worker", "version": 1, "id": "w_1", "status": "queued",
                               "task": "t", "created_at": "2026-12-03T08:00:00Z"})
            .to_string(),
        )
        .unwrap();
        let s = LocalState::new(dir.path().to_path_buf());
        assert_eq!(s.run("r_1").unwrap()["status"], "interrupted");
        assert_eq!(s.runs().0[0]["status"], "interrupted");
        assert_eq!(s.worker("w_1").unwrap()["status"], "interrupted");
        assert_eq!(s.workers().0[0]["status"], "interrupted");
        // A live writer: this test holds a lock file like a running `weft run`.
        std::fs::create_dir(dir.path().join("live")).unwrap();
        let lock = std::fs::File::create(dir.path().join("live/1-test.lock")).unwrap();
        lock.try_lock().unwrap();
        assert_eq!(s.run("r_1").unwrap()["status"], "running");
        assert_eq!(s.workers().0[0]["status"], "queued");
    }
}
