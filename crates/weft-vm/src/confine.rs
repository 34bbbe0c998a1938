//! Confined file access: the one place where a path a script names becomes
//! a file-system operation (docs/security.md).
//!
//! Under a policy with `workspace_roots`, a path is first placed lexically
//! (after `.`/`..` folding) under one of the roots, and the operation is
//! then performed *relative to a directory handle opened on that root*
//! with `cap-std` (on Linux `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`,
//! elsewhere a component-by-component walk with `O_NOFOLLOW`). The kernel
//! resolves every symbolic link beneath the handle, in the same call that
//! opens the file, so there is nothing to race: a dangling link, a chain of
//! links, an absolute link or one flipped by another process between calls
//! can never reach a file outside the root — the open fails instead. Choosing
//! the root may canonicalise the existing prefix of the path (for a cwd that
//! goes through a symlink), but that result only selects a root and a
//! relative path; it never decides what is opened.
//!
//! Without roots the path is used as is (the policy allows anywhere).
//!
//! [`read_regular`] is the bounded reader for files that must be regular
//! (state files, imports, resumed snapshots): a FIFO or a device is an error,
//! not a hang, and a file larger than the bound is refused before reading.

use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions as CapOpenOptions};

use crate::policy::{normalize, resolve_real};

/// Directory handles on a policy's workspace roots, opened on first use and
/// kept for the policy's lifetime (shared by its clones; `Send`, as a host
/// builds its policy on one thread and runs on another).
///
/// A delegated policy's roots lie beneath its parent's: they are opened
/// *through the parent's handles* ([`RootDirs::beneath`]), never by path
/// from the process root, so a directory swapped for a symbolic link after
/// the child's policy was checked cannot move the child's root outside
/// the parent's.
#[derive(Clone, Default)]
pub struct RootDirs {
    open: Arc<Mutex<Vec<OpenRoot>>>,
    parent: Option<Arc<ParentRoots>>,
}

/// The roots (and their handles) a child's roots are opened beneath.
struct ParentRoots {
    roots: Vec<PathBuf>,
    dirs: RootDirs,
}

/// A root's path and its open directory handle.
type OpenRoot = (PathBuf, Arc<Dir>);

impl std::fmt::Debug for RootDirs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootDirs")
    }
}

impl PartialEq for RootDirs {
    /// Handles are a cache of the roots; two policies with equal roots are
    /// equal whatever they have opened.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for RootDirs {}

impl RootDirs {
    /// Handles for a policy derived from one with `roots` (`None` = no
    /// roots: anywhere) and handles `parent`. Roots equal to the parent's
    /// share its handles; narrower ones are opened beneath them.
    pub fn beneath(roots: Option<&[PathBuf]>, parent: &RootDirs) -> RootDirs {
        match roots {
            None => RootDirs::default(),
            Some(roots) => RootDirs {
                open: Arc::default(),
                parent: Some(Arc::new(ParentRoots {
                    roots: roots.to_vec(),
                    dirs: parent.clone(),
                })),
            },
        }
    }

    /// The handle on `root` (an absolute, canonical root of the policy).
    fn open(&self, root: &Path) -> io::Result<Arc<Dir>> {
        let mut dirs = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, d)) = dirs.iter().find(|(p, _)| p == root) {
            return Ok(d.clone());
        }
        let dir = match &self.parent {
            None => Arc::new(Dir::open_ambient_dir(root, ambient_authority())?),
            Some(parent) => {
                // The policy check placed `root` beneath one of these.
                let Some(base) = parent.roots.iter().find(|r| root.starts_with(r)) else {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("{} is outside the parent's workspace roots", root.display()),
                    ));
                };
                let base_dir = parent.dirs.open(base)?;
                match root.strip_prefix(base) {
                    Ok(rel) if !rel.as_os_str().is_empty() => Arc::new(base_dir.open_dir(rel)?),
                    _ => base_dir,
                }
            }
        };
        dirs.push((root.to_path_buf(), dir.clone()));
        Ok(dir)
    }
}

/// Why a path cannot be used: outside every root, or (found while opening)
/// it leads outside its root through a symbolic link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The path as checked (absolute, normalised).
    pub path: PathBuf,
    pub reason: String,
}

/// Where one path lands: an absolute path (no roots), or a root handle and
/// the path beneath it.
#[derive(Debug, Clone)]
pub struct FsTarget {
    /// The absolute, normalised path (for messages).
    pub shown: PathBuf,
    place: Place,
}

#[derive(Clone)]
enum Place {
    Ambient,
    Beneath {
        roots: RootDirs,
        root: PathBuf,
        /// Relative to the root; `.` for the root itself.
        rel: PathBuf,
    },
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Ambient => f.write_str("Ambient"),
            Place::Beneath { root, rel, .. } => write!(f, "Beneath({root:?}, {rel:?})"),
        }
    }
}

