//! The run record (workflows.md §4): `{_type: "weft.run", version: 1, id,
//! key, workflow, task, status, stages, outputs, transitions, pending,
//! usage, path, created_at, finished_at}` plus what resume and replay need
//! (`definition`, each stage's `input`, `steps`). Records are written
//! through the store to `<state>/runs/<id>.json`; keys are indexed in
//! `<state>/run-keys/`.

use indexmap::IndexMap;
use serde_json::json;
use weft_vm::value::{from_json, Value};

use crate::workers::options::value_json;
use crate::workers::registry::{now, Usage};

/// One node execution.
#[derive(Clone)]
pub struct StageRecord {
    pub node: String,
    pub kind: String,
    /// `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub branch: Option<String>,
    pub output: Value,
    pub error: Value,
    pub attempts: u32,
    pub worker_id: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub usage: Usage,
    pub input: serde_json::Value,
    /// The stage's result came from the cache.
    pub cached: bool,
}

impl StageRecord {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "node": self.node, "kind": self.kind, "status": self.status, "branch": self.branch,
            "output": value_json(&self.output), "error": value_json(&self.error),
            "attempts": self.attempts, "worker_id": self.worker_id, "started_at": self.started_at,
            "finished_at": self.finished_at, "usage": self.usage.to_json(), "input": self.input,
            "cached": self.cached,
        })
    }

    pub fn from_json(j: &serde_json::Value) -> StageRecord {
        let s = |k: &str| j.get(k).and_then(|v| v.as_str()).map(str::to_string);
        StageRecord {
            node: s("node").unwrap_or_default(),
            kind: s("kind").unwrap_or_default(),
            status: s("status").unwrap_or_default(),
            branch: s("branch"),
            output: from_json(j.get("output").cloned().unwrap_or_default()),
            error: from_json(j.get("error").cloned().unwrap_or_default()),
            attempts: j.get("attempts").and_then(|v| v.as_u64()).unwrap_or(1) as u32,
            worker_id: s("worker_id"),
            started_at: s("started_at").unwrap_or_default(),
            finished_at: s("finished_at"),
            usage: Usage::from_json(j.get("usage").unwrap_or(&serde_json::Value::Null)),
            input: j.get("input").cloned().unwrap_or_default(),
            cached: j.get("cached").and_then(|v| v.as_bool()).unwrap_or(false),
        }
    }
}

/// What a run was for, as hashes of the unredacted values.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fingerprint {
    pub task: String,
    pub definition: String,
}

impl Fingerprint {
    pub fn new(task: &str, definition: &serde_json::Value) -> Fingerprint {
        Fingerprint {
            task: Fingerprint::of_task(task),
            definition: crate::store::fingerprint(&[definition]),
        }
    }

    fn of_task(task: &str) -> String {
        crate::store::fingerprint(&[&json!(task)])
    }
}

/// A workflow run.
#[derive(Clone)]
pub struct RunRecord {
    pub id: String,
    pub key: Option<String>,
    pub workflow: String,
    pub task: String,
    /// `running`, `completed`, `failed`, `paused` or `cancelled`.
    pub status: String,
    pub stages: Vec<StageRecord>,
    pub outputs: IndexMap<String, Value>,
    pub transitions: Vec<(String, String, Option<String>)>,
    pub pending: Vec<String>,
    pub usage: Usage,
    pub path: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The normalised definition, closures by name (a key's run must be
    /// for the same workflow).
    pub definition: serde_json::Value,
    /// Node executions so far.
    pub steps: u64,
    /// Why the run failed (the unhandled node's error), or nil.
    pub error: Value,
    /// The run this one replays.
    pub replay_of: Option<String>,
    pub artifacts: Value,
    /// Fingerprints of the unredacted task and definition (a key's run
    /// must be for the same ones, a resumed one for the same task;
    /// `store/keys.rs`); `None` in records of older builds.
    pub fingerprint: Option<Fingerprint>,
    /// The run state (`ctx.state`, `state.rs`), written with every stage.
    pub state: IndexMap<String, Value>,
}

impl RunRecord {
    pub fn new(
        id: String,
        workflow: String,
        task: String,
        definition: serde_json::Value,
    ) -> RunRecord {
        RunRecord {
            id,
            key: None,
            workflow,
            task,
            status: "running".to_string(),
            stages: Vec::new(),
            outputs: IndexMap::new(),
            transitions: Vec::new(),
            pending: Vec::new(),
            usage: Usage::default(),
            path: None,
            created_at: now(),
            finished_at: None,
            definition,
            steps: 0,
            error: Value::Nil,
            replay_of: None,
            artifacts: Value::Nil,
            fingerprint: None,
            state: IndexMap::new(),
        }
    }

    /// `ctx.visits`: per node, how many times it started in this run, not
    /// counting starts a crash interrupted (so a re-run after a crash sees
    /// the numbers an uninterrupted run would).
    pub fn visits(&self) -> IndexMap<String, u64> {
        let mut out: IndexMap<String, u64> = IndexMap::new();
        for s in self.stages.iter().filter(|s| s.status != "interrupted") {
            *out.entry(s.node.clone()).or_default() += 1;
        }
        out
    }

    /// Whether `task` is the task this run was for.
    pub fn same_task(&self, task: &str) -> bool {
        match &self.fingerprint {
            Some(f) => f.task == Fingerprint::of_task(task),
            None => self.task == task,
        }
    }

