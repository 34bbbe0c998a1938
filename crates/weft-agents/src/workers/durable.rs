//! Durable keys and resume (workers.md §6): the key index
//! (`<state>/keys/<key>.json` → `{key, id}`), looking a keyed worker up
//! when a program runs again, restoring a worker's record from its
//! snapshot, and the checkpoint format (transcript + progress) the agent
//! loop resumes from.

use std::rc::Rc;

use serde_json::json;
use weft_vm::confine::ReadOutcome;
use weft_vm::context::{fs_error, Capability, TaskContext};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{from_json, Value};

use super::options::WorkerOptions;
use super::registry::{Registry, Status, Usage, Worker};
use crate::agent_loop::{AgentProgress, ToolCallRecord};
use crate::tools::{ToolError, ToolOutcome};
use crate::transcript::Transcript;

/// The key index folder of workers.
const KEYS_DIR: &str = "keys";

/// The key index file of `key`.
fn key_rel(key: &str) -> String {
    crate::store::key_index_rel(KEYS_DIR, key)
}

/// Records `w`'s key in the index.
pub fn index_key(reg: &Registry, w: &Worker) {
    let (Some(k), Some(s)) = (&w.key, reg.store()) else {
        return;
    };
    if s.persist() && w.options.borrow().carry.persist {
        s.write_json_later(&key_rel(k), &json!({"key": k, "id": w.id}));
    }
}

/// The stored snapshot of the worker with `opts.key`, if the state
/// directory has one (and `--fresh` was not given). A key already used in
/// this run, a different task/options, or an unreadable snapshot is an
/// error.
pub async fn lookup(
    reg: &Registry,
    opts: &WorkerOptions,
    who: &str,
) -> RtResult<Option<serde_json::Value>> {
    let Some(key) = &opts.key else {
        return Ok(None);
    };
    if let Some(id) = reg.by_key.borrow().get(key) {
        return Err(value_error(format!(
            "{who}: worker key '{key}' is already used by {id} in this run"
        )));
    }
    let Some(store) = reg.store() else {
        return Ok(None);
    };
    if reg.fresh.get() || !store.persist() {
        return Ok(None);
    }
    let Some(id) = crate::store::read_key_index(&store, KEYS_DIR, key)
        .await
        .map_err(value_error)?
    else {
        return Ok(None);
    };
    let snap_rel = format!("workers/{id}.json");
    if !store.path(&snap_rel).map(|p| p.exists()).unwrap_or(false) {
        return Ok(None);
    }
    let snap = store
        .load(&snap_rel, "weft.worker", 1)
        .map_err(value_error)?;
    let same = match snap.get("fingerprint").and_then(|f| f.as_str()) {
        Some(f) => f == opts.fingerprint,
        // Snapshots of older builds: the stored task and options.
        None => {
            snap.get("task").and_then(|t| t.as_str()) == Some(opts.task.as_str())
                && snap.get("config") == Some(&opts.config_json)
        }
    };
    if !same {
        return Err(value_error(format!(
            "worker key '{key}' was used for a different task"
        )));
    }
    Ok(Some(snap))
}

/// Copies a snapshot's record into a freshly built worker.
pub fn restore(w: &Worker, snap: &serde_json::Value) {
    let s = |k: &str| snap.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if let Some(st) = s("status").and_then(|x| Status::parse(&x)) {
        w.status.set(st);
    }
    if let Some(h) = snap.get("history").and_then(|h| h.as_array()) {
        *w.history.borrow_mut() = h
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
    }
    if let Some(t) = snap.get("transcript") {
        if let Ok(t) = serde_json::from_value::<Transcript>(t.clone()) {
            *w.transcript.borrow_mut() = Some(t);
        }
    }
    let result = from_json(snap.get("result").cloned().unwrap_or_default());
    *w.result.borrow_mut() = match result {
        Value::Dict(ref d) => {
            let mut d = (**d).clone();
            d.insert(
                Rc::new("transcript".to_string()),
                w.own_transcript().to_value(),
            );
            Value::Dict(Rc::new(d))
        }
        other => other,
    };
    *w.error.borrow_mut() = from_json(snap.get("error").cloned().unwrap_or_default());
    w.usage
        .set(Usage::from_json(snap.get("usage").unwrap_or(&json!({}))));
    if let Some(t) = snap.get("transcript") {
        if let Ok(t) = serde_json::from_value::<Transcript>(t.clone()) {
            *w.transcript.borrow_mut() = Some(t);
        }
    }
    *w.checkpoint.borrow_mut() = snap.get("checkpoint").cloned().unwrap_or_default();
    *w.cycle_log.borrow_mut() = snap
        .get("cycles")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    w.attempt
        .set(snap.get("attempt").and_then(|a| a.as_u64()).unwrap_or(1));
    *w.started_at.borrow_mut() = s("started_at");
    *w.run_id.borrow_mut() = s("run_id");
    *w.finished_at.borrow_mut() = s("finished_at");
}

