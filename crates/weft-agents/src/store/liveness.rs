//! Telling a live run from a dead one (issue 12): a process that writes
//! durable state holds an exclusive lock on its own file under
//! `<state>/live/` until it exits. The operating system drops the lock
//! when the process dies, however it dies (kill -9, a crash, power loss),
//! so a reader can tell: a record still `running`/`queued` while no live
//! process holds a lock on the state directory was cut short, and the
//! `list`/`show` commands show it as `interrupted` (a keyed re-run resumes
//! it). Stale lock files of dead processes are removed by the next reader.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// The folder of lock files under the state directory.
const DIR: &str = "live";

/// This process's lock on a state directory, held while it is alive.
#[derive(Debug)]
pub struct LiveLock {
    path: PathBuf,
    // Held for the lock; closing it (drop, or the process's death)
    // releases the lock.
    _file: File,
}

impl LiveLock {
    /// Creates `<state>/live/<pid>-<random>.lock` and locks it.
    pub fn take(state_dir: &Path) -> io::Result<LiveLock> {
        let dir = state_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "{}-{}.lock",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => io::Error::other("a fresh lock file is already locked"),
        })?;
        Ok(LiveLock { path, _file: file })
    }
}

impl Drop for LiveLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether some live process (this one included) holds a lock on
/// `state_dir`. Lock files whose process is gone are removed on the way.
pub fn in_use(state_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(state_dir.join(DIR)) else {
        return false;
    };
    let mut live = false;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "lock") {
            continue;
        }
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            continue;
        };
        match file.try_lock() {
            // Nobody holds it: its process is gone.
            Ok(()) => {
                let _ = std::fs::remove_file(&path);
            }
            Err(TryLockError::WouldBlock) => live = true,
            Err(TryLockError::Error(_)) => live = true,
        }
    }
    live
}

/// The status to show for a stored record's `status` when `in_use` says
/// whether a live process uses its state directory.
pub fn shown_status(status: &str, in_use: bool) -> &str {
    match status {
        "running" | "queued" if !in_use => "interrupted",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_means_in_use_and_a_released_one_is_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!in_use(dir.path()), "no live folder yet");
        let lock = LiveLock::take(dir.path()).unwrap();
        assert!(in_use(dir.path()));
        // A lock file left by a dead process: present but unlocked.
        let stale = dir.path().join("live/999999-dead.lock");
        std::fs::write(&stale, "").unwrap();
        assert!(in_use(dir.path()));
        assert!(!stale.exists(), "a stale lock file is removed");
        drop(lock);
        assert!(!in_use(dir.path()));
        assert_eq!(
            std::fs::read_dir(dir.path().join("live")).unwrap().count(),
            0
        );
    }

    #[test]
    fn running_records_of_a_dead_run_show_as_interrupted() {
        assert_eq!(shown_status("running", false), "interrupted");
        assert_eq!(shown_status("queued", false), "interrupted");
        assert_eq!(shown_status("running", true), "running");
        assert_eq!(shown_status("completed", false), "completed");
    }
}
