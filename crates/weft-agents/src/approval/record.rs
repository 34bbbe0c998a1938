//! Approval records under `<state>/approvals/<id>.json`, written through
//! the store: the deterministic id of a request (so that running the
//! program again finds the answer given meanwhile), reading, listing and
//! answering (`weft approve`).

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::options::{ApprovalAnswer, ApprovalRequest};
use crate::store::Store;

/// The record type and version.
pub const TYPE: &str = "weft.approval";
pub const VERSION: u64 = 1;

/// The folder of approval records in the state directory.
pub const DIR: &str = "approvals";

/// `approvals/<id>.json`.
pub fn rel(id: &str) -> String {
    format!("{DIR}/{id}.json")
}

/// The id of the `nth` (0-based) request of `question` with `data` made by
/// `program` in `scope` (a keyed worker's key, or empty): `a_` and 16 hex
/// digits of a SHA-256.
pub fn approval_id(
    program: &str,
    scope: &str,
    req: &ApprovalRequest,
    nth: u32,
) -> (String, String) {
    let base = json!([program, scope, req.question, req.choices, req.data]).to_string();
    let base_hash = format!("{:x}", Sha256::digest(base.as_bytes()));
    let full = format!(
        "{:x}",
        Sha256::digest(format!("{base_hash}/{nth}").as_bytes())
    );
    (base_hash, format!("a_{}", &full[..16]))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

/// A new pending record.
pub fn pending(
    id: &str,
    req: &ApprovalRequest,
    program: &str,
    worker_id: Option<&str>,
    worker_key: Option<&str>,
) -> serde_json::Value {
    let mut r = json!({
        "_type": TYPE, "version": VERSION, "id": id, "status": "pending",
        "program": program, "worker_id": worker_id, "worker_key": worker_key,
        "requested_at": crate::workers::registry::now(), "requested_ms": now_ms(),
        "answer": null,
    });
    if let (Some(m), serde_json::Value::Object(q)) = (r.as_object_mut(), req.to_json()) {
        m.extend(q);
    }
    r
}

/// `record` with `answer` (status `approved`, `rejected`, or `timed_out`
/// when `by` is `timeout`).
pub fn answered(record: &serde_json::Value, answer: &ApprovalAnswer) -> serde_json::Value {
    let mut r = record.clone();
    let status = if answer.by == "timeout" {
        "timed_out"
    } else if answer.approved {
        "approved"
    } else {
        "rejected"
    };
    let at = crate::workers::registry::now();
    if let Some(m) = r.as_object_mut() {
        m.insert("status".into(), status.into());
        m.insert("answer".into(), answer.to_json(&at));
    }
    r
}

/// The stored answer of a record, if it has one.
pub fn stored_answer(record: &serde_json::Value) -> Option<(ApprovalAnswer, String)> {
    let a = record.get("answer")?;
    let at = a.get("at")?.as_str()?.to_string();
    Some((ApprovalAnswer::from_json(a)?, at))
}

/// The request stored in a record (for checking answers given later).
pub fn stored_request(record: &serde_json::Value) -> ApprovalRequest {
    let s = |k: &str| record.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let choices: Vec<String> = record
        .get("choices")
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let default = match record.get("default") {
        Some(serde_json::Value::Bool(b)) => Some((*b, None)),
        Some(serde_json::Value::String(c)) => Some((true, Some(c.clone()))),
        _ => None,
    };
    ApprovalRequest {
        question: s("question").unwrap_or_default(),
        choices,
        default,
        timeout_ms: record.get("timeout_ms").and_then(|t| t.as_u64()),
        data: record.get("data").cloned().unwrap_or_default(),
    }
}

/// Every approval record of `state_dir`, oldest request first; unreadable
/// records are errors naming the file.
pub fn list(state_dir: &Path) -> (Vec<serde_json::Value>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for path in crate::store::list_dir(&state_dir.join(DIR)) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match crate::store::load_record(&path, TYPE, VERSION) {
            Ok(v) => ok.push(v),
            Err(e) => bad.push(e),
        }
    }
    ok.sort_by_key(|v| v["requested_ms"].as_u64().unwrap_or(0));
    (ok, bad)
}

/// Answers the pending request `id` in `state_dir` (`weft approve`): the
/// answer is checked against the request and written atomically; returns
/// the updated record.
pub async fn answer(
    state_dir: &Path,
    id: &str,
    answer: &ApprovalAnswer,
) -> Result<serde_json::Value, String> {
    let store = Store::new(state_dir.to_path_buf(), true);
    let result = answer_in(&store, id, answer).await;
    store.close().await;
    result
}

async fn answer_in(
    store: &Store,
    id: &str,
    answer: &ApprovalAnswer,
) -> Result<serde_json::Value, String> {
    let path = store.state_dir().join(rel(id));
    if !path.exists() {
        return Err(format!(
            "no approval request {id} in {} (see `weft approvals list`)",
            store.state_dir().display()
        ));
    }
    let record = crate::store::load_record(&path, TYPE, VERSION)?;
    if record["status"] != "pending" {
        return Err(format!(
            "approval request {id} is already {} (answered {})",
            record["status"].as_str().unwrap_or("answered"),
            record["answer"]["at"].as_str().unwrap_or("before")
        ));
    }
    stored_request(&record)
        .check(answer)
        .map_err(|e| format!("cannot answer {id}: {e}"))?;
    let updated = answered(&record, answer);
    store
        .write_json(&rel(id), &updated)
        .await
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(updated)
}