    /// Whether `task` and `definition` are what this run was for.
    pub fn same_call(&self, task: &str, definition: &serde_json::Value) -> bool {
        match &self.fingerprint {
            Some(f) => *f == Fingerprint::new(task, definition),
            None => self.task == task && self.definition == *definition,
        }
    }

    /// The record's file, relative to the state directory.
    pub fn rel_path(id: &str) -> String {
        format!("runs/{id}.json")
    }

    pub fn to_json(&self) -> serde_json::Value {
        let outputs: serde_json::Map<String, serde_json::Value> = self
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect();
        json!({
            "_type": "weft.run", "version": 1, "id": self.id, "key": self.key,
            "workflow": self.workflow, "task": self.task, "status": self.status,
            "stages": self.stages.iter().map(StageRecord::to_json).collect::<Vec<_>>(),
            "outputs": outputs,
            "transitions": self.transitions.iter().map(|(f, t, b)| json!({"from": f, "to": t, "branch": b})).collect::<Vec<_>>(),
            "pending": self.pending, "usage": self.usage.to_json(), "path": self.path,
            "created_at": self.created_at, "finished_at": self.finished_at,
            "definition": self.definition, "steps": self.steps, "error": value_json(&self.error),
            "replay_of": self.replay_of, "artifacts": value_json(&self.artifacts),
            "fingerprint": self.fingerprint.as_ref().map(|f| json!({"task": f.task, "definition": f.definition})),
            "state": value_json(&super::state::to_value(&self.state)),
            "visits": self.visits().into_iter().map(|(k, n)| (k, json!(n))).collect::<serde_json::Map<String, serde_json::Value>>(),
            "updated_at": now(),
        })
    }

    /// Reads a record written by [`Self::to_json`] (already checked to be
    /// a `weft.run` of version 1).
    pub fn from_json(j: &serde_json::Value) -> Result<RunRecord, String> {
        let s = |k: &str| j.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let id = s("id").ok_or("the record has no 'id'")?;
        let list = |k: &str| {
            j.get(k)
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
        };
        let outputs = j
            .get("outputs")
            .and_then(|o| o.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), from_json(v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(RunRecord {
            id,
            key: s("key"),
            workflow: s("workflow").unwrap_or_default(),
            task: s("task").unwrap_or_default(),
            status: s("status").unwrap_or_else(|| "running".to_string()),
            stages: list("stages").iter().map(StageRecord::from_json).collect(),
            outputs,
            transitions: list("transitions")
                .iter()
                .map(|t| {
                    let f = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    (
                        f("from").unwrap_or_default(),
                        f("to").unwrap_or_default(),
                        f("branch"),
                    )
                })
                .collect(),
            pending: list("pending")
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
            usage: Usage::from_json(j.get("usage").unwrap_or(&serde_json::Value::Null)),
            path: s("path"),
            created_at: s("created_at").unwrap_or_default(),
            finished_at: s("finished_at"),
            definition: j.get("definition").cloned().unwrap_or_default(),
            steps: j.get("steps").and_then(|v| v.as_u64()).unwrap_or(0),
            error: from_json(j.get("error").cloned().unwrap_or_default()),
            replay_of: s("replay_of"),
            artifacts: from_json(j.get("artifacts").cloned().unwrap_or_default()),
            state: j
                .get("state")
                .and_then(|o| o.as_object())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), from_json(v.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            fingerprint: j.get("fingerprint").and_then(|f| {
                let part = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_string);
                Some(Fingerprint {
                    task: part("task")?,
                    definition: part("definition")?,
                })
            }),
        })
    }

    /// The record as the script sees it (outputs as they are, closures
    /// included).
    pub fn to_value(&self) -> Value {
        let mut v = from_json(self.to_json());
        if let Value::Dict(d) = &mut v {
            let d = std::rc::Rc::make_mut(d);
            let mut outputs = weft_vm::value::DictMap::default();
            for (k, o) in &self.outputs {
                outputs.insert(std::rc::Rc::new(k.clone()), o.clone());
            }
            d.insert(
                std::rc::Rc::new("outputs".to_string()),
                Value::dict(outputs),
            );
            // Starts a crash or an interrupt cut short are in the stored
            // record (`weft runs show`); the script sees the stages as an
            // uninterrupted run has them, plus `interrupted_stages` when
            // there were any.
            let key = |k: &str| std::rc::Rc::new(k.to_string());
            let stages = match weft_vm::value::dict_get(d, "stages") {
                Some(Value::List(l)) => Some(l.clone()),
                _ => None,
            };
            if let Some(stages) = stages {
                let is_cut = |s: &Value| match s {
                    Value::Dict(sd) => {
                        weft_vm::value::dict_get(sd, "status").and_then(Value::as_str)
                            == Some("interrupted")
                    }
                    _ => false,
                };
                let (cut, kept): (Vec<Value>, Vec<Value>) =
                    stages.iter().cloned().partition(is_cut);
                if !cut.is_empty() {
                    d.insert(key("stages"), Value::list(kept));
                    d.insert(key("interrupted_stages"), Value::list(cut));
                }
            }
            d.retain(|k, _| !matches!(k.as_str(), "definition" | "updated_at" | "fingerprint"));
        }
        v
    }
}

/// The key index folder of runs.
pub const RUN_KEYS_DIR: &str = "run-keys";

/// The key index file of a run key.
pub fn key_rel(key: &str) -> String {
    crate::store::key_index_rel(RUN_KEYS_DIR, key)
}
