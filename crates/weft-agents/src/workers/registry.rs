//! The worker registry of one program run (kept in
//! [`crate::state::AgentState::workers`]): every worker's live record
//! ([`Worker`]), the FIFO queue behind the concurrency limit, the event
//! sequence, and where events and snapshots go.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use indexmap::IndexMap;
use weft_vm::context::TaskContext;
use weft_vm::error::{value_error, RtResult};
use weft_vm::policy::CapabilityPolicy;
use weft_vm::value::{dict_from, dict_get, Value};

use super::options::WorkerOptions;
use crate::profile::Worktree;
use crate::store::Store;
use crate::transcript::Transcript;

/// Default program-wide limit of running workers.
pub const DEFAULT_MAX_CONCURRENT: usize = 16;

/// A worker's status (workers.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Awaiting,
    Completed,
    Failed,
    Cancelled,
    Interrupted,
    /// Stopped at a tool call whose approval parked; a re-run resumes
    /// from the checkpoint at that call (like `Interrupted`).
    AwaitingApproval,
}

impl Status {
    pub const NAMES: [&'static str; 8] = [
        "queued",
        "running",
        "awaiting",
        "completed",
        "failed",
        "cancelled",
        "interrupted",
        "awaiting_approval",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "awaiting" => Status::Awaiting,
            "completed" => Status::Completed,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            "interrupted" => Status::Interrupted,
            "awaiting_approval" => Status::AwaitingApproval,
            _ => return None,
        })
    }

    /// Stopped in the middle of a cycle with a checkpoint a re-run resumes
    /// from (`interrupted`, `awaiting_approval`).
    pub fn resumable(self) -> bool {
        matches!(self, Status::Interrupted | Status::AwaitingApproval)
    }

    /// Still queued or running (a cycle is in progress).
    pub fn active(self) -> bool {
        matches!(self, Status::Queued | Status::Running)
    }
}

/// Token and call counters of a worker, its children included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub iterations: u64,
    pub tool_calls: u64,
}

impl Usage {
    pub fn add(&mut self, o: &Usage) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.iterations += o.iterations;
        self.tool_calls += o.tool_calls;
    }

    /// `self - o`, each counter floored at 0.
    pub fn minus(self, o: &Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_sub(o.input_tokens),
            output_tokens: self.output_tokens.saturating_sub(o.output_tokens),
            iterations: self.iterations.saturating_sub(o.iterations),
            tool_calls: self.tool_calls.saturating_sub(o.tool_calls),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                           "iterations": self.iterations, "tool_calls": self.tool_calls})
    }

    pub fn from_json(v: &serde_json::Value) -> Usage {
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        Usage {
            input_tokens: n("input_tokens"),
            output_tokens: n("output_tokens"),
            iterations: n("iterations"),
            tool_calls: n("tool_calls"),
        }
    }
}

