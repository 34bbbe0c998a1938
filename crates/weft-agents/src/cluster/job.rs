//! The content of a worker job and of a remote worker's snapshot, as they
//! travel between a `weft run` and the hosts: [`WorkerJob`] is the payload
//! of a [`super::JobEnvelope`] on the queue, [`WorkerSnapshot`] the record
//! a host keeps in the `weft_workers` bucket (written by compare-and-set),
//! from which the parent takes the worker's result.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of a function reference in travelling options:
/// `{"$weft_fn": "NAME"}` names a top-level function of the bundle.
pub const FN_REF_KEY: &str = "$weft_fn";

/// What a host needs to run one worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerJob {
    /// Hash of the program bundle in the object store.
    pub bundle: String,
    pub task: String,
    /// The worker's options as JSON, functions as `{"$weft_fn": NAME}`.
    pub options: Value,
    /// The worker's policy, already narrowed by the parent (dict form,
    /// roots absolute); the host narrows it again by its own ceiling.
    pub policy: Value,
    /// The parent's working directory for the worker.
    pub cwd: String,
    /// The parent's waiting `llm_mock` responses (llm_mock's dict form),
    /// oldest first; the worker may consume them.
    pub llm_mock: Vec<Value>,
    /// The host labels the job asks for (`placement: {labels: ...}`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: super::labels::Labels,
    /// Who the worker is in its parent's run (kept in its snapshot, so
    /// `weft workers list --cluster` can show it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<WorkerAbout>,
}

/// A remote worker as its parent run knows it: what `weft workers list
/// --cluster` shows besides the host's record, and where its events go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerAbout {
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
    pub task: String,
    /// Its parent worker in the parent run (none for a top-level worker).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The workflow run it belongs to, if any.
    #[serde(default)]
    pub run_id: Option<String>,
    /// The `<run-or-root>` token of its events' subject
    /// (`weft.events.<run-or-root>.<worker>`, `events.rs`).
    pub events_root: String,
    pub created_at: String,
}

/// A remote worker's record in `weft_workers/<worker id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerSnapshot {
    pub id: String,
    /// `running`, then `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The host running (or that ran) it.
    pub host: String,
    /// How often the queue had delivered the job when this host took it.
    #[serde(default)]
    pub deliveries: i64,
    /// The result envelope (as `sub_agent_run` returns it), or null.
    #[serde(default)]
    pub envelope: Value,
    /// `{category, message}` when it failed, else null.
    #[serde(default)]
    pub error: Value,
    /// How many of the job's `llm_mock` responses the worker consumed.
    #[serde(default)]
    pub mock_consumed: usize,
    /// While running: the worker's last checkpoint (transcript, progress,
    /// in-flight tool records; `workers/durable.rs`), which a host that
    /// takes the job over resumes from; null before the first one.
    #[serde(default)]
    pub checkpoint: Value,
    /// The usage the checkpoint accounts for.
    #[serde(default)]
    pub usage: Value,
    /// Who the worker is (from its job), when its parent said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<WorkerAbout>,
}

impl WorkerSnapshot {
    /// Whether the worker finished (the parent stops waiting).
    pub fn is_terminal(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

/// The subject a parent publishes on to cancel a remote worker.
pub fn cancel_subject(worker_id: &str) -> String {
    format!("weft.cancel.{worker_id}")
}
