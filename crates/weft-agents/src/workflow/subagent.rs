//! `subagent` nodes: a real delegated worker (workers.md) in stage mode,
//! spawned from the node's options (policy, execution, allowed_tools,
//! carry, timeout_ms, ...) with its own snapshot and events. The node waits
//! for it; its output is the worker's envelope and the worker id is
//! recorded on the stage. If the node is cancelled (the run is cancelled,
//! or a map's join was met without it) the worker is cancelled too.
//!
//! In a persisted run the worker gets a durable key derived from the run
//! and the node's slot (`RUN_ID/NODE#VISIT@ATTEMPT`, `/ITEM` in a map), so
//! when the run continues after a crash the node finds its own worker
//! again and resumes it from its checkpoint: finished tool calls are not
//! repeated and no second worker is left `running`.

use std::rc::Rc;

use serde_json::json;
use weft_vm::value::{dict_get, Value};
use weft_vm::vm::{Program, Vm};

use super::exec::{render, NodeResult, RunEnv};
use super::nodes::{Node, NodeKind};
use crate::workers::options::parse_worker_options;
use crate::workers::run::{cancel_tree, registry, spawn, wait};
use crate::workers::Worker;

/// Cancels the worker unless the node saw it finish.
struct CancelOnDrop {
    program: Rc<Program>,
    worker: Option<Rc<Worker>>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            let state = registry(&self.program);
            cancel_tree(&self.program, &state.workers, &w);
        }
    }
}

/// Runs a subagent node.
pub async fn run(vm: &mut Vm, env: &RunEnv, node: &Node, ctx: &Value, slot: &str) -> NodeResult {
    let NodeKind::Subagent { task, options } = &node.kind else {
        unreachable!("subagent::run is only called for subagent nodes")
    };
    let task = match task {
        Some(t) => match render(vm, t, ctx, &node.id, "task").await {
            Ok(t) => t,
            Err(e) => return NodeResult::failed(&e, serde_json::Value::Null),
        },
        None => env.task.clone(),
    };
    let input = json!({"task": task});
    let mut opts = match parse_worker_options(vm, Some(task), options, env.who) {
        Ok(o) => o,
        Err(e) => return NodeResult::failed(&e, input),
    };
    if dict_get(options, "name").is_none() {
        opts.name = node.id.clone();
    }
    opts.mode = "stage";
    if env.persist && env.replay.is_none() {
        let key = format!("{}/{slot}", env.run_id);
        // A run resumed twice in one program finds the key taken: its
        // worker is then a new one.
        if !registry(&env.program)
            .workers
            .by_key
            .borrow()
            .contains_key(&key)
        {
            opts.key = Some(key);
        }
    }
    let w = match spawn(vm, opts, env.who, true).await {
        Ok(w) => w,
        Err(e) => return NodeResult::failed(&e, input),
    };
    if w.run_id.borrow().is_none() {
        *w.run_id.borrow_mut() = Some(env.run_id.clone());
        crate::workers::events::snapshot_later(&registry(&env.program).workers, &w);
    }
    let mut guard = CancelOnDrop {
        program: env.program.clone(),
        worker: Some(w.clone()),
    };
    wait(&registry(&env.program).workers, &w).await;
    guard.worker = None;
    let envelope = w.result.borrow().clone();
    let ok =
        matches!(&envelope, Value::Dict(d) if matches!(dict_get(d, "ok"), Some(Value::Bool(true))));
    let usage = w.usage.get();
    let cached = matches!(&envelope, Value::Dict(d) if matches!(dict_get(d, "cached"), Some(Value::Bool(true))));
    NodeResult {
        output: envelope,
        branch: if ok { "success" } else { "failed" }.to_string(),
        error: if ok {
            Value::Nil
        } else {
            w.error.borrow().clone()
        },
        usage,
        worker_id: Some(w.id.clone()),
        input,
        attempts: 1,
        update: Value::Nil,
        cached,
    }
}
