//! Low-level file operations behind one group commit: temporary files next
//! to their target, `syncfs`/`fsync`, and the directory `fsync` that makes a
//! rename durable.
//!
//! The protocol (run by `commit.rs` for a whole batch at once): write every
//! temporary file (`<name>.tmp-<uuid>` in the target's directory) → make the
//! data durable ([`syncfs`] once per filesystem, or [`fsync_file`] per file)
//! → `rename` each temporary over its target → [`fsync_dir`] each affected
//! directory once. A crash at any point leaves the old or the new file,
//! never a torn one; a crash before the rename leaves a `*.tmp-*` leftover
//! that readers ignore ([`is_temp_name`]). On Linux an existing target is
//! replaced with [`exchange`] instead of `rename`, keeping the old inode as
//! a spare that a later write [`overwrite`]s (`spares.rs` says why).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// The marker between a target's file name and the uuid of a temporary file.
const TEMP_MARKER: &str = ".tmp-";

/// Whether a file name is a temporary file of an atomic write (a leftover
/// when the process died between writing it and renaming it).
pub fn is_temp_name(name: &str) -> bool {
    name.contains(TEMP_MARKER)
}

/// A fresh temporary path next to `target`: `<name>.tmp-<uuid>`.
pub(crate) fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(
        "{name}{TEMP_MARKER}{}",
        uuid::Uuid::now_v7().simple()
    ))
}

/// Checks that `rel` is a relative path that stays inside the state
/// directory (only normal components; `.` is skipped) and joins it to `base`.
pub(crate) fn resolve(base: &Path, rel: &str) -> io::Result<PathBuf> {
    let mut out = base.to_path_buf();
    let mut any = false;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) => {
                let part_str = part.to_string_lossy();
                if is_temp_name(&part_str) {
                    return Err(invalid(rel, "names a temporary file"));
                }
                out.push(part);
                any = true;
            }
            Component::CurDir => {}
            _ => return Err(invalid(rel, "must stay inside the state directory")),
        }
    }
    if !any {
        return Err(invalid(rel, "is empty"));
    }
    Ok(out)
}

fn invalid(rel: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("state path '{rel}' {why}"),
    )
}

/// Creates `dir` if needed and checks that it is a directory in which a
/// file can be created (a temporary probe file, removed again).
pub(crate) fn probe_dir(dir: &Path) -> io::Result<()> {
    if let Ok(meta) = fs::metadata(dir) {
        if !meta.is_dir() {
            return Err(io::Error::other("it is not a directory"));
        }
    }
    fs::create_dir_all(dir)?;
    let probe = temp_path(&dir.join(".probe"));
    write_new(&probe, b"")?;
    fs::remove_file(&probe)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `path` (which must not exist) and writes all of `bytes`, then
/// closes it. Not yet durable.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)
}

/// Overwrites the existing file `path` (a spare) with exactly `bytes`, in
/// place: no new inode, and no freed blocks unless it shrinks. Not yet
/// durable.
pub(crate) fn overwrite(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.set_len(bytes.len() as u64)
}

/// Atomically swaps the files at `a` and `b` (`renameat2` with
/// `RENAME_EXCHANGE`): `NotFound` if either is missing, `Unsupported` where
/// the kernel or filesystem cannot exchange.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
        };
        let (ca, cb) = (c(a)?, c(b)?);
        // SAFETY: both are valid NUL-terminated paths for the whole call.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
                Err(io::Error::new(io::ErrorKind::Unsupported, e))
            }
            _ => Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "RENAME_EXCHANGE is Linux-only",
        ))
    }
}

/// Opens `path` for appending, creating it if needed.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// `fsync` of a file that was already written and closed.
pub(crate) fn fsync_file(path: &Path) -> io::Result<()> {
    OpenOptions::new().write(true).open(path)?.sync_all()
}

/// `fsync` of a directory, making the renames and creations in it durable.
/// A no-op where directories cannot be opened (non-unix).
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `syncfs(2)` of the filesystem holding `dir`: one call makes every file
/// written so far on that filesystem durable. `Unsupported` off Linux.
pub(crate) fn syncfs(dir: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        let f = File::open(dir)?;
        // SAFETY: `f` is an open file descriptor for the whole call.
        let rc = unsafe { libc::syncfs(f.as_raw_fd()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "syncfs is Linux-only",
        ))
    }
}

/// An id of the filesystem holding `dir` (the device number on unix), used
/// to issue one `syncfs` per filesystem.
pub(crate) fn device_of(dir: &Path) -> io::Result<u64> {
    let meta = fs::metadata(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(meta.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(0)
    }
}
