//! The spare-file pool: reusing the inodes that atomic writes replace.
//!
//! Replacing a file with `rename` frees the old inode. On this machine's
//! ext4 (no journal, `discard`) freeing is expensive twice over: the freed
//! blocks are discarded, and for a minute afterwards every file creation in
//! the same block group scans past the "recently deleted" inodes — measured
//! at 80–150 µs per rewrite instead of ~20 µs, growing with the number of
//! files rewritten. So on Linux the committer replaces an existing target
//! with `renameat2(RENAME_EXCHANGE)`: the temporary file becomes the target
//! and the old inode stays under the temporary name as a *spare*. A later
//! write in the same directory overwrites a spare in place (instead of
//! creating a file) and exchanges or renames it over its own target.
//!
//! The protocol stays crash-safe: a spare is only ever written while no
//! name a reader looks up points to it, and it becomes visible only through
//! the same sync → exchange/rename → directory-fsync sequence.
//!
//! A reader that opened a target just before it was replaced still holds
//! the old inode; overwriting it under that reader could show it mixed
//! content. Spares are therefore quarantined: one is reused only in a later
//! batch and after [`QUARANTINE`] — a reader would have to stall that long
//! between opening and reading a small file. The pool is bounded
//! ([`MAX_SPARES`] per directory; beyond that
//! old inodes are simply removed) and emptied when the committer has been
//! idle for [`IDLE_TRIM`] and when it stops, so only a crash leaves
//! `*.tmp-*` spares behind (readers ignore them).

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Spares kept per directory: one full batch. (Each one left at the end
/// costs an unlink, so the pool is no bigger than a burst needs.)
pub(crate) const MAX_SPARES: usize = super::commit::MAX_BATCH;

/// How long a spare rests before it is overwritten.
pub(crate) const QUARANTINE: Duration = Duration::from_millis(100);

/// Idle time after which the committer removes every spare (they only pay
/// off during bursts of rewrites).
pub(crate) const IDLE_TRIM: Duration = Duration::from_secs(1);

/// One spare: a file holding an old version, free for reuse.
struct Spare {
    path: PathBuf,
    /// The batch that produced it.
    batch: u64,
    at: Instant,
}

/// Spares by directory, oldest first.
#[derive(Default)]
pub(crate) struct SparePool {
    dirs: HashMap<PathBuf, VecDeque<Spare>>,
}

impl SparePool {
    /// A spare in `dir` old enough to be overwritten during batch `batch`.
    pub(crate) fn take(&mut self, dir: &Path, batch: u64, now: Instant) -> Option<PathBuf> {
        let q = self.dirs.get_mut(dir)?;
        let front = q.front()?;
        if front.batch >= batch || now.duration_since(front.at) < QUARANTINE {
            return None;
        }
        q.pop_front().map(|s| s.path)
    }

    /// Keeps `path` (an old version just exchanged out in batch `batch`) as
    /// a spare of `dir`, or gives it back when the pool is full.
    pub(crate) fn give(&mut self, dir: &Path, path: PathBuf, batch: u64) -> Result<(), PathBuf> {
        let q = self.dirs.entry(dir.to_path_buf()).or_default();
        if q.len() >= MAX_SPARES {
            return Err(path);
        }
        q.push_back(Spare {
            path,
            batch,
            at: Instant::now(),
        });
        Ok(())
    }

    /// Spares held, over all directories.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.dirs.values().map(VecDeque::len).sum()
    }

    /// Removes every spare file.
    pub(crate) fn clear(&mut self) {
        for (_, q) in self.dirs.drain() {
            for s in q {
                let _ = fs::remove_file(&s.path);
            }
        }
    }
}

impl Drop for SparePool {
    fn drop(&mut self) {
        self.clear();
    }
}
