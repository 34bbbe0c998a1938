//! The cluster's records as `weft workers --cluster` and `weft runs
//! --cluster` show them, read-only: the `weft_workers` bucket (one record
//! per worker that was queued on the cluster, written by its host and, for
//! keyed workers, its parent) shaped like a local worker snapshot, and the
//! `weft_runs` bucket as stored. A reference is resolved exactly as in a
//! state directory (`records::pick`); a worker shown alone carries the
//! events the `WEFT_EVENTS` stream keeps for it.

use serde_json::{json, Value as Json};

use super::job::WorkerSnapshot;
use super::{Cluster, ClusterState, StateBucket};
use crate::records::{pick, RecordKind};

/// Everything `weft workers`/`weft runs` read on one cluster.
pub struct ClusterRecords {
    cluster: Cluster,
    state: ClusterState,
}

impl ClusterRecords {
    /// Opens the state buckets of a connected cluster (created empty when
    /// missing, as every Weft process on the cluster does).
    pub async fn open(cluster: Cluster, replicas: usize) -> Result<ClusterRecords, String> {
        let state = ClusterState::open(&cluster, replicas).await?;
        Ok(ClusterRecords { cluster, state })
    }

    /// Where the records are, for messages: `the cluster at URLS`.
    pub fn place(&self) -> String {
        format!("the cluster at {}", self.cluster.urls().display())
    }

    /// Every record of `kind`, oldest first (workers by creation, runs by
    /// `created_at`); an unreadable one is an `Err` naming it.
    pub async fn list(&self, kind: RecordKind) -> Result<Vec<Result<Json, String>>, String> {
        let bucket = match kind {
            RecordKind::Worker => StateBucket::Workers,
            RecordKind::Run => StateBucket::Runs,
        };
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for listed in self.state.list(bucket).await? {
            let shown = listed.and_then(|l| match kind {
                RecordKind::Worker => worker_view(&l.key, l.value, l.written_at),
                RecordKind::Run => Ok(l.value),
            });
            match shown {
                Ok(v) => ok.push(v),
                Err(e) => bad.push(Err(e)),
            }
        }
        ok.sort_by(|a, b| a["created_at"].as_str().cmp(&b["created_at"].as_str()));
        Ok(bad.into_iter().chain(ok.into_iter().map(Ok)).collect())
    }

    /// The one record `reference` names (id, unique id prefix, key, name);
    /// a worker comes with its events from the cluster.
    pub async fn show(&self, kind: RecordKind, reference: &str) -> Result<Json, String> {
        let rows: Vec<Json> = self
            .list(kind)
            .await?
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        let place = format!("on {}", self.place());
        let mut found = pick(kind, reference, &rows, &place)?;
        if kind == RecordKind::Worker {
            let id = found["id"].as_str().unwrap_or_default().to_string();
            let events = super::events::worker_events(&self.cluster, &id).await?;
            found["events"] = Json::Array(events);
        }
        Ok(found)
    }
}

/// A `weft_workers` record shaped like a local worker snapshot (workers.md
/// §6): the fields a local snapshot has that the cluster knows, plus
/// `placement`, `host`, `deliveries` and `mock_consumed`.
fn worker_view(key: &str, value: Json, written_at: Option<String>) -> Result<Json, String> {
    let snap: WorkerSnapshot = serde_json::from_value(value)
        .map_err(|e| format!("weft_workers/{key} on the cluster is not a worker record ({e})"))?;
    let about = snap.about.unwrap_or_default();
    let mut result = snap.envelope;
    let transcript = result
        .as_object_mut()
        .and_then(|m| m.remove("transcript"))
        .unwrap_or(Json::Null);
    // The envelope's usage is the whole run's; a running worker's record
    // has the usage of its last checkpoint.
    let usage = match result.get("usage") {
        Some(u) if !u.is_null() => u.clone(),
        _ => snap.usage,
    };
    let host = (!snap.host.is_empty()).then_some(snap.host);
    let created_at = if about.created_at.is_empty() {
        written_at.clone()
    } else {
        Some(about.created_at)
    };
    Ok(json!({
        "_type": "weft.worker", "version": 1, "id": snap.id, "key": about.key,
        "name": about.name, "placement": "cluster", "status": snap.status,
        "task": about.task, "host": host, "execution": {"host": host},
        "deliveries": snap.deliveries, "result": result, "error": snap.error,
        "transcript": transcript, "usage": usage, "parent_id": about.parent_id,
        "run_id": about.run_id, "checkpoint": snap.checkpoint,
        "mock_consumed": snap.mock_consumed,
        "created_at": created_at,
        "updated_at": written_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_record_looks_like_a_local_snapshot() {
        let record = json!({
            "id": "w_1", "status": "completed", "host": "h:7", "deliveries": 1,
            "envelope": {"text": "done", "usage": {"input_tokens": 3}, "transcript": {"messages": []}},
            "error": null, "mock_consumed": 2, "checkpoint": null, "usage": null,
            "about": {"name": "adder", "key": "k1", "task": "Add", "parent_id": null,
                      "run_id": null, "events_root": "w_1", "created_at": "2026-01-01T00:00:00+00:00"},
        });
        let v = worker_view("w_1", record, Some("2026-01-01T00:00:01+00:00".into())).unwrap();
        assert_eq!(v["name"], "adder");
        assert_eq!(v["key"], "k1");
        assert_eq!(v["execution"]["host"], "h:7");
        assert_eq!(v["usage"]["input_tokens"], 3);
        assert_eq!(v["transcript"]["messages"], json!([]));
        assert!(v["result"].get("transcript").is_none());
        assert_eq!(v["updated_at"], "2026-01-01T00:00:01+00:00");
    }

    #[test]
    fn a_record_that_is_not_a_worker_record_names_its_key() {
        let e = worker_view("w_2", json!({"nope": 1}), None).unwrap_err();
        assert!(e.contains("weft_workers/w_2"), "{e}");
    }
}