/// The live record of one worker.
pub struct Worker {
    pub id: String,
    /// The run a workflow worker works on (its latest cycle's).
    pub run_id: RefCell<Option<String>>,
    pub name: String,
    pub mode: &'static str,
    pub key: Option<String>,
    pub parent_id: Option<String>,
    pub depth: u32,
    /// The effective policy; its `Rc` address also identifies the worker
    /// from inside its own tasks (see [`Registry::current`]).
    pub policy: Rc<CapabilityPolicy>,
    /// The context its tasks run in (cwd/env of the execution profile,
    /// the narrowed policy).
    pub ctx: RefCell<TaskContext>,
    pub options: RefCell<Rc<WorkerOptions>>,
    pub status: Cell<Status>,
    /// The task of the current cycle (the spawn task, then each input).
    pub task: RefCell<String>,
    /// Every task/input given, oldest first.
    pub history: RefCell<Vec<String>>,
    pub result: RefCell<Value>,
    pub error: RefCell<Value>,
    pub usage: Cell<Usage>,
    pub created_at: String,
    pub started_at: RefCell<Option<String>>,
    pub finished_at: RefCell<Option<String>>,
    /// Events as JSON lines, oldest first.
    pub events: RefCell<Vec<String>>,
    pub children: RefCell<Vec<String>>,
    /// The worker's own transcript as the last cycle left it; `None` once
    /// a cycle ended with a result: then it is the result's `transcript`
    /// (kept once, see [`Worker::own_transcript`]).
    pub transcript: RefCell<Option<Transcript>>,
    /// `policy` as a dict (built once, shared by every handle).
    pub policy_value: Value,
    /// Checkpoint of the cycle in progress: `{iterations, input_tokens,
    /// output_tokens, tool_calls: [...]}`.
    pub checkpoint: RefCell<serde_json::Value>,
    /// Cycles started (0 before the first).
    pub cycles: Cell<usize>,
    pub attempt: Cell<u64>,
    /// The running cycle's task; aborting it cancels the worker.
    pub abort: RefCell<Option<tokio::task::AbortHandle>>,
    /// Set when the current cycle's terminal event was emitted.
    pub finalized: Cell<bool>,
    /// Set when the snapshot on disk holds the current terminal status
    /// (durable before any builtin reports it; `events.rs`).
    pub terminal_durable: Cell<bool>,
    /// The worker holds one of the limit's running slots.
    pub holds_slot: Cell<bool>,
    /// Runs outside the concurrency limit (foreground `sub_agent_run`).
    pub unlimited: Cell<bool>,
    pub done: tokio::sync::Notify,
    pub worktree: RefCell<Option<Worktree>>,
    pub execution: RefCell<Value>,
    /// Where the saved progress continues from (a resumed keyed worker).
    pub resume_from: RefCell<Option<serde_json::Value>>,
    /// Records of the cycles before the current one, written when
    /// `send_input` starts the next (see `replay.rs`).
    pub cycle_log: RefCell<Vec<serde_json::Value>>,
    /// Set while a re-run replays recorded cycles (`replay.rs`).
    pub replay: RefCell<Option<super::replay::Replay>>,
    /// The parent's session transcript at spawn (for `carry: fork`).
    pub parent_session: RefCell<Option<Transcript>>,
}

impl Worker {
    pub fn status(&self) -> Status {
        self.status.get()
    }

    /// The worker's own transcript so far (empty before the first cycle).
    pub fn own_transcript(&self) -> Transcript {
        if let Some(t) = &*self.transcript.borrow() {
            return t.clone();
        }
        if let Value::Dict(d) = &*self.result.borrow() {
            if let Some(t) = dict_get(d, "transcript").filter(|t| !t.is_nil()) {
                if let Ok(t) = Transcript::from_value(t, "worker") {
                    return t;
                }
            }
        }
        Transcript::new()
    }

    /// The handle dict (workers.md §2).
    pub fn handle(&self, store: Option<&Store>) -> Value {
        let u = self.usage.get();
        let opt = |s: &Option<String>| s.clone().map(Value::str).unwrap_or(Value::Nil);
        let persisted = store.is_some_and(|s| s.persist()) && self.options.borrow().carry.persist;
        let snapshot = match store {
            Some(s) if persisted => s
                .path(&format!("workers/{}.json", self.id))
                .map(|p| Value::str(p.to_string_lossy().into_owned()))
                .unwrap_or(Value::Nil),
            _ => Value::Nil,
        };
        // A terminal status is reported once its snapshot is durable
        // (`events.rs`); until then the worker still shows as running.
        let status = if persisted && !self.status().active() && !self.terminal_durable.get() {
            Status::Running
        } else {
            self.status()
        };
        dict_from([
            ("_type", Value::str("worker")),
            ("id", Value::str(self.id.clone())),
            ("name", Value::str(self.name.clone())),
            ("mode", Value::str(self.mode)),
            ("status", Value::str(status.name())),
            ("task", Value::str(self.task.borrow().clone())),
            ("result", self.result.borrow().clone()),
            ("error", self.error.borrow().clone()),
            (
                "usage",
                dict_from([
                    ("input_tokens", Value::Int(u.input_tokens as i64)),
                    ("output_tokens", Value::Int(u.output_tokens as i64)),
                    ("iterations", Value::Int(u.iterations as i64)),
                    ("tool_calls", Value::Int(u.tool_calls as i64)),
                ]),
            ),
            ("parent_id", opt(&self.parent_id)),
            ("depth", Value::Int(self.depth as i64)),
            ("policy", self.policy_value.clone()),
            ("execution", self.execution.borrow().clone()),
            ("snapshot_path", snapshot),
            ("created_at", Value::str(self.created_at.clone())),
            ("started_at", opt(&self.started_at.borrow())),
            ("finished_at", opt(&self.finished_at.borrow())),
        ])
    }
}

