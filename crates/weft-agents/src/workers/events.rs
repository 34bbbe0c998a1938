//! Worker events (workers.md §7) and snapshots (§6). An event is
//! `{seq, at, kind, worker_id, name, parent_id, status, data}` with `seq`
//! +1 per event in the program run; it goes to the worker's own list, the
//! host sink, `<state>/events.jsonl` (when persisting) and stderr
//! (`--events`); the lines for `events.jsonl` are batched by the writer
//! task (one append per scheduler pass). A snapshot is the worker's whole record as JSON, written
//! through the store to `<state>/workers/<id>.json`.

use serde_json::json;
use weft_vm::value::to_json;

use super::registry::{now, Registry, Worker};

/// Records one event of `w`.
pub fn emit(reg: &Registry, w: &Worker, kind: &str, data: serde_json::Value) {
    let seq = reg.seq.get() + 1;
    reg.seq.set(seq);
    let ev = json!({
        "seq": seq, "at": now(), "kind": kind, "worker_id": w.id, "name": w.name,
        "parent_id": w.parent_id, "status": w.status().name(), "data": data,
    });
    let line = publish(reg, &ev);
    w.events.borrow_mut().push(line);
}

/// Sends one event (a worker's or a workflow run's) to the host sink,
/// stderr (`--events`) and `events.jsonl`; returns its JSON line.
pub fn publish(reg: &Registry, ev: &serde_json::Value) -> String {
    let line = ev.to_string();
    if reg.sinks.stderr.get() {
        eprintln!("{line}");
    }
    if let Some(f) = reg.sinks.host.borrow().as_ref() {
        f(ev);
    }
    if reg.store().is_some_and(|s| s.persist()) {
        let mut pending = reg.pending_events.borrow_mut();
        pending.push_str(&line);
        pending.push('\n');
        drop(pending);
        start_writer(reg);
    }
    line
}

/// The snapshot JSON of `w`.
pub fn snapshot_json(w: &Worker) -> serde_json::Value {
    let opts = w.options.borrow();
    let j = |v: &weft_vm::value::Value| to_json(v).unwrap_or(serde_json::Value::Null);
    let transcript = serde_json::to_value(w.own_transcript()).unwrap_or_default();
    // The result envelope's transcript is the worker's transcript: stored once.
    let mut result = j(&w.result.borrow());
    if let Some(m) = result.as_object_mut() {
        m.remove("transcript");
    }
    let mut snap = json!({
        "_type": "weft.worker", "version": 1, "id": w.id, "key": w.key, "name": w.name,
        "mode": w.mode, "status": w.status().name(), "task": w.task.borrow().clone(),
        "history": w.history.borrow().clone(), "config": opts.config_json,
        "policy": j(&w.policy.to_value()), "carry": j(&opts.carry.to_value()),
        "execution": j(&w.execution.borrow()), "worktree": serde_json::to_value(&*w.worktree.borrow()).unwrap_or_default(),
        "transcript": transcript, "artifacts": [], "result": result,
        "error": j(&w.error.borrow()), "usage": w.usage.get().to_json(),
        "parent_id": w.parent_id, "depth": w.depth, "children": w.children.borrow().clone(),
        "checkpoint": w.checkpoint.borrow().clone(), "attempt": w.attempt.get(),
        "run_id": w.run_id.borrow().clone(),
        "fingerprint": opts.fingerprint,
        "budget": w.ctx.borrow().budget.as_deref().map(crate::budget::scope_json),
        "created_at": w.created_at, "started_at": w.started_at.borrow().clone(),
        "finished_at": w.finished_at.borrow().clone(), "updated_at": now(),
    });
    let cycles = w.cycle_log.borrow();
    if !cycles.is_empty() {
        snap["cycles"] = serde_json::Value::Array(cycles.clone());
    }
    snap
}

fn rel(w: &Worker) -> String {
    format!("workers/{}.json", w.id)
}

fn persisting(reg: &Registry, w: &Worker) -> Option<std::rc::Rc<crate::store::Store>> {
    let s = reg.store()?;
    // A replaying worker shows a recorded cycle; its snapshot on disk
    // stays the complete record (`replay.rs`).
    (s.persist() && w.options.borrow().carry.persist && !super::replay::replaying(w)).then_some(s)
}

/// Whether `w`'s snapshots are written.
pub fn persists(reg: &Registry, w: &Worker) -> bool {
    persisting(reg, w).is_some()
}

/// Marks `w`'s snapshot out of date. The snapshot writer task, started
/// on demand, lets every task already scheduled run first and then
/// enqueues one write per marked worker: status changes within one
/// scheduler pass (spawn, start, finish of a quick worker) cost one write.
pub fn snapshot_later(reg: &Registry, w: &Worker) {
    if persisting(reg, w).is_none() {
        return;
    }
    reg.dirty.borrow_mut().insert(w.id.clone());
    start_writer(reg);
}

/// Starts the writer task unless it is already pending.
fn start_writer(reg: &Registry) {
    if reg.writer_active.replace(true) || reg.shutting_down.get() {
        return;
    }
    let Some(state) = reg.owner.borrow().upgrade() else {
        reg.writer_active.set(false);
        return;
    };
    tokio::task::spawn_local(async move {
        tokio::task::yield_now().await;
        state.workers.writer_active.set(false);
        write_dirty_durably(&state.workers).await;
    });
}

/// [`write_dirty`], then one flush for all of it (group commit); then the
/// terminal statuses written may be reported: their workers are marked
/// durable and their waiters woken.
pub async fn write_dirty_durably(reg: &Registry) {
    let ended = write_dirty(reg);
    if ended.is_empty() {
        return;
    }
    if let Some(s) = reg.store() {
        s.flush().await;
    }
    for (w, status, cycle) in ended {
        if w.status() == status && w.cycles.get() == cycle && !w.terminal_durable.get() {
            w.terminal_durable.set(true);
            w.done.notify_waiters();
        }
    }
}

/// Enqueues the pending events (one append) and the writes of every
/// marked snapshot; returns the workers whose snapshot written here holds
/// a terminal status (with that status and cycle).
pub fn write_dirty(reg: &Registry) -> Vec<(std::rc::Rc<Worker>, super::registry::Status, usize)> {
    let events = std::mem::take(&mut *reg.pending_events.borrow_mut());
    if !events.is_empty() {
        if let Some(s) = reg.store() {
            s.append_line_later("events.jsonl", events.trim_end_matches('\n'));
        }
    }
    let ids: Vec<String> = reg.dirty.borrow_mut().drain(..).collect();
    let mut ended = Vec::new();
    for id in ids {
        if let Some(w) = reg.get(&id) {
            if let Some(s) = persisting(reg, &w) {
                s.write_json_later(&rel(&w), &snapshot_json(&w));
                if !w.status().active() {
                    ended.push((w.clone(), w.status(), w.cycles.get()));
                }
            }
        }
    }
    ended
}

/// Writes a snapshot and waits until it is durable.
pub async fn snapshot_now(reg: &Registry, w: &Worker) {
    if let Some(s) = persisting(reg, w) {
        reg.dirty.borrow_mut().shift_remove(&w.id);
        let (status, cycle) = (w.status(), w.cycles.get());
        if s.write_json(&rel(w), &snapshot_json(w)).await.is_ok()
            && !status.active()
            && w.status() == status
            && w.cycles.get() == cycle
            && !w.terminal_durable.get()
        {
            w.terminal_durable.set(true);
            w.done.notify_waiters();
        }
    }
}
