//! Reading durable state back: JSON files, directory listings and versioned
//! records (`weft.worker` snapshots, `weft.run` records).
//!
//! Every function here returns a reason naming the path for any file
//! content — unreadable, empty, invalid JSON (with line and column), another
//! or no `_type`, a missing or unknown `version` — and never panics; callers
//! turn the reason into a `value_error` (workers.md §6).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::atomic::is_temp_name;

/// The largest state file read back (snapshots, run records): a hostile
/// state directory cannot make a load allocate without bound.
pub const MAX_STATE_FILE_BYTES: u64 = 256 << 20;

/// Reads and parses one JSON file: a regular file (not a FIFO, device or
/// symlink: an error, never a hang) of at most [`MAX_STATE_FILE_BYTES`].
pub fn read_json_file(path: &Path) -> Result<Value, String> {
    let bytes = weft_vm::confine::read_regular(path, MAX_STATE_FILE_BYTES)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_json(path, &bytes)
}

/// Parses the bytes of a JSON file (`path` names it in the reasons).
pub fn parse_json(path: &Path, bytes: &[u8]) -> Result<Value, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "{}: invalid JSON: the file is empty",
            path.display()
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; report it our way.
        let what = msg.split(" at line ").next().unwrap_or(&msg);
        format!(
            "{}: invalid JSON at line {}, column {}: {what}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Loads a versioned Weft record: a JSON object whose `_type` is
/// `expected_type` and whose `version` is between 1 and `supported_version`.
///
/// Reasons (each prefixed with the path): `cannot read: …`,
/// `invalid JSON at line L, column C: …`, `is not a Weft snapshot`,
/// `is a weft.run, expected weft.worker`,
/// `has no version (this build reads version 1)`,
/// `unknown version 7 (this build reads version 1)`.
pub fn load_record(
    path: &Path,
    expected_type: &str,
    supported_version: u64,
) -> Result<Value, String> {
    let value = read_json_file(path)?;
    check_record(path, &value, expected_type, supported_version)?;
    Ok(value)
}

/// The `_type`/`version` checks of [`load_record`] on a parsed value.
pub fn check_record(
    path: &Path,
    value: &Value,
    expected_type: &str,
    supported_version: u64,
) -> Result<(), String> {
    let p = path.display();
    let Some(obj) = value.as_object() else {
        return Err(format!("{p}: is not a Weft snapshot (not a JSON object)"));
    };
    match obj.get("_type").and_then(Value::as_str) {
        Some(t) if t == expected_type => {}
        Some(t) if t.starts_with("weft.") => {
            return Err(format!("{p}: is a {t}, expected {expected_type}"));
        }
        _ => return Err(format!("{p}: is not a Weft snapshot")),
    }
    let reads = format!("this build reads version {supported_version}");
    match obj.get("version") {
        None => Err(format!("{p}: has no version ({reads})")),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=supported_version).contains(&n) => Ok(()),
            _ => {
                let mut shown = v.to_string();
                if shown.chars().count() > 40 {
                    shown = shown.chars().take(40).chain(['…']).collect();
                }
                Err(format!("{p}: unknown version {shown} ({reads})"))
            }
        },
    }
}

/// The regular files directly in `dir`, sorted, without temporary leftovers
/// (`*.tmp-*`). A missing or unreadable directory gives an empty list.
pub fn list_dir(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !is_temp_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}
