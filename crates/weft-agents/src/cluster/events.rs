//! Worker events over NATS (issue 14 point 5). A host publishes every
//! event of a job's workers (the same JSON as a local worker event,
//! workers.md §7, plus `host`) on `weft.events.<run-or-root>.<worker>`,
//! `<worker>` being the job's worker as its parent knows it; the stream
//! `WEFT_EVENTS` keeps them ([`MAX_AGE`], [`MAX_BYTES`]).
//!
//! - Host side ([`HostEvents`]): an event sink on the job's engine queues
//!   each event for one publisher task (so they go out in order); the job's
//!   own worker's host-local id is replaced by the parent's id, and the job
//!   waits until the cluster stored them all before it records its result.
//! - Parent side ([`Relay`]): while a remote cycle runs, the parent
//!   subscribes to its worker's subject and emits each host event into its
//!   own run (`worker_events`, `--events`, `events.jsonl`) with a `seq` of
//!   the parent run (the host's is kept as `host_seq`). The host's own
//!   lifecycle events of the job's worker (queued, started, completed,
//!   failed, cancelled) are not relayed: the parent emits those itself.
//! - Tools ([`worker_events`]): every event the stream keeps for a worker
//!   (`weft workers show --cluster`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use weft_vm::vm::Program;

use super::job::WorkerAbout;
use super::ready::{retry_while_starting, STARTUP_GRACE};
use super::Cluster;
use crate::state::AgentState;
use crate::workers::registry::{now, Registry, Worker};

/// The stream keeping worker events.
pub const EVENTS_STREAM: &str = "WEFT_EVENTS";
/// How long the stream keeps an event.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// How many bytes of events the stream keeps (the oldest go first).
pub const MAX_BYTES: i64 = 1 << 30;

/// Lifecycle events of the job's worker that its parent emits itself.
const PARENT_EMITS: &[&str] = &[
    "worker_queued",
    "worker_started",
    "worker_completed",
    "worker_failed",
    "worker_cancelled",
];

/// How long a parent waits, after the host's result, for host events
/// still on their way.
const LATE_EVENTS_WAIT: Duration = Duration::from_secs(1);

/// The subject of worker `worker`'s events.
pub fn subject(root: &str, worker: &str) -> String {
    format!("weft.events.{}.{}", token(root), token(worker))
}

/// `text` as one subject token (ids are; anything else is made so).
fn token(text: &str) -> String {
    let t: String = text
        .chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect();
    if t.is_empty() {
        "_".to_string()
    } else {
        t
    }
}

