//! `weft cache stats` and `weft cache clear`: the entries under
//! `<state>/cache/`, counted (entries, bytes, by kind, oldest and newest,
//! expired) or removed (all, or those older than a duration). A file
//! there that is not a readable cache entry is "corrupt": `stats` names it
//! and `clear` removes it. Removal goes through the store module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::{is_expired, now_ms, CACHE_DIR, ENTRY_TYPE};
use crate::store::Store;

/// One file of the cache directory.
struct Entry {
    path: PathBuf,
    bytes: u64,
    /// `Err(reason)` for a file that is not a readable cache entry.
    record: Result<Record, String>,
}

struct Record {
    kind: String,
    created_ms: u64,
    created_at: String,
    expired: bool,
}

fn scan(state_dir: &Path) -> Vec<Entry> {
    let now = now_ms();
    crate::store::list_dir(&state_dir.join(CACHE_DIR))
        .into_iter()
        .map(|path| {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let record = read(&path, now);
            Entry {
                path,
                bytes,
                record,
            }
        })
        .collect()
}

fn read(path: &Path, now: u64) -> Result<Record, String> {
    if path.extension().is_none_or(|e| e != "json") {
        return Err("not a cache entry (the name does not end in .json)".to_string());
    }
    let v = crate::store::load_record(path, ENTRY_TYPE, 1)?;
    let (Some(kind), Some(created_ms)) = (
        v.get("kind").and_then(|k| k.as_str()),
        v.get("created_ms").and_then(|c| c.as_u64()),
    ) else {
        return Err(format!(
            "{}: not a cache entry (no 'kind' or 'created_ms')",
            path.display()
        ));
    };
    Ok(Record {
        kind: kind.to_string(),
        created_ms,
        created_at: v
            .get("created_at")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string(),
        expired: is_expired(&v, now),
    })
}

fn file_name(path: &Path, state_dir: &Path) -> String {
    path.strip_prefix(state_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The cache's statistics as JSON: `{state_dir, entries, bytes, by_kind:
/// {KIND: {entries, bytes}}, oldest, newest, expired, corrupt: [{file,
/// bytes, reason}]}` (`oldest`/`newest` are creation times, nil when
/// empty; corrupt files are counted in `entries` and `bytes` too).
pub fn stats(state_dir: &Path) -> serde_json::Value {
    let entries = scan(state_dir);
    let mut by_kind: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut oldest: Option<(u64, String)> = None;
    let mut newest: Option<(u64, String)> = None;
    let mut expired = 0u64;
    let mut corrupt = Vec::new();
    for e in &entries {
        match &e.record {
            Ok(r) => {
                let slot = by_kind.entry(r.kind.clone()).or_default();
                slot.0 += 1;
                slot.1 += e.bytes;
                expired += u64::from(r.expired);
                let at = (r.created_ms, r.created_at.clone());
                if oldest.as_ref().is_none_or(|o| at.0 < o.0) {
                    oldest = Some(at.clone());
                }
                if newest.as_ref().is_none_or(|n| at.0 > n.0) {
                    newest = Some(at);
                }
            }
            Err(reason) => corrupt.push(json!({
                "file": file_name(&e.path, state_dir), "bytes": e.bytes, "reason": reason,
            })),
        }
    }
    json!({
        "state_dir": state_dir.display().to_string(),
        "entries": entries.len(),
        "bytes": entries.iter().map(|e| e.bytes).sum::<u64>(),
        "by_kind": by_kind.into_iter().map(|(k, (n, b))| (k, json!({"entries": n, "bytes": b})))
            .collect::<serde_json::Map<_, _>>(),
        "oldest": oldest.map(|o| o.1),
        "newest": newest.map(|n| n.1),
        "expired": expired,
        "corrupt": corrupt,
    })
}

/// Removes the entries created at least `older_than` ago (every entry
/// without it) and every corrupt file; returns `{state_dir, removed,
/// bytes, corrupt, kept}` (`corrupt`: how many of the removed were
/// corrupt). A file that cannot be removed is an error naming it.
pub fn clear(state_dir: &Path, older_than: Option<Duration>) -> Result<serde_json::Value, String> {
    let store = Store::new(state_dir.to_path_buf(), true);
    let cutoff = older_than.map(|d| now_ms().saturating_sub(d.as_millis() as u64));
    let (mut removed, mut bytes, mut corrupt, mut kept) = (0u64, 0u64, 0u64, 0u64);
    for e in scan(state_dir) {
        let remove = match (&e.record, cutoff) {
            (Err(_), _) | (Ok(_), None) => true,
            (Ok(r), Some(cut)) => r.created_ms <= cut,
        };
        if !remove {
            kept += 1;
            continue;
        }
        let rel = file_name(&e.path, state_dir);
        store.remove(&rel);
        if let Some(err) = store.last_error().filter(|_| e.path.exists()) {
            return Err(format!("cannot remove {}: {err}", e.path.display()));
        }
        removed += 1;
        bytes += e.bytes;
        corrupt += u64::from(e.record.is_err());
    }
    Ok(json!({
        "state_dir": state_dir.display().to_string(),
        "removed": removed, "bytes": bytes, "corrupt": corrupt, "kept": kept,
    }))
}
