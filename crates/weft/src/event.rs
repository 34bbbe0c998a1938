//! [`Event`]: one entry of the event stream a host subscribes to with
//! [`Engine::on_event`](crate::Engine::on_event). Worker events
//! (workers.md §7: `worker_started`, `worker_progress`, `worker_completed`,
//! ...) and workflow run events (`run_started`, `stage_finished`, ...,
//! which add `run_id` and `workflow`) share one JSON shape:
//! `{seq, at, kind, worker_id?, data, ...}`. `Event` gives typed access to
//! the common fields and keeps the whole JSON for the rest.

use std::fmt;

/// One event. Cheap accessors for the common fields; [`Event::json`] for
/// everything.
///
/// ```
/// let ev = weft::Event::from_json(serde_json::json!({
///     "seq": 3, "at": "2026-01-01T00:00:00Z", "kind": "worker_completed",
///     "worker_id": "w_1", "data": {"status": "done"}
/// }));
/// assert_eq!((ev.kind(), ev.seq(), ev.worker_id()), ("worker_completed", 3, Some("w_1")));
/// assert!(ev.is_worker_event());
/// assert_eq!(ev.data()["status"], "done");
/// ```
#[derive(Clone, PartialEq)]
pub struct Event {
    json: serde_json::Value,
}

impl Event {
    /// Wraps an event's JSON (as the runtime emits it).
    pub fn from_json(json: serde_json::Value) -> Event {
        Event { json }
    }

    /// The kind: `worker_started`, `worker_completed`, `run_started`,
    /// `stage_finished`, ... (empty if the event has none).
    pub fn kind(&self) -> &str {
        self.json["kind"].as_str().unwrap_or("")
    }

    /// The sequence number, +1 per event of a run (0 if absent).
    pub fn seq(&self) -> u64 {
        self.json["seq"].as_u64().unwrap_or(0)
    }

    /// When it happened (RFC 3339), if recorded.
    pub fn at(&self) -> Option<&str> {
        self.json["at"].as_str()
    }

    /// The worker it concerns, for worker events.
    pub fn worker_id(&self) -> Option<&str> {
        self.json["worker_id"].as_str()
    }

    /// The workflow run it concerns, for run events.
    pub fn run_id(&self) -> Option<&str> {
        self.json["run_id"].as_str()
    }

    /// Whether this is a workflow run event (`run_*`, `stage_*`).
    pub fn is_run_event(&self) -> bool {
        self.kind().starts_with("run_") || self.kind().starts_with("stage_")
    }

    /// Whether this is a worker event (`worker_*`).
    pub fn is_worker_event(&self) -> bool {
        self.kind().starts_with("worker_")
    }

    /// The kind-specific payload (`null` if absent).
    pub fn data(&self) -> &serde_json::Value {
        &self.json["data"]
    }

    /// The whole event as JSON.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}

impl fmt::Debug for Event {
    /// The event's JSON on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.json)
    }
}

impl fmt::Display for Event {
    /// The event's JSON on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.json)
    }
}