/// Creates (or finds) the events stream.
pub async fn open_stream(cluster: &Cluster, replicas: usize) -> Result<stream::Stream, String> {
    let js = cluster.jetstream();
    retry_while_starting(STARTUP_GRACE, move || async move {
        js.get_or_create_stream(stream::Config {
            name: EVENTS_STREAM.to_string(),
            subjects: vec!["weft.events.>".to_string()],
            max_age: MAX_AGE,
            max_bytes: MAX_BYTES,
            discard: stream::DiscardPolicy::Old,
            num_replicas: replicas,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot create stream {EVENTS_STREAM} on the cluster: {e}"))
    })
    .await
}

/// Who `w` is, for its job and its record on the cluster.
pub fn about(reg: &Registry, w: &Worker) -> WorkerAbout {
    WorkerAbout {
        name: w.name.clone(),
        key: w.key.clone(),
        task: w.task.borrow().clone(),
        parent_id: w.parent_id.clone(),
        run_id: w.run_id.borrow().clone(),
        events_root: events_root(reg, w),
        created_at: w.created_at.clone(),
    }
}

/// The `<run-or-root>` of `w`'s events: its workflow run, else its
/// top-level ancestor in this run (itself when top-level).
fn events_root(reg: &Registry, w: &Worker) -> String {
    if let Some(run) = w.run_id.borrow().clone() {
        return run;
    }
    let mut root = w.id.clone();
    let mut parent = w.parent_id.clone();
    while let Some(p) = parent {
        match reg.get(&p) {
            Some(pw) => {
                root = pw.id.clone();
                parent = pw.parent_id.clone();
            }
            None => {
                root = p;
                break;
            }
        }
    }
    root
}

/// A job's event publisher on its host.
pub struct HostEvents {
    program: Rc<Program>,
    previous: Option<crate::workers::registry::EventSink>,
    task: tokio::task::JoinHandle<()>,
}

impl HostEvents {
    /// Publishes the events of `program`'s workers (a job's engine) as
    /// events of worker `worker_id` from now on.
    pub fn install(
        program: &Rc<Program>,
        js: jetstream::Context,
        worker_id: &str,
        about: Option<&WorkerAbout>,
        host: &str,
    ) -> HostEvents {
        let root = about.map_or(worker_id, |a| a.events_root.as_str());
        let subject = subject(root, worker_id);
        let (tx, rx) = mpsc::unbounded_channel::<Json>();
        let state = program.ext::<AgentState>();
        let previous = state.workers.sinks.host.borrow_mut().take();
        let chained = previous.clone();
        *state.workers.sinks.host.borrow_mut() = Some(Rc::new(move |ev: &Json| {
            if let Some(p) = &chained {
                p(ev);
            }
            let _ = tx.send(ev.clone());
        }));
        let task = tokio::task::spawn_local(publish_all(
            js,
            subject,
            rx,
            worker_id.to_string(),
            host.to_string(),
        ));
        HostEvents {
            program: program.clone(),
            previous,
            task,
        }
    }

    /// Stops taking events and waits (bounded) until the cluster stored
    /// those taken, so they are there before the job's result is.
    pub async fn finish(self) {
        let state = self.program.ext::<AgentState>();
        *state.workers.sinks.host.borrow_mut() = self.previous;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

/// Publishes each event in turn (one connection: they are stored in
/// order), then waits for the acknowledgements.
async fn publish_all(
    js: jetstream::Context,
    subject: String,
    mut rx: mpsc::UnboundedReceiver<Json>,
    worker_id: String,
    host: String,
) {
    let mut local_id: Option<String> = None;
    let mut acks = Vec::new();
    let mut failed = false;
    while let Some(mut ev) = rx.recv().await {
        as_parent_sees_it(&mut ev, &mut local_id, &worker_id, &host);
        match js.publish(subject.clone(), ev.to_string().into()).await {
            Ok(ack) => acks.push(ack),
            Err(e) if !failed => {
                failed = true;
                eprintln!("weft host: cannot publish worker {worker_id}'s events: {e}");
            }
            Err(_) => {}
        }
    }
    for ack in acks {
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), ack).await {
            if !failed {
                failed = true;
                eprintln!("weft host: the cluster did not store worker {worker_id}'s events: {e}");
            }
        }
    }
}

/// Rewrites a host event for the parent: the job's worker (the first
/// top-level worker of the job's engine) gets its parent-side id, also as
/// its children's `parent_id`; `host` says where it happened.
fn as_parent_sees_it(ev: &mut Json, local_id: &mut Option<String>, worker_id: &str, host: &str) {
    let Some(obj) = ev.as_object_mut() else {
        return;
    };
    if local_id.is_none() && obj.get("parent_id").is_none_or(Json::is_null) {
        *local_id = obj
            .get("worker_id")
            .and_then(Json::as_str)
            .map(str::to_string);
    }
    if let Some(local) = local_id.as_deref() {
        for field in ["worker_id", "parent_id"] {
            if obj.get(field).and_then(Json::as_str) == Some(local) {
                obj.insert(field.to_string(), worker_id.into());
            }
        }
    }
    obj.insert("host".to_string(), host.into());
}

/// Relays a remote worker's host events into the parent run while its
/// cycle runs; dropped (a cancelled cycle), it stops.
pub struct Relay {
    task: tokio::task::JoinHandle<()>,
    received: Rc<Cell<usize>>,
    host_finished: Rc<Cell<bool>>,
}

impl Relay {
    /// Subscribes to `w`'s events (before its job is queued, so none is
    /// missed).
    pub async fn start(
        cluster: &Cluster,
        program: &Rc<Program>,
        w: &Rc<Worker>,
    ) -> Result<Relay, String> {
        let subject = format!("weft.events.*.{}", token(&w.id));
        let mut sub = cluster
            .client()
            .subscribe(subject)
            .await
            .map_err(|e| format!("cannot subscribe to worker {}'s events: {e}", w.id))?;
        let received = Rc::new(Cell::new(0usize));
        let host_finished = Rc::new(Cell::new(false));
        let (program, w2) = (program.clone(), w.clone());
        let (received2, finished2) = (received.clone(), host_finished.clone());
        let task = tokio::task::spawn_local(async move {
            while let Some(message) = sub.next().await {
                let Ok(ev) = serde_json::from_slice::<Json>(&message.payload) else {
                    continue;
                };
                received2.set(received2.get() + 1);
                if relay(&program, &w2, ev) {
                    finished2.set(true);
                }
            }
        });
        Ok(Relay {
            task,
            received,
            host_finished,
        })
    }

    /// After the host's result: waits (at most [`LATE_EVENTS_WAIT`]) for
    /// the host's last event of the worker when its events were arriving,
    /// then stops.
    pub async fn finish(self) {
        let deadline = tokio::time::Instant::now() + LATE_EVENTS_WAIT;
        while self.received.get() > 0
            && !self.host_finished.get()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Emits host event `ev` of remote worker `w` in the parent run; returns
/// whether it was the host's terminal event of `w`.
fn relay(program: &Program, w: &Worker, mut ev: Json) -> bool {
    let own = ev.get("worker_id").and_then(Json::as_str) == Some(w.id.as_str());
    let kind = ev.get("kind").and_then(Json::as_str).unwrap_or("");
    if own && PARENT_EMITS.contains(&kind) {
        return kind != "worker_queued" && kind != "worker_started";
    }
    let state = program.ext::<AgentState>();
    let reg = &state.workers;
    let seq = reg.seq.get() + 1;
    reg.seq.set(seq);
    if let Some(obj) = ev.as_object_mut() {
        let host_seq = obj.remove("seq").unwrap_or(Json::Null);
        obj.insert("seq".into(), seq.into());
        obj.insert("host_seq".into(), host_seq);
        if !obj.contains_key("at") {
            obj.insert("at".into(), now().into());
        }
        if own {
            obj.insert("parent_id".into(), w.parent_id.clone().into());
        }
    }
    let line = crate::workers::events::publish(reg, &ev);
    if own {
        w.events.borrow_mut().push(line);
    }
    false
}

/// Every event the cluster keeps for worker `worker_id`, oldest first
/// (none when the stream does not exist yet).
pub async fn worker_events(cluster: &Cluster, worker_id: &str) -> Result<Vec<Json>, String> {
    let Ok(stream) = cluster.jetstream().get_stream(EVENTS_STREAM).await else {
        return Ok(Vec::new());
    };
    let filter = format!("weft.events.*.{}", token(worker_id));
    let messages = super::scan::scan(&stream, &filter, consumer::DeliverPolicy::All).await?;
    Ok(messages
        .iter()
        .filter_map(|m| serde_json::from_slice(&m.payload).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subjects_are_made_of_valid_tokens() {
        assert_eq!(subject("r_1", "w_2"), "weft.events.r_1.w_2");
        assert_eq!(subject("a.b *", ""), "weft.events.a_b__._");
    }

    #[test]
    fn the_jobs_worker_takes_its_parent_side_id() {
        let mut local = None;
        let mut top = json!({"worker_id": "w_local", "parent_id": null, "kind": "worker_started"});
        as_parent_sees_it(&mut top, &mut local, "w_parent", "h:1");
        assert_eq!(top["worker_id"], "w_parent");
        assert_eq!(top["host"], "h:1");
        let mut child =
            json!({"worker_id": "w_child", "parent_id": "w_local", "kind": "tool_finished"});
        as_parent_sees_it(&mut child, &mut local, "w_parent", "h:1");
        assert_eq!(child["worker_id"], "w_child");
        assert_eq!(child["parent_id"], "w_parent");
    }
}
