//! The cycles of stage- and workflow-mode workers (workers.md §2): a
//! `stage` worker runs one workflow node (with its retries) and its result
//! is the node's output; a `workflow` worker runs `workflow_execute` on its
//! graph and its result is the run record. A workflow worker remembers its
//! run: after a crash it continues that run from its pending nodes, and
//! `send_input` continues it with the new text as the task when
//! `carry.resume_workflow` is true (else a new run starts).

use std::rc::Rc;

use weft_vm::value::Value;
use weft_vm::vm::{Program, Vm};

use super::events::snapshot_now;
use super::registry::{Status, Worker};
use super::run::{error_value, registry, Outcome};
use crate::workflow::exec::{run_with_retry, NodeStart, RunEnv};
use crate::workflow::nodes::Node;
use crate::workflow::run::{execute, ExecuteOptions};

/// One cycle of a stage-mode worker.
pub async fn run_node_cycle(program: &Rc<Program>, w: &Rc<Worker>, node: Rc<Node>) -> Outcome {
    w.cycles.set(w.cycles.get() + 1);
    let env = Rc::new(RunEnv {
        program: program.clone(),
        ctx: w.ctx.borrow().clone(),
        run_id: w.id.clone(),
        task: w.task.borrow().clone(),
        replay: None,
        who: "spawn_worker",
        workflow: w.name.clone(),
        persist: false,
        last_saved: Default::default(),
    });
    let start = NodeStart::detached(format!("{}#{}", w.id, w.cycles.get()));
    match run_with_retry(env, node, start).await {
        Ok(r) => {
            add_usage(program, w, r.usage);
            Outcome {
                status: if r.is_failed() {
                    Status::Failed
                } else {
                    Status::Completed
                },
                result: r.output,
                error: r.error,
            }
        }
        // An approval node parked: a keyed worker runs the node again (and
        // finds the answer) when the program runs again.
        Err(e) if e.category() == "awaiting_approval" => Outcome {
            status: Status::AwaitingApproval,
            result: Value::Nil,
            error: error_value(&e.category(), &e.message(), None),
        },
        Err(e) => Outcome::failed(Value::Nil, error_value(&e.category(), &e.message(), None)),
    }
}

/// One cycle of a workflow-mode worker.
pub async fn run_graph_cycle(program: &Rc<Program>, w: &Rc<Worker>, def: Value) -> Outcome {
    let cycle = w.cycles.get();
    w.cycles.set(cycle + 1);
    let opts = w.options.borrow().clone();
    let mut vm = Vm::new(program.clone());
    vm.ctx = w.ctx.borrow().clone();
    // A worker resumed after the process died carries its run id in its
    // checkpoint; a finished cycle's run is in `run_id`.
    let interrupted_run = w.resume_from.borrow_mut().take().and_then(|cp| {
        cp.get("run_id")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    });
    let previous = w.run_id.borrow().clone();
    let mut eo = ExecuteOptions {
        persist: Some(opts.carry.persist),
        ..Default::default()
    };
    let run_id = match (interrupted_run, previous) {
        (Some(id), _) => {
            eo.resume = Some(id.clone());
            eo.run_id = Some(id.clone());
            id
        }
        // send_input on a finished cycle.
        (None, Some(id)) if cycle > 0 && opts.carry.resume_workflow => {
            eo.resume = Some(id.clone());
            eo.retask = true;
            id
        }
        _ => {
            let id = format!("r_{}", uuid::Uuid::now_v7());
            eo.run_id = Some(id.clone());
            id
        }
    };
    *w.run_id.borrow_mut() = Some(run_id.clone());
    *w.checkpoint.borrow_mut() = serde_json::json!({"run_id": run_id});
    // The run id must be durable before the run does anything.
    let state = registry(program);
    snapshot_now(&state.workers, w).await;
    let task = w.task.borrow().clone();
    let before = w.usage.get();
    match execute(&mut vm, task, &def, eo, "spawn_worker").await {
        Ok(rec) => {
            // Children (subagent nodes) already rolled their usage up; add
            // what the run's own stages used besides.
            let own = rec.usage.minus(&w.usage.get().minus(&before));
            add_usage(program, w, own);
            let status = match rec.status.as_str() {
                "completed" => Status::Completed,
                "cancelled" => Status::Cancelled,
                _ => Status::Failed,
            };
            let error = if status == Status::Failed && rec.error.is_nil() {
                error_value(
                    &rec.status,
                    &format!("workflow run {} ended {}", rec.id, rec.status),
                    None,
                )
            } else {
                rec.error.clone()
            };
            Outcome {
                status,
                result: rec.to_value(),
                error,
            }
        }
        // An approval node parked: the checkpoint keeps the run id, so a
        // keyed worker resumes the run at the gate when the program runs
        // again.
        Err(e) if e.category() == "awaiting_approval" => Outcome {
            status: Status::AwaitingApproval,
            result: Value::Nil,
            error: error_value(&e.category(), &e.message(), None),
        },
        Err(e) => Outcome::failed(Value::Nil, error_value(&e.category(), &e.message(), None)),
    }
}

/// Adds `u` to `w` and its ancestors.
fn add_usage(program: &Rc<Program>, w: &Rc<Worker>, u: super::registry::Usage) {
    let state = registry(program);
    let mut cur = Some(w.clone());
    while let Some(x) = cur {
        let mut t = x.usage.get();
        t.add(&u);
        x.usage.set(t);
        cur = x.parent_id.as_ref().and_then(|p| state.workers.get(p));
    }
}