/// A host callback receiving every event.
pub type EventSink = Rc<dyn Fn(&serde_json::Value)>;

/// Where events go besides the worker's own list.
#[derive(Default)]
pub struct Sinks {
    /// `--events`: JSON lines on stderr.
    pub stderr: Cell<bool>,
    /// A host callback.
    pub host: RefCell<Option<EventSink>>,
    /// `--progress` is drawing (and how many lines it drew last).
    pub progress: Cell<bool>,
    pub progress_lines: Cell<usize>,
}

/// All workers of one program run.
#[derive(Default)]
pub struct Registry {
    pub workers: RefCell<IndexMap<String, Rc<Worker>>>,
    /// `Rc<CapabilityPolicy>` address → worker id.
    pub by_policy: RefCell<HashMap<usize, String>>,
    /// `key` → worker id (this run).
    pub by_key: RefCell<HashMap<String, String>>,
    pub seq: Cell<u64>,
    /// 0 = the default.
    pub max_concurrent: Cell<usize>,
    pub running: Cell<usize>,
    /// Workers this run has created, and the most it may (`max_run_workers`).
    pub created: Cell<usize>,
    pub max_created: Cell<Option<usize>>,
    pub queue: RefCell<VecDeque<String>>,
    pub sinks: Sinks,
    pub store: RefCell<Option<Rc<Store>>>,
    /// Host settings: `--fresh`.
    pub fresh: Cell<bool>,
    pub shutdown_registered: Cell<bool>,
    pub shutting_down: Cell<bool>,
    /// Workers whose snapshot is out of date (see `events::snapshot_later`).
    pub dirty: RefCell<indexmap::IndexSet<String>>,
    pub writer_active: Cell<bool>,
    /// Event lines not yet appended to `events.jsonl`.
    pub pending_events: RefCell<String>,
    /// The agent state holding this registry (for the writer task).
    pub owner: RefCell<std::rc::Weak<crate::state::AgentState>>,
}

impl Registry {
    pub fn limit(&self) -> usize {
        match self.max_concurrent.get() {
            0 => DEFAULT_MAX_CONCURRENT,
            n => n,
        }
    }

    pub fn store(&self) -> Option<Rc<Store>> {
        self.store.borrow().clone()
    }

    pub fn get(&self, id: &str) -> Option<Rc<Worker>> {
        self.workers.borrow().get(id).cloned()
    }

    /// The worker whose task runs with context `ctx`, if any.
    pub fn current(&self, ctx: &TaskContext) -> Option<Rc<Worker>> {
        let addr = Rc::as_ptr(&ctx.policy) as usize;
        let id = self.by_policy.borrow().get(&addr).cloned()?;
        self.get(&id)
    }

    pub fn insert(&self, w: Rc<Worker>) {
        self.by_policy
            .borrow_mut()
            .insert(Rc::as_ptr(&w.policy) as usize, w.id.clone());
        if let Some(k) = &w.key {
            self.by_key.borrow_mut().insert(k.clone(), w.id.clone());
        }
        self.workers.borrow_mut().insert(w.id.clone(), w);
    }

    /// The worker a handle argument names (the handle dict or its id).
    pub fn resolve(&self, v: &Value, who: &str) -> RtResult<Rc<Worker>> {
        let id = match v {
            Value::Str(s) => s.to_string(),
            Value::Dict(d) => match dict_get(d, "id") {
                Some(Value::Str(s)) if matches!(dict_get(d, "_type"), Some(Value::Str(t)) if t.as_str() == "worker") => {
                    s.to_string()
                }
                _ => {
                    return Err(weft_vm::error::type_error(format!(
                        "{who}: expected a worker handle or id, got a dict that is not a worker handle"
                    )));
                }
            },
            other => {
                return Err(weft_vm::error::type_error(format!(
                    "{who}: expected a worker handle or id, got {}",
                    other.type_name()
                )));
            }
        };
        self.get(&id)
            .ok_or_else(|| value_error(format!("unknown worker: {id}")))
    }
}

/// Now, RFC 3339.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}