/// Places `path` (absolute) for a policy with `roots` (`None` = anywhere).
pub fn locate(
    roots: Option<&[PathBuf]>,
    dirs: &RootDirs,
    path: &Path,
) -> Result<FsTarget, Outside> {
    let shown = normalize(path);
    let Some(roots) = roots else {
        return Ok(FsTarget {
            shown,
            place: Place::Ambient,
        });
    };
    let beneath = |p: &Path| {
        roots.iter().find_map(|r| {
            p.strip_prefix(r).ok().map(|rel| Place::Beneath {
                roots: dirs.clone(),
                root: r.clone(),
                rel: if rel.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    rel.to_path_buf()
                },
            })
        })
    };
    if let Some(place) = beneath(&shown) {
        return Ok(FsTarget { shown, place });
    }
    // The cwd (or a directory on the way) may be a symlink into a root:
    // canonicalise only to choose the root; the open below stays beneath it.
    let real = resolve_real(&shown);
    if let Some(place) = beneath(&real) {
        return Ok(FsTarget { shown, place });
    }
    let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    Err(Outside {
        reason: format!(
            "{} is outside the workspace roots [{}]",
            real.display(),
            list.join(", ")
        ),
        path: shown,
    })
}

/// An error from an operation on a target: an escape through a symbolic
/// link (a capability denial) or an ordinary I/O error.
#[derive(Debug)]
pub enum FsError {
    Escape(Outside),
    Io(io::Error),
}

impl From<io::Error> for FsError {
    fn from(e: io::Error) -> Self {
        FsError::Io(e)
    }
}

/// What a bounded read found.
#[derive(Debug)]
pub enum ReadOutcome {
    Bytes(Vec<u8>),
    /// The file holds more than the bound: at least this many bytes.
    TooLong(u64),
}

/// `cap-std` reports an escape as `PermissionDenied` without an OS error
/// code (an `EACCES` from the kernel carries one).
fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_none()
}

impl FsTarget {
    fn escape(&self) -> FsError {
        let root = match &self.place {
            Place::Beneath { root, .. } => root.display().to_string(),
            Place::Ambient => String::new(),
        };
        FsError::Escape(Outside {
            path: self.shown.clone(),
            reason: format!(
                "{} leads outside the workspace root {root} (through a symbolic link or an absolute link target)",
                self.shown.display()
            ),
        })
    }

    fn map(&self, e: io::Error) -> FsError {
        if is_escape(&e) {
            self.escape()
        } else {
            FsError::Io(e)
        }
    }

    /// The root handle and relative path; opening a missing root is the
    /// root's own `NotFound`.
    fn dir(&self) -> Result<Option<(Arc<Dir>, &Path)>, FsError> {
        match &self.place {
            Place::Ambient => Ok(None),
            Place::Beneath { roots, root, rel } => {
                let dir = roots.open(root).map_err(|e| self.map(e))?;
                Ok(Some((dir, rel.as_path())))
            }
        }
    }

