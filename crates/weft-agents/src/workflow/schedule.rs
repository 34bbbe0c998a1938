//! The scheduler of one run (workflows.md §3): activated nodes wait in a
//! queue; independent ones run concurrently (at most `max_concurrent`),
//! each as a `spawn_local` task; when a node finishes, its edges labelled
//! with its branch are taken, else its unlabelled ones. A `join` waits
//! while any queued or running node can still reach it. A failed node
//! whose `failed` branch has no edge ends the run as `failed` (nothing
//! new starts; it stays pending so `resume` retries it); `max_steps` node
//! executions end it as `paused`. The record is written after every stage.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::json;
use tokio::task::JoinSet;
use weft_vm::error::RtResult;
use weft_vm::value::{DictMap, Value};

use super::events::emit_run;
use super::exec::{run_with_retry, NodeResult, NodeStart, RunEnv};
use super::graph::Graph;
use super::nodes::NodeKind;
use super::record::{RunRecord, StageRecord};
use super::store::{save_now, save_soon};
use crate::workers::registry::now;

/// Limits of one run.
pub struct Bounds {
    pub max_steps: u64,
    pub max_concurrent: usize,
}

/// Which nodes can reach which (for joins).
fn reachability(g: &Graph) -> HashMap<String, HashSet<String>> {
    let mut out = HashMap::new();
    for id in g.nodes.keys() {
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack: Vec<&str> = g.edges_from(id).map(|e| e.to.as_str()).collect();
        while let Some(n) = stack.pop() {
            if seen.insert(n.to_string()) {
                stack.extend(g.edges_from(n).map(|e| e.to.as_str()));
            }
        }
        out.insert(id.clone(), seen);
    }
    out
}

