//! Durable key indexes (`<state>/keys/`, `<state>/run-keys/`) and task
//! fingerprints. A key file is named by the SHA-256 of the key (hex), so a
//! secret inside a key never appears in a file name; its content is
//! `{key, id}` (redacted like every write). Key files of the older format
//! (the key itself, or `x` + its hex, as the name) are still found, and
//! re-indexed under the hashed name the first time they are read.
//!
//! A stored worker or run matches a new call by its `fingerprint`: the
//! SHA-256 of the unredacted task and options, computed in memory before
//! anything is written, so a task holding an API key still matches (the
//! stored `task` is redacted) and the secret itself is never stored.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Store;

/// Lower-case hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file of `key` in the key index folder `dir` (`keys`, `run-keys`):
/// `DIR/<sha256 of the key, hex>.json`.
pub fn key_index_rel(dir: &str, key: &str) -> String {
    format!("{dir}/{}.json", sha256_hex(key.as_bytes()))
}

/// The file name older builds used for `key`: `DIR/KEY.json` for plain
/// names, else `DIR/x<hex of the key>.json`.
pub fn legacy_key_index_rel(dir: &str, key: &str) -> String {
    let plain = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain && key.len() <= 100 {
        format!("{dir}/{key}.json")
    } else {
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{dir}/x{}.json", &hex[..hex.len().min(200)])
    }
}

/// The fingerprint of what a keyed call was for (its task and options, as
/// JSON, unredacted): hex SHA-256 of the parts' compact JSON, in order.
pub fn fingerprint(parts: &[&Value]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.to_string().as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The id the index entry of `key` in `dir` names, if there is one. An
/// entry in the older format is moved to the hashed name (written, then
/// the old file removed).
pub async fn read_key_index(store: &Store, dir: &str, key: &str) -> Result<Option<String>, String> {
    let rel = key_index_rel(dir, key);
    if let Some(id) = read_entry(store, &rel)? {
        return Ok(Some(id));
    }
    let legacy = legacy_key_index_rel(dir, key);
    let Some(id) = read_entry(store, &legacy)? else {
        return Ok(None);
    };
    if store.persist() {
        let entry = json!({"key": key, "id": id});
        store
            .write_json(&rel, &entry)
            .await
            .map_err(|e| format!("{}: {e}", store.state_dir().join(&rel).display()))?;
        store.remove(&legacy);
    }
    Ok(Some(id))
}

/// The `id` of one index file, `None` when it does not exist.
fn read_entry(store: &Store, rel: &str) -> Result<Option<String>, String> {
    let Ok(path) = store.path(rel) else {
        return Ok(None);
    };
    if !path.exists() {
        return Ok(None);
    }
    let index = store.read_json(rel)?;
    match index.get("id").and_then(|v| v.as_str()) {
        Some(id) => Ok(Some(id.to_string())),
        None => Err(format!("{}: key index without an id", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_names_never_contain_the_key() {
        let rel = key_index_rel("keys", "sk-secret-123");
        assert!(!rel.contains("secret"), "{rel}");
        assert!(rel.starts_with("keys/") && rel.ends_with(".json"));
        assert_eq!(rel.len(), "keys/".len() + 64 + ".json".len());
        assert_ne!(rel, key_index_rel("keys", "sk-secret-124"));
        assert_eq!(legacy_key_index_rel("keys", "a-b"), "keys/a-b.json");
        assert_eq!(legacy_key_index_rel("keys", "a b"), "keys/x612062.json");
    }

    #[test]
    fn fingerprints_separate_parts() {
        let a = fingerprint(&[&json!("ab"), &json!("c")]);
        let b = fingerprint(&[&json!("a"), &json!("bc")]);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint(&[&json!("ab"), &json!("c")]));
    }
}
