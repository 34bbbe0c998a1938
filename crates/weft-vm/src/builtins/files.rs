//! Path and file builtins (stdlib.md "Environment, files and processes"):
//! `path_join` `basename` `dirname` `extension` `abs_path` (pure string
//! operations, no file-system access) and `read_file` `exists` `list_dir`
//! `write_file` `append_file` `mkdir` `remove_file`.
//!
//! Relative paths resolve against the task's cwd (`vm.ctx`), never the
//! process cwd. The resolved path is normalised lexically (`.` and `..`
//! removed), checked against the capability policy, and every operation
//! runs through the confinement layer (crate::confine): beneath a workspace
//! root's directory handle, so no symbolic link can lead it outside.

use std::path::PathBuf;

use super::{sync, Args, BuiltinDef};
use crate::confine::{FsTarget, ReadOutcome};
use crate::context::{fs_error, Capability};
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

/// Argument `i` as a confined target: resolved against the task's cwd,
/// normalised, checked against the capability policy and placed beneath a
/// workspace root's directory handle (crate::confine) before anything
/// touches the disk.
fn target(vm: &Vm, args: &Args, i: usize, cap: Capability) -> RtResult<FsTarget> {
    vm.ctx.fs_target(cap, args.str(i)?)
}

fn read_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = target(vm, args, 0, Capability::FsRead)?;
    let max = vm.program.limits.max_string_len;
    let err = |e| fs_error(args.name, "read", Capability::FsRead, &t, e);
    let bytes = match t.read(max.map(|m| m as u64)).map_err(err)? {
        ReadOutcome::Bytes(b) => b,
        ReadOutcome::TooLong(size) => {
            return Err(crate::value::limits::string_too_long(
                size as usize,
                max.unwrap_or(0),
            ))
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Value::str(text)),
        Err(e) => Err(RtError::new(
            "io_error",
            format!(
                "{}: '{}' is not valid UTF-8 text (invalid byte at offset {})",
                args.name,
                t.shown.display(),
                e.utf8_error().valid_up_to()
            ),
        )),
    }
}

fn exists(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = target(vm, args, 0, Capability::FsRead)?;
    let found = t
        .exists()
        .map_err(|e| fs_error(args.name, "check", Capability::FsRead, &t, e))?;
    Ok(Value::Bool(found))
}

fn list_dir(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = target(vm, args, 0, Capability::FsRead)?;
    let names = t
        .list()
        .map_err(|e| fs_error(args.name, "list", Capability::FsRead, &t, e))?;
    Ok(Value::list(names.into_iter().map(Value::str).collect()))
}

fn write_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let t = target(vm, args, 0, Capability::FsWrite)?;
    t.write(text.as_bytes(), false)
        .map_err(|e| fs_error(args.name, "write", Capability::FsWrite, &t, e))?;
    Ok(Value::Nil)
}

fn append_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let t = target(vm, args, 0, Capability::FsWrite)?;
    t.write(text.as_bytes(), true)
        .map_err(|e| fs_error(args.name, "append to", Capability::FsWrite, &t, e))?;
    Ok(Value::Nil)
}

fn mkdir(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = target(vm, args, 0, Capability::FsWrite)?;
    t.mkdir_all()
        .map_err(|e| fs_error(args.name, "create directory", Capability::FsWrite, &t, e))?;
    Ok(Value::Nil)
}

fn remove_file(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = target(vm, args, 0, Capability::FsWrite)?;
    t.remove_file()
        .map_err(|e| fs_error(args.name, "remove", Capability::FsWrite, &t, e))?;
    Ok(Value::Nil)
}
