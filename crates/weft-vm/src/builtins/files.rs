//! Path and file builtins (stdlib.md "Environment, files and processes"):
//! `path_join` `basename` `dirname` `extension` `abs_path` (pure string
//! operations, no file-system access) and `read_file` `exists` `list_dir`
//! `write_file` `append_file` `mkdir` `remove_file`.
//!
//! Relative paths resolve against the task's cwd (`vm.ctx`), never the
//! process cwd. The resolved path is normalised lexically (`.` and `..`
//! removed) and that exact path is both passed to the capability hook and
//! used for the file-system call, so what is checked is what is touched.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{sync, Args, BuiltinDef};
use crate::context::Capability;
use crate::error::{RtError, RtResult};
use crate::value::Value;
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("path_join", &["part", "..."], 1, u8::MAX, "environment", "Joins path parts with the separator; an absolute part replaces what came before.", path_join),
        sync("basename", &["path"], 1, 1, "environment", "The last component of a path (`\"a/b.txt\"` → `\"b.txt\"`), ignoring trailing slashes.", basename),
        sync("dirname", &["path"], 1, 1, "environment", "Everything before the last component (`\"a/b.txt\"` → `\"a\"`; `\".\"` when there is none).", dirname),
        sync("extension", &["path"], 1, 1, "environment", "The extension of the last component without the dot (`\"tar.gz\"` → `\"gz\"`), or `\"\"` when none.", extension),
        sync("abs_path", &["path"], 1, 1, "environment", "The absolute path, resolved against the task's cwd with `.` and `..` removed lexically.", abs_path),
        sync("read_file", &["path"], 1, 1, "environment", "The contents of a UTF-8 text file [fs.read].", read_file),
        sync("exists", &["path"], 1, 1, "environment", "Whether a file or directory exists at the path [fs.read].", exists),
        sync("list_dir", &["path"], 1, 1, "environment", "The sorted names of the entries of a directory [fs.read].", list_dir),
        sync("write_file", &["path", "text"], 2, 2, "environment", "Writes a string to a file, creating or replacing it [fs.write].", write_file),
        sync("append_file", &["path", "text"], 2, 2, "environment", "Appends a string to a file, creating it when missing [fs.write].", append_file),
        sync("mkdir", &["path"], 1, 1, "environment", "Creates a directory and any missing parents; fine if it already exists [fs.write].", mkdir),
        sync("remove_file", &["path"], 1, 1, "environment", "Deletes a file (not a directory) [fs.write].", remove_file),
    ]
}

// ---- pure path operations -------------------------------------------------

fn is_sep(c: char) -> bool {
    std::path::is_separator(c)
}

fn path_join(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let mut out = PathBuf::new();
    for i in 0..args.len() {
        out.push(args.str(i)?);
    }
    Ok(Value::str(out.to_string_lossy().into_owned()))
}

/// The last component of `path`, after stripping trailing separators.
fn base_of(path: &str) -> &str {
    let trimmed = path.trim_end_matches(is_sep);
    match trimmed.rfind(is_sep) {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

fn basename(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::str(base_of(args.str(0)?)))
}

fn dirname(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = args.str(0)?;
    let trimmed = path.trim_end_matches(is_sep);
    let dir = if trimmed.is_empty() {
        // "" has no directory part; "/" (or "///") is its own directory.
        if path.is_empty() {
            "."
        } else {
            &path[..1]
        }
    } else {
        match trimmed.rfind(is_sep) {
            None => ".",
            Some(i) => {
                let d = trimmed[..i].trim_end_matches(is_sep);
                if d.is_empty() {
                    &trimmed[..1]
                } else {
                    d
                }
            }
        }
    };
    Ok(Value::str(dir))
}

fn extension(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let base = base_of(args.str(0)?);
    // A leading dot names a hidden file (".bashrc"), not an extension.
    let ext = match base.rfind('.') {
        Some(i) if i > 0 => &base[i + 1..],
        _ => "",
    };
    Ok(Value::str(ext))
}

pub(crate) use crate::policy::normalize;

fn abs_path(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let resolved = normalize(&vm.ctx.resolve_path(args.str(0)?));
    Ok(Value::str(resolved.to_string_lossy().into_owned()))
}

// ---- file-system access ---------------------------------------------------

/// Argument `i` as a path: resolved against the task's cwd, normalised, and
/// checked against the capability hook before anything touches the disk.
fn checked_path(vm: &Vm, args: &Args, i: usize, cap: Capability) -> RtResult<PathBuf> {
    let resolved = normalize(&vm.ctx.resolve_path(args.str(i)?));
    vm.ctx
        .check_capability(cap, &resolved.display().to_string())?;
    Ok(resolved)
}

/// The OS reason without Rust's ` (os error N)` suffix.
fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// `NAME: cannot VERB 'PATH': REASON` as an `io_error`.
fn io_err(name: &str, verb: &str, path: &Path, e: &std::io::Error) -> Box<RtError> {
    RtError::new(
        "io_error",
        format!(
            "{name}: cannot {verb} '{}': {}",
            path.display(),
            os_reason(e)
        ),
    )
}

fn read_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = checked_path(vm, args, 0, Capability::FsRead)?;
    let bytes = match vm.program.limits.max_string_len {
        None => std::fs::read(&path).map_err(|e| io_err(args.name, "read", &path, &e))?,
        Some(max) => {
            // Read at most one byte past the limit (the file may be a pipe
            // or a device whose size is unknown).
            use std::io::Read;
            let err = |e: std::io::Error| io_err(args.name, "read", &path, &e);
            let file = std::fs::File::open(&path).map_err(err)?;
            let mut bytes = Vec::new();
            file.take(max as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(err)?;
            if bytes.len() > max {
                let size = std::fs::metadata(&path).map_or(0, |m| m.len() as usize);
                return Err(crate::value::limits::string_too_long(
                    size.max(bytes.len()),
                    max,
                ));
            }
            bytes
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Value::str(text)),
        Err(e) => Err(RtError::new(
            "io_error",
            format!(
                "{}: '{}' is not valid UTF-8 text (invalid byte at offset {})",
                args.name,
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )),
    }
}

fn exists(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = checked_path(vm, args, 0, Capability::FsRead)?;
    Ok(Value::Bool(path.exists()))
}

fn list_dir(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = checked_path(vm, args, 0, Capability::FsRead)?;
    let err = |e: std::io::Error| io_err(args.name, "list", &path, &e);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(err)? {
        let entry = entry.map_err(err)?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(Value::list(names.into_iter().map(Value::str).collect()))
}

fn write_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let path = checked_path(vm, args, 0, Capability::FsWrite)?;
    std::fs::write(&path, text).map_err(|e| io_err(args.name, "write", &path, &e))?;
    Ok(Value::Nil)
}

fn append_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let path = checked_path(vm, args, 0, Capability::FsWrite)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| io_err(args.name, "append to", &path, &e))?;
    Ok(Value::Nil)
}

fn mkdir(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = checked_path(vm, args, 0, Capability::FsWrite)?;
    std::fs::create_dir_all(&path).map_err(|e| io_err(args.name, "create directory", &path, &e))?;
    Ok(Value::Nil)
}

fn remove_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = checked_path(vm, args, 0, Capability::FsWrite)?;
    std::fs::remove_file(&path).map_err(|e| io_err(args.name, "remove", &path, &e))?;
    Ok(Value::Nil)
}