/// The checkpoint of a cycle in progress.
pub fn checkpoint_json(p: &AgentProgress, t: &Transcript) -> serde_json::Value {
    let calls: Vec<serde_json::Value> = p
        .tool_calls
        .iter()
        .map(|c| {
            let (ok, result, error) = match &c.outcome {
                ToolOutcome::Ok(v) => (true, weft_vm::value::to_json(v).unwrap_or_default(), serde_json::Value::Null),
                ToolOutcome::Err(e) => (false, serde_json::Value::Null, json!({"category": e.category, "message": e.message})),
            };
            json!({"id": c.id, "name": c.name, "arguments": c.arguments, "ok": ok, "result": result,
                   "error": error, "content": c.content, "duration_ms": c.duration_ms, "iteration": c.iteration})
        })
        .collect();
    json!({
        "iterations": p.iterations, "input_tokens": p.input_tokens, "output_tokens": p.output_tokens,
        "schema_retries_used": p.schema_retries_used, "rejected": p.rejected, "tool_calls": calls,
        "in_flight": p.in_flight, "first_new_message": p.first_new_message,
        "transcript": serde_json::to_value(t).unwrap_or_default(),
    })
}

/// The transcript and progress a checkpoint holds.
pub fn progress_from_checkpoint(cp: &serde_json::Value) -> (Transcript, AgentProgress) {
    let n = |k: &str| cp.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let t = cp
        .get("transcript")
        .and_then(|t| serde_json::from_value::<Transcript>(t.clone()).ok())
        .unwrap_or_default();
    let tool_calls = cp
        .get("tool_calls")
        .and_then(|c| c.as_array())
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let outcome = if c.get("ok").and_then(|v| v.as_bool()).unwrap_or(false) {
                        ToolOutcome::Ok(from_json(c.get("result").cloned().unwrap_or_default()))
                    } else {
                        let e = c.get("error").cloned().unwrap_or_default();
                        let f =
                            |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                        ToolOutcome::Err(ToolError::new(f("category"), f("message")))
                    };
                    ToolCallRecord {
                        id: s("id"),
                        name: s("name"),
                        arguments: c.get("arguments").cloned().unwrap_or_default(),
                        outcome,
                        content: s("content"),
                        duration_ms: c.get("duration_ms").and_then(|v| v.as_u64()).unwrap_or(0),
                        iteration: c.get("iteration").and_then(|v| v.as_u64()).unwrap_or(0),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let progress = AgentProgress {
        iterations: n("iterations"),
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        tool_calls,
        rejected: cp
            .get("rejected")
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        schema_retries_used: n("schema_retries_used") as u32,
        first_new_message: n("first_new_message") as usize,
        in_flight: match cp.get("in_flight").and_then(|f| f.as_array()) {
            Some(ids) => ids
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            // Checkpoints of older builds: any open call may have started.
            None => crate::agent_loop::open_call_ids(&t),
        },
    };
    (t, progress)
}

/// Loads a snapshot by id or path (`resume_worker`). An id (`w_...`)
/// names a file of the state directory (the host's); a path is the
/// script's, read through the confinement layer under the task's `fs.read`
/// and workspace roots, so a denied path is never touched.
pub fn load_snapshot(
    reg: &Registry,
    ctx: &TaskContext,
    id_or_path: &str,
) -> RtResult<serde_json::Value> {
    if id_or_path.starts_with("w_") && !id_or_path.contains('/') {
        let path = match reg.store() {
            Some(s) => s
                .path(&format!("workers/{id_or_path}.json"))
                .map_err(|e| value_error(e.to_string()))?,
            None => std::path::PathBuf::from(format!(".weft/workers/{id_or_path}.json")),
        };
        return crate::store::load_record(&path, "weft.worker", 1).map_err(value_error);
    }
    let target = ctx.fs_target(Capability::FsRead, id_or_path)?;
    let path = target.shown.clone();
    let fail = |e| fs_error("resume_worker", "read", Capability::FsRead, &target, e);
    let bytes = match target
        .read(Some(crate::store::MAX_STATE_FILE_BYTES))
        .map_err(fail)?
    {
        ReadOutcome::Bytes(b) => b,
        ReadOutcome::TooLong(n) => {
            return Err(value_error(format!(
                "{}: cannot read: file too large ({n} bytes; at most {})",
                path.display(),
                crate::store::MAX_STATE_FILE_BYTES
            )))
        }
    };
    let value = crate::store::parse_json(&path, &bytes).map_err(value_error)?;
    crate::store::check_record(&path, &value, "weft.worker", 1).map_err(value_error)?;
    Ok(value)
}