/// Runs `rec` from its pending nodes until nothing is left, a failure is
/// unhandled, or `max_steps` is spent. `Err` only for a replay mismatch
/// (the record is saved as failed first).
pub async fn drive(
    env: Rc<RunEnv>,
    graph: Rc<Graph>,
    rec: &mut RunRecord,
    bounds: &Bounds,
) -> RtResult<()> {
    let reach = reachability(&graph);
    let mut queue: Vec<String> = std::mem::take(&mut rec.pending);
    let mut running: HashMap<String, usize> = HashMap::new();
    let mut tasks: JoinSet<(String, usize, RtResult<NodeResult>)> = JoinSet::new();
    let mut steps_this_drive = 0u64;
    let mut stopped = false;
    let mut paused = false;
    let mut fatal: Option<Box<weft_vm::error::RtError>> = None;
    let mut by_task: HashMap<tokio::task::Id, (String, usize)> = HashMap::new();
    loop {
        // Start every node that may start.
        let mut started = false;
        while !stopped && running.len() < bounds.max_concurrent {
            let ready = queue.iter().position(|n| {
                if running.contains_key(n) {
                    return false;
                }
                match graph.nodes.get(n).map(|x| &x.kind) {
                    Some(NodeKind::Join) => !queue
                        .iter()
                        .chain(running.keys())
                        .any(|o| o != n && reach.get(o).is_some_and(|r| r.contains(n))),
                    _ => true,
                }
            });
            // Joins that wait on each other with nothing running: start one.
            let ready = ready.or_else(|| (running.is_empty() && !queue.is_empty()).then_some(0));
            let Some(pos) = ready else { break };
            if steps_this_drive >= bounds.max_steps {
                paused = true;
                break;
            }
            steps_this_drive += 1;
            rec.steps += 1;
            let id = queue.remove(pos);
            let Some(node) = graph.nodes.get(&id).cloned() else {
                continue;
            };
            let input = match node.kind {
                NodeKind::Join => join_input(&graph, &id, rec),
                _ => outputs_value(rec),
            };
            let stage_index = rec.stages.len();
            rec.stages.push(StageRecord {
                node: id.clone(),
                kind: node.kind.name().to_string(),
                status: "running".into(),
                branch: None,
                output: Value::Nil,
                error: Value::Nil,
                attempts: 0,
                worker_id: None,
                started_at: now(),
                finished_at: None,
                usage: Default::default(),
                input: serde_json::Value::Null,
                cached: false,
            });
            emit_run(
                &env,
                "stage_started",
                json!({"node": id, "kind": node.kind.name()}),
            );
            running.insert(id.clone(), stage_index);
            started = true;
            let visits = rec.visits();
            let start = NodeStart {
                input,
                item: None,
                slot: format!("{id}#{}", visits.get(&id).copied().unwrap_or(1)),
                visits: visits_value(&visits),
                state: super::state::to_value(&rec.state),
            };
            let env2 = env.clone();
            let id2 = id.clone();
            let handle = tasks.spawn_local(async move {
                let r = run_with_retry(env2, node, start).await;
                (id2, stage_index, r)
            });
            by_task.insert(handle.id(), (id, stage_index));
        }
        rec.pending = pending_of(&queue, &running);
        if running.is_empty() {
            break;
        }
        if started {
            save_soon(&env, rec);
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (id, idx, result) = match joined {
            Ok(x) => x,
            Err(e) => {
                // A node task panicked: record it as a failure of the node.
                let Some((id, idx)) = by_task.remove(&e.id()) else {
                    break;
                };
                let msg = if e.is_panic() {
                    "the node panicked"
                } else {
                    "the node was cancelled"
                };
                (id, idx, Err(weft_vm::error::RtError::new("panic", msg)))
            }
        };
        running.remove(&id);
        by_task.retain(|_, (_, i)| *i != idx);
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                let st = &mut rec.stages[idx];
                st.status = if env.program.interrupt.is_requested() {
                    "interrupted"
                } else if e.category() == "awaiting_approval" {
                    "awaiting_approval"
                } else {
                    "failed"
                }
                .into();
                st.finished_at = Some(now());
                st.error = super::exec::error_value(&e.category(), &e.message());
                queue.insert(0, id.clone());
                fatal = Some(e);
                stopped = true;
                continue;
            }
        };
        let mut r = r;
        if !r.update.is_nil() {
            // The new state goes into the same record write as the stage.
            if let Err(m) = super::state::apply(&graph.state, &mut rec.state, &id, &r.update) {
                r.branch = "failed".into();
                r.error = super::exec::error_value("value_error", &m);
            }
        }
        rec.usage.add(&r.usage);
        let failed = r.is_failed();
        {
            let st = &mut rec.stages[idx];
            st.status = if failed { "failed" } else { "completed" }.into();
            st.branch = Some(r.branch.clone());
            st.output = r.output.clone();
            st.error = r.error.clone();
            st.attempts = r.attempts;
            st.worker_id = r.worker_id.clone();
            st.finished_at = Some(now());
            st.usage = r.usage;
            st.input = r.input.clone();
            st.cached = r.cached;
        }
        rec.outputs.insert(id.clone(), r.output.clone());
        emit_run(
            &env,
            "stage_finished",
            json!({"node": id, "branch": r.branch, "status": rec.stages[idx].status,
                   "attempts": r.attempts, "worker_id": r.worker_id, "cached": r.cached}),
        );
        if failed && !graph.handles_failure(&id) {
            if rec.error.is_nil() {
                rec.error = r.error.clone();
            }
            queue.insert(0, id.clone());
            stopped = true;
        } else {
            for (to, branch) in graph.next(&id, &r.branch) {
                rec.transitions.push((id.clone(), to.clone(), branch));
                if !queue.contains(&to) {
                    queue.push(to);
                }
            }
        }
        rec.pending = pending_of(&queue, &running);
        save_now(&env, rec).await;
    }
    rec.pending = pending_of(&queue, &running);
    rec.status = if fatal.is_some() && env.program.interrupt.is_requested() {
        // Ctrl-C / SIGTERM: a re-run with the key resumes it.
        "interrupted"
    } else if fatal
        .as_ref()
        .is_some_and(|e| e.category() == "awaiting_approval")
    {
        // An approval node parked: a re-run with the key asks again (and
        // finds the answer given meanwhile).
        "awaiting_approval"
    } else if fatal.is_some() || stopped {
        "failed"
    } else if paused || !queue.is_empty() {
        "paused"
    } else {
        "completed"
    }
    .into();
    if rec.status != "paused" && rec.status != "awaiting_approval" {
        rec.finished_at = Some(now());
    }
    if let Some(e) = fatal {
        rec.error = super::exec::error_value(&e.category(), &e.message());
        return Err(e);
    }
    Ok(())
}

/// Queued and running nodes, queue order first.
fn pending_of(queue: &[String], running: &HashMap<String, usize>) -> Vec<String> {
    let mut run: Vec<(&String, &usize)> = running.iter().collect();
    run.sort_by_key(|(_, i)| **i);
    let mut out: Vec<String> = run.into_iter().map(|(k, _)| k.clone()).collect();
    for q in queue {
        if !out.contains(q) {
            out.push(q.clone());
        }
    }
    out
}

/// `ctx.visits` as a script value.
fn visits_value(visits: &indexmap::IndexMap<String, u64>) -> Value {
    let mut d = DictMap::default();
    for (k, n) in visits {
        d.insert(Rc::new(k.clone()), Value::Int(*n as i64));
    }
    Value::dict(d)
}

/// Every finished node's latest output.
pub fn outputs_value(rec: &RunRecord) -> Value {
    let mut d = DictMap::default();
    for (k, v) in &rec.outputs {
        d.insert(Rc::new(k.clone()), v.clone());
    }
    Value::dict(d)
}

/// A join's output: its predecessors' outputs in this run.
fn join_input(g: &Graph, id: &str, rec: &RunRecord) -> Value {
    let mut d = DictMap::default();
    for p in g.predecessors(id) {
        if let Some(v) = rec.outputs.get(p) {
            d.insert(Rc::new(p.to_string()), v.clone());
        }
    }
    Value::dict(d)
}