    /// Opens the file for reading without following it into a FIFO's
    /// blocking open; fails unless it is a regular file. `no_follow`: a
    /// symbolic link as the last component is refused (state files).
    fn open_regular(&self, no_follow: bool) -> Result<std::fs::File, FsError> {
        let file = match self.dir()? {
            None => {
                use std::os::unix::fs::OpenOptionsExt;
                let nofollow = if no_follow { libc::O_NOFOLLOW } else { 0 };
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK | nofollow)
                    .open(&self.shown)?
            }
            Some((dir, rel)) => {
                use cap_std::fs::OpenOptionsExt;
                let mut o = CapOpenOptions::new();
                o.read(true).custom_flags(libc::O_NONBLOCK);
                dir.open_with(rel, &o).map_err(|e| self.map(e))?.into_std()
            }
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            let what = if meta.is_dir() {
                "Is a directory"
            } else {
                "Not a regular file (a FIFO, device or socket)"
            };
            return Err(FsError::Io(io::Error::other(what)));
        }
        Ok(file)
    }

    /// Reads a regular file, at most `max` bytes (`None` = no bound).
    pub fn read(&self, max: Option<u64>) -> Result<ReadOutcome, FsError> {
        let file = self.open_regular(false)?;
        read_bounded(file, max).map_err(FsError::Io)
    }

    /// Writes `bytes`, creating the file or replacing (`append`: adding to)
    /// its contents.
    /// A FIFO or device is an error (opened non-blocking, so a FIFO without
    /// a reader does not hang).
    pub fn write(&self, bytes: &[u8], append: bool) -> Result<(), FsError> {
        let mut file = match self.dir()? {
            None => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .append(append)
                    .truncate(!append)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&self.shown)?
            }
            Some((dir, rel)) => {
                use cap_std::fs::OpenOptionsExt;
                let mut o = CapOpenOptions::new();
                o.write(true)
                    .create(true)
                    .append(append)
                    .truncate(!append)
                    .custom_flags(libc::O_NONBLOCK);
                dir.open_with(rel, &o).map_err(|e| self.map(e))?.into_std()
            }
        };
        if !file.metadata()?.is_file() {
            return Err(FsError::Io(io::Error::other(
                "Not a regular file (a FIFO, device or socket)",
            )));
        }
        file.write_all(bytes)?;
        Ok(())
    }

    /// Whether something exists at the path (following links beneath the
    /// root; a link leading out is an escape, not `false`).
    pub fn exists(&self) -> Result<bool, FsError> {
        match self.dir() {
            Ok(None) => Ok(self.shown.exists()),
            Ok(Some((dir, rel))) => dir.try_exists(rel).map_err(|e| self.map(e)),
            Err(FsError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether the path is a directory (following links beneath the root).
    pub fn is_dir(&self) -> Result<bool, FsError> {
        match self.dir()? {
            None => Ok(std::fs::metadata(&self.shown)?.is_dir()),
            Some((dir, rel)) => Ok(dir.metadata(rel).map_err(|e| self.map(e))?.is_dir()),
        }
    }

    /// The names of a directory's entries, sorted.
    pub fn list(&self) -> Result<Vec<String>, FsError> {
        let mut names = Vec::new();
        match self.dir()? {
            None => {
                for entry in std::fs::read_dir(&self.shown)? {
                    names.push(entry?.file_name().to_string_lossy().into_owned());
                }
            }
            Some((dir, rel)) => {
                let entries = if rel == Path::new(".") {
                    dir.entries()
                } else {
                    dir.read_dir(rel)
                };
                for entry in entries.map_err(|e| self.map(e))? {
                    names.push(entry?.file_name().to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Creates the directory and any missing parents (a missing root is
    /// created first: it is the policy's own path).
    pub fn mkdir_all(&self) -> Result<(), FsError> {
        match &self.place {
            Place::Ambient => Ok(std::fs::create_dir_all(&self.shown)?),
            Place::Beneath { roots, root, rel } => {
                let dir = match roots.open(root) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        std::fs::create_dir_all(root)?;
                        roots.open(root)?
                    }
                    other => other?,
                };
                if rel == Path::new(".") {
                    return Ok(());
                }
                dir.create_dir_all(rel).map_err(|e| self.map(e))
            }
        }
    }

    /// Removes a file (a symbolic link itself, never its target).
    pub fn remove_file(&self) -> Result<(), FsError> {
        match self.dir()? {
            None => Ok(std::fs::remove_file(&self.shown)?),
            Some((dir, rel)) => dir.remove_file(rel).map_err(|e| self.map(e)),
        }
    }

    /// Checks that the path is a directory that can be handed to another
    /// program (a child process's cwd, a git worktree): every component
    /// beneath the root is a real directory, not a symbolic link, so the
    /// program resolving the path by name lands where the check looked.
    pub fn check_plain_dir_path(&self) -> Result<(), FsError> {
        let Some((dir, rel)) = self.dir()? else {
            return Ok(());
        };
        let mut sub = PathBuf::new();
        for comp in rel.components() {
            let Component::Normal(name) = comp else {
                continue;
            };
            sub.push(name);
            match dir.symlink_metadata(&sub) {
                Ok(m) if m.file_type().is_symlink() => return Err(self.escape()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(self.map(e)),
            }
        }
        Ok(())
    }
}

/// Reads at most `max` bytes (one more to detect a longer file).
fn read_bounded(file: std::fs::File, max: Option<u64>) -> io::Result<ReadOutcome> {
    let size = file.metadata()?.len();
    if let Some(max) = max {
        if size > max {
            return Ok(ReadOutcome::TooLong(size));
        }
    }
    let mut bytes = Vec::with_capacity(size as usize);
    match max {
        None => {
            (&file).read_to_end(&mut bytes)?;
        }
        Some(max) => {
            file.take(max + 1).read_to_end(&mut bytes)?;
            if bytes.len() as u64 > max {
                return Ok(ReadOutcome::TooLong(bytes.len() as u64));
            }
        }
    }
    Ok(ReadOutcome::Bytes(bytes))
}

/// Reads a regular file of at most `max` bytes by path, outside any policy
/// (the host's own files: state files, the main script). A FIFO, a device
/// or a directory is an error (opened non-blocking, so a FIFO without a
/// writer does not hang), and so are a symbolic link (the store never
/// writes one) and a larger file.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let target = FsTarget {
        shown: path.to_path_buf(),
        place: Place::Ambient,
    };
    let read = target
        .open_regular(true)
        .and_then(|f| read_bounded(f, Some(max)).map_err(FsError::Io));
    match read {
        Ok(ReadOutcome::Bytes(b)) => Ok(b),
        Ok(ReadOutcome::TooLong(n)) => Err(io::Error::other(format!(
            "file too large ({n} bytes; at most {max})"
        ))),
        Err(FsError::Io(e)) => Err(e),
        Err(FsError::Escape(o)) => Err(io::Error::other(o.reason)),
    }
}

#[cfg(test)]
mod tests;
