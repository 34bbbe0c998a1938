//! Keyed cluster workers (issue 14 point 6): the cluster's `key` index and
//! re-attaching. A keyed worker placed on the cluster gets its id from the
//! `weft_keys` bucket (`{key, id, fingerprint}` under the SHA-256 of the
//! key), so a parent run again — here or on another machine, with or
//! without its state directory — uses the same worker id. Its cycle then
//! looks at the worker's record in `weft_workers` before queueing anything
//! ([`submit_or_attach`]): a completed worker's result is taken as it is, a
//! running or queued one is waited for, and only a missing, failed or
//! cancelled one is queued (again) — under a message id the queue
//! de-duplicates, so a parent that died right after queueing does not queue
//! the job twice.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::job::WorkerSnapshot;
use super::remote::RemoteCluster;
use super::{JobEnvelope, StateBucket, StateWriteError};

/// The `weft_keys` entry of `key` (any text; the bucket's keys are
/// restricted, so it is hashed).
fn key_entry(key: &str) -> String {
    let hex: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("worker_{hex}")
}

/// The id of the keyed worker `key` on the cluster: the indexed one when
/// the key is known (and was used for the same task and options), else
/// `candidate`, indexed now. `fresh` (`--fresh`) re-indexes the key to
/// `candidate`.
pub async fn worker_id_for_key(
    remote: &RemoteCluster,
    key: &str,
    fingerprint: &str,
    candidate: &str,
    fresh: bool,
) -> Result<String, String> {
    let entry = key_entry(key);
    let record = json!({"key": key, "id": candidate, "fingerprint": fingerprint});
    loop {
        let found = remote.state.read(StateBucket::Keys, &entry).await?;
        let expected = match &found {
            Some(f) if !fresh => {
                if f.value.get("fingerprint").and_then(|v| v.as_str()) != Some(fingerprint) {
                    return Err(format!("worker key '{key}' was used for a different task"));
                }
                return f
                    .value
                    .get("id")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| format!("weft_keys/{entry} on the cluster has no worker id"));
            }
            Some(f) => Some(f.revision),
            None => None,
        };
        match remote
            .state
            .write(StateBucket::Keys, &entry, &record, expected)
            .await
        {
            Ok(_) => return Ok(candidate.to_string()),
            // Another parent indexed the key meanwhile: use theirs.
            Err(StateWriteError::Stale { .. }) if !fresh => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Queues the job of keyed worker `envelope.worker_id` unless the cluster
/// already has it: returns the worker's record when it already completed
/// (the parent takes its result), `None` when the parent should wait for
/// the record (a job is queued or running).
pub async fn submit_or_attach(
    remote: &RemoteCluster,
    envelope: &JobEnvelope,
    labels: &super::labels::Labels,
) -> Result<Option<WorkerSnapshot>, String> {
    let id = &envelope.worker_id;
    loop {
        let found = remote.state.read(StateBucket::Workers, id).await?;
        let expected = match &found {
            None => None,
            Some(f) => {
                let snap: WorkerSnapshot =
                    serde_json::from_value(f.value.clone()).map_err(|e| {
                        format!("weft_workers/{id} on the cluster is not a worker snapshot ({e})")
                    })?;
                match snap.status.as_str() {
                    "completed" => return Ok(Some(snap)),
                    // Queued by an earlier run of the parent: queue it again
                    // under the same message id (dropped if still there).
                    "queued" => {
                        let mid = msg_id(id, f.revision);
                        super::remote::queue_job(remote, envelope, labels, Some(&mid)).await?;
                        return Ok(None);
                    }
                    // A new attempt, as for a local keyed worker.
                    "failed" | "cancelled" => Some(f.revision),
                    // A host runs it (or will, after its ack wait).
                    _ => return Ok(None),
                }
            }
        };
        let queued = WorkerSnapshot {
            id: id.clone(),
            status: "queued".into(),
            host: String::new(),
            deliveries: 0,
            envelope: serde_json::Value::Null,
            error: serde_json::Value::Null,
            mock_consumed: 0,
            checkpoint: serde_json::Value::Null,
            usage: serde_json::Value::Null,
            about: envelope
                .payload
                .get("about")
                .and_then(|a| serde_json::from_value(a.clone()).ok()),
        };
        let value = serde_json::to_value(&queued).map_err(|e| e.to_string())?;
        match remote
            .state
            .write(StateBucket::Workers, id, &value, expected)
            .await
        {
            Ok(revision) => {
                let mid = msg_id(id, revision);
                super::remote::queue_job(remote, envelope, labels, Some(&mid)).await?;
                return Ok(None);
            }
            // Someone else moved the record on: look again.
            Err(StateWriteError::Stale { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The queue's message id of worker `id`'s job queued at record revision
/// `revision`.
fn msg_id(id: &str, revision: u64) -> String {
    format!("{id}.{revision}")
}
