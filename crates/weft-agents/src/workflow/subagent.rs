//! `subagent` nodes: a real delegated worker (workers.md) in stage mode,
//! spawned from the node's options (policy, execution, allowed_tools,
//! carry, timeout_ms, ...) with its own snapshot and events. The node waits
//! for it; its output is the worker's envelope and the worker id is
//! recorded on the stage. If the node is cancelled (the run is cancelled,
//! or a map's join was met without it) the worker is cancelled too.

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
pub async fn run(vm: &mut Vm, env: &RunEnv, node: &Node, ctx: &Value) -> NodeResult {
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
    let w = match spawn(vm, opts, env.who, true).await {
        Ok(w) => w,
        Err(e) => return NodeResult::failed(&e, input),
    };
    let mut guard = CancelOnDrop {
        program: env.program.clone(),
        worker: Some(w.clone()),
    };
    wait(&w).await;
    guard.worker = None;
    let envelope = w.result.borrow().clone();
    let ok =
        matches!(&envelope, Value::Dict(d) if matches!(dict_get(d, "ok"), Some(Value::Bool(true))));
    let usage = w.usage.get();
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
        cached: false,
    }
}
