//! Running workers: spawning (policy narrowing, execution profile,
//! registration), scheduling under the concurrency limit (FIFO queue),
//! one cycle of a sub-agent worker on its own `Vm` in a `spawn_local` task,
//! and finishing — exactly one terminal event per cycle, also when the task
//! is aborted (cancel, shutdown) or panics ([`CycleGuard`]).

use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use weft_vm::context::Capability;
use weft_vm::error::{RtError, RtResult};
use weft_vm::value::{dict_from, to_json, Value};
use weft_vm::vm::{Program, Vm};

use super::events::{emit, snapshot_later};
use super::options::WorkerOptions;
use super::registry::{now, Registry, Status, Usage, Worker};
use crate::agent_loop::{run_agent_loop, AgentStatus};
use crate::cache::agent::{mark_hit, run_inputs, with_cached};
use crate::cache::Slot;
use crate::state::AgentState;
use crate::transcript::{session_put, Transcript};

use super::envelope::env_get;
pub use super::envelope::{envelope, failure_envelope};
use super::hooks::WorkerHooks;

/// The registry of the program `vm` runs.
pub fn registry(program: &Program) -> Rc<AgentState> {
    let state = program.ext::<AgentState>();
    if state.workers.owner.borrow().strong_count() == 0 {
        *state.workers.owner.borrow_mut() = Rc::downgrade(&state);
    }
    state
}

/// Counts one more worker created by this run, or fails with
/// `limit_exceeded` past `max_run_workers` (a spawn loop must not grow
/// memory until the time limit; docs/security.md).
fn count_created(reg: &Registry, who: &str) -> RtResult<()> {
    let n = reg.created.get();
    if let Some(max) = reg.max_created.get() {
        if n >= max {
            return Err(RtError::new(
                "limit_exceeded",
                format!(
                    "{who}: this run already created {n} workers (max_run_workers {max}); \
                     reuse persistent workers or raise the limit"
                ),
            ));
        }
    }
    reg.created.set(n + 1);
    Ok(())
}

/// Creates, registers and schedules a worker. `unlimited` workers start at
/// once, outside the concurrency limit (foreground `sub_agent_run`).
pub async fn spawn(
    vm: &mut Vm,
    opts: WorkerOptions,
    who: &str,
    unlimited: bool,
) -> RtResult<Rc<Worker>> {
    vm.ctx
        .check_capability(Capability::WorkersSpawn, &opts.name)
        .map_err(|e| RtError::new("permission_denied", format!("{who}: {}", e.message())))?;
    let policy = vm
        .ctx
        .policy
        .intersect(&opts.policy, &vm.ctx.cwd)
        .map_err(|excess| {
            if excess.depth_exhausted {
                RtError::new("permission_denied", format!("{who}: {excess}"))
            } else {
                RtError::new(
                    "permission_denied",
                    format!("{who}: policy exceeds the parent's ceiling: {excess}"),
                )
            }
        })?;
    let state = registry(&vm.program);
    let reg = &state.workers;
    count_created(reg, who)?;
    if let Some(store) = reg.store().filter(|_| opts.carry.persist) {
        store
            .ensure_writable()
            .map_err(|m| RtError::new("io_error", format!("{who}: {m}")))?;
    }
    let stored = super::durable::lookup(reg, &opts, who).await?;
    let id = match stored
        .as_ref()
        .and_then(|s| s.get("id").and_then(|v| v.as_str()).map(str::to_string))
    {
        Some(id) => id,
        None => cluster_keyed_id(vm, &opts, who).await?,
    };
    // The worker's budget scope: reserved from the spawner's now (a
    // resumed worker keeps what it had spent; a failed or cancelled one
    // starts again from the start).
    let prior = match &stored {
        Some(snap)
            if !matches!(
                snap.get("status").and_then(|s| s.as_str()),
                Some("failed" | "cancelled")
            ) =>
        {
            crate::budget::stored_spent(snap.get("budget").unwrap_or(&serde_json::Value::Null))
        }
        _ => Default::default(),
    };
    let limits = opts.budget.clone().unwrap_or_default();
    let scope = crate::budget::open_scope(vm, limits, prior, true, who)?;
    let w = match build(vm, opts, id, policy, unlimited).await {
        Ok(w) => w,
        Err(e) => {
            scope.close();
            return Err(e);
        }
    };
    w.ctx.borrow_mut().budget = Some(scope.clone());
    reg.insert(w.clone());
    super::durable::index_key(reg, &w);
    super::shutdown::ensure_shutdown_hook(&vm.program, reg);
    // On a cluster host: a redelivered job's worker resumes from the
    // checkpoint the host before wrote to the cluster.
    if let Some(cp) = crate::cluster::checkpoints::adopt(&vm.program, &w) {
        *w.resume_from.borrow_mut() = Some(cp);
        emit(
            reg,
            &w,
            "worker_resumed",
            json!({"from": "cluster_checkpoint"}),
        );
    }
    if let Some(snap) = stored {
        super::durable::restore(&w, &snap);
        if super::replay::begin(&w, &snap) {
            // Earlier cycles were recorded: the first one is presented and
            // `send_input` replays the rest (`replay.rs`).
            scope.close();
            emit(
                reg,
                &w,
                "worker_resumed",
                json!({"from": "replay", "cycle": 1}),
            );
            return Ok(w);
        }
        let from = w.status().name();
        let run_again = continue_restored(&w);
        emit(reg, &w, "worker_resumed", json!({"from": from}));
        if !run_again {
            return Ok(w);
        }
    }
    schedule(&vm.program, reg, &w);
    Ok(w)
}

/// Prepares a worker restored from its keyed snapshot to go on: an ended
/// cycle (completed, awaiting input) stays as it is, durable; a failed or
/// cancelled one starts again as the next attempt; one cut short resumes
/// from its checkpoint. Returns whether it must be scheduled.
pub fn continue_restored(w: &Worker) -> bool {
    match w.status() {
        Status::Completed | Status::Awaiting => {
            if let Some(b) = &w.ctx.borrow().budget {
                b.close();
            }
            w.finalized.set(true);
            w.terminal_durable.set(true);
            false
        }
        Status::Failed | Status::Cancelled => {
            w.attempt.set(w.attempt.get() + 1);
            *w.result.borrow_mut() = Value::Nil;
            *w.error.borrow_mut() = Value::Nil;
            w.usage.set(Usage::default());
            *w.transcript.borrow_mut() = None;
            *w.checkpoint.borrow_mut() = serde_json::Value::Null;
            true
        }
        _ => {
            let cp = w.checkpoint.borrow().clone();
            if cp.is_object() {
                *w.resume_from.borrow_mut() = Some(cp);
            }
            true
        }
    }
}

/// A new worker's id: a fresh one, or for a keyed worker placed on the
/// cluster the one the cluster's key index holds (`cluster/keyed.rs`), so
/// a parent run again re-attaches to it.
async fn cluster_keyed_id(vm: &Vm, opts: &WorkerOptions, who: &str) -> RtResult<String> {
    let fresh = format!("w_{}", uuid::Uuid::now_v7());
    let (Some(key), crate::cluster::remote::Placement::Cluster) = (&opts.key, opts.placement)
    else {
        return Ok(fresh);
    };
    let state = registry(&vm.program);
    let Some(remote) = state.cluster.get() else {
        return Ok(fresh);
    };
    crate::cluster::keyed::worker_id_for_key(
        &remote,
        key,
        &opts.fingerprint,
        &fresh,
        state.workers.fresh.get(),
    )
    .await
    .map_err(|e| RtError::new("cluster_error", format!("{who}: {e}")))
}

/// Builds a worker record (not yet registered): execution profile applied,
/// the narrowed policy in its context, linked to its parent.
pub async fn build(
    vm: &mut Vm,
    opts: WorkerOptions,
    id: String,
    policy: weft_vm::policy::CapabilityPolicy,
    unlimited: bool,
) -> RtResult<Rc<Worker>> {
    let state = registry(&vm.program);
    let reg = &state.workers;
    let parent = reg.current(&vm.ctx);
    let mut opts = opts;
    // Default tools: those of the spawning worker's agent loop.
    if let Some(p) = &parent {
        if opts.config_json.get("tools").is_none() {
            opts.agent.tools = p.options.borrow().agent.tools.clone();
        }
    }
    crate::cache::agent::check_cacheable(opts.cache.as_ref(), &opts.agent.tools, &opts.agent.who)?;
    let (mut ctx, worktree) = opts.execution.apply(&vm.ctx, &id).await?;
    let policy_value = policy.to_value();
    let policy = Rc::new(policy);
    ctx.policy = policy.clone();
    let parent_session = current_session(vm);
    let w = Rc::new(Worker {
        id: id.clone(),
        run_id: Default::default(),
        name: opts.name.clone(),
        mode: opts.mode,
        key: opts.key.clone(),
        parent_id: parent.as_ref().map(|p| p.id.clone()),
        depth: parent.as_ref().map_or(1, |p| p.depth + 1),
        policy,
        ctx: std::cell::RefCell::new(ctx),
        status: std::cell::Cell::new(Status::Queued),
        task: std::cell::RefCell::new(opts.task.clone()),
        history: std::cell::RefCell::new(vec![opts.task.clone()]),
        result: std::cell::RefCell::new(Value::Nil),
        error: std::cell::RefCell::new(Value::Nil),
        usage: std::cell::Cell::new(Usage::default()),
        created_at: now(),
        started_at: Default::default(),
        finished_at: Default::default(),
        events: Default::default(),
        children: Default::default(),
        transcript: std::cell::RefCell::new(None),
        policy_value: policy_value.clone(),
        checkpoint: std::cell::RefCell::new(serde_json::Value::Null),
        cycles: Default::default(),
        attempt: std::cell::Cell::new(1),
        abort: Default::default(),
        finalized: Default::default(),
        terminal_durable: Default::default(),
        holds_slot: Default::default(),
        unlimited: std::cell::Cell::new(unlimited),
        done: tokio::sync::Notify::new(),
        execution: std::cell::RefCell::new(execution_value(&opts, worktree.as_ref())),
        worktree: std::cell::RefCell::new(worktree),
        resume_from: Default::default(),
        cycle_log: Default::default(),
        replay: Default::default(),
        parent_session: std::cell::RefCell::new(parent_session),
        options: std::cell::RefCell::new(Rc::new(opts)),
    });
    if let Some(p) = &parent {
        p.children.borrow_mut().push(id.clone());
    }
    Ok(w)
}

/// The spawner's current session transcript (for `carry: fork`): when a
/// worker spawns, its conversation so far (the running cycle's checkpoint,
/// else its transcript); the program's top level has none.
fn current_session(vm: &Vm) -> Option<Transcript> {
    let state = registry(&vm.program);
    let parent = state.workers.current(&vm.ctx)?;
    let cp = parent.checkpoint.borrow().clone();
    if let Some(t) = cp.get("transcript") {
        if let Ok(mut t) = serde_json::from_value::<Transcript>(t.clone()) {
            // A turn whose tool calls are still running (the checkpoint
            // made before a tool ran) is not part of the conversation yet.
            if crate::agent_loop::calls::open_calls(&t).is_some() {
                if let Some(at) = t
                    .messages
                    .iter()
                    .rposition(|m| m.role == crate::llm::Role::Assistant)
                {
                    t.messages.truncate(at);
                }
            }
            return Some(t);
        }
    }
    // Before its first checkpoint: where the cycle started, plus its task.
    let mut t = parent.own_transcript();
    if parent.status() == Status::Running {
        t.messages
            .push(crate::llm::Message::user(parent.task.borrow().clone()));
    }
    Some(t)
}

/// The handle's `execution` value.
pub fn execution_value(opts: &WorkerOptions, wt: Option<&crate::profile::Worktree>) -> Value {
    let v = opts.execution.to_value();
    match (wt, v) {
        (Some(wt), Value::Dict(ref d)) => {
            let mut d = (**d).clone();
            d.insert(
                std::rc::Rc::new("worktree_path".to_string()),
                Value::str(wt.path.to_string_lossy().into_owned()),
            );
            Value::Dict(Rc::new(d))
        }
        (_, v) => v,
    }
}

/// Starts `w` now if the limit allows, else queues it (`worker_queued`).
pub fn schedule(program: &Rc<Program>, reg: &Registry, w: &Rc<Worker>) {
    w.status.set(Status::Queued);
    w.finalized.set(false);
    w.terminal_durable.set(false);
    if w.unlimited.get() || reg.running.get() < reg.limit() {
        start(program, reg, w);
    } else {
        reg.queue.borrow_mut().push_back(w.id.clone());
        emit(reg, w, "worker_queued", json!({}));
        snapshot_later(reg, w);
    }
}

/// Starts the next queued workers while there is room.
pub fn start_queued(program: &Rc<Program>, reg: &Registry) {
    if reg.shutting_down.get() {
        return;
    }
    while reg.running.get() < reg.limit() {
        let Some(id) = reg.queue.borrow_mut().pop_front() else {
            return;
        };
        if let Some(w) = reg.get(&id) {
            if w.status() == Status::Queued {
                start(program, reg, &w);
            }
        }
    }
}

fn start(program: &Rc<Program>, reg: &Registry, w: &Rc<Worker>) {
    if !w.unlimited.get() {
        reg.running.set(reg.running.get() + 1);
        w.holds_slot.set(true);
    }
    w.status.set(Status::Running);
    if w.started_at.borrow().is_none() {
        *w.started_at.borrow_mut() = Some(now());
    }
    emit(
        reg,
        w,
        "worker_started",
        json!({"cycle": w.cycles.get() + 1}),
    );
    snapshot_later(reg, w);
    let program2 = program.clone();
    let w2 = w.clone();
    let join = tokio::task::spawn_local(async move {
        let guard = CycleGuard {
            program: program2.clone(),
            worker: w2.clone(),
        };
        let outcome = match super::budget::reopen(&w2) {
            Err(o) => o,
            Ok(()) => run_timed(&program2, &w2).await,
        };
        finish_worktree(
            &w2,
            outcome.status == Status::Completed || outcome.status == Status::Awaiting,
        )
        .await;
        finalize(&program2, &w2, outcome);
        drop(guard);
    });
    *w.abort.borrow_mut() = Some(join.abort_handle());
}

/// Runs a cycle within the worker's `timeout_ms` and the wall time its
/// budget has left (whichever ends first).
async fn run_timed(program: &Rc<Program>, w: &Rc<Worker>) -> Outcome {
    let timeout = w.options.borrow().timeout_ms;
    let wall = w
        .ctx
        .borrow()
        .budget
        .as_ref()
        .and_then(|b| b.wall_remaining_ms());
    let (ms, by_budget) = match (timeout, wall) {
        (None, None) => return run_cycle(program, w).await,
        (Some(t), Some(b)) if b < t => (b, true),
        (Some(t), _) => (t, false),
        (None, Some(b)) => (b, true),
    };
    match tokio::time::timeout(Duration::from_millis(ms), run_cycle(program, w)).await {
        Ok(o) => o,
        Err(_) if by_budget => super::budget::wall_spent(w),
        Err(_) => Outcome::failed(
            Value::Nil,
            error_value(
                "timeout",
                &format!("worker {} timed out after {ms} ms", w.id),
                None,
            ),
        ),
    }
}

async fn finish_worktree(w: &Worker, success: bool) {
    let wt = w.worktree.borrow().clone();
    if let Some(wt) = wt {
        if w.options.borrow().carry.persistent && success {
            return;
        }
        let kept = wt.finish(success).await;
        if let Some(reason) = kept {
            let mut exec = w.execution.borrow().clone();
            if let Value::Dict(d) = &mut exec {
                let mut m = (**d).clone();
                m.insert(
                    std::rc::Rc::new("worktree_kept".to_string()),
                    Value::str(reason),
                );
                *d = Rc::new(m);
            }
            *w.execution.borrow_mut() = exec;
        }
        *w.worktree.borrow_mut() = None;
    }
}

/// How a cycle ended.
pub struct Outcome {
    pub status: Status,
    pub result: Value,
    pub error: Value,
}

impl Outcome {
    pub(crate) fn failed(result: Value, error: Value) -> Outcome {
        Outcome {
            status: Status::Failed,
            result,
            error,
        }
    }
}

/// `{category, message, tool?}`.
pub fn error_value(category: &str, message: &str, tool: Option<&str>) -> Value {
    let mut pairs = vec![
        ("category", Value::str(category)),
        ("message", Value::str(message)),
    ];
    if let Some(t) = tool {
        pairs.push(("tool", Value::str(t)));
    }
    dict_from(pairs)
}

/// Emits the terminal event of the current cycle exactly once, also when
/// the cycle's task is dropped (aborted) or unwinds (panic).
pub struct CycleGuard {
    pub program: Rc<Program>,
    pub worker: Rc<Worker>,
}

impl Drop for CycleGuard {
    fn drop(&mut self) {
        if self.worker.finalized.get() {
            return;
        }
        let outcome = if std::thread::panicking() {
            Outcome::failed(
                Value::Nil,
                error_value(
                    "panic",
                    &format!("worker {} panicked", self.worker.id),
                    None,
                ),
            )
        } else {
            Outcome {
                status: Status::Cancelled,
                result: Value::Nil,
                error: error_value(
                    "cancelled",
                    &format!("worker {} was cancelled", self.worker.id),
                    None,
                ),
            }
        };
        finalize(&self.program, &self.worker, outcome);
    }
}

/// Ends the current cycle: status, terminal event, snapshot, slot release,
/// waiters woken. Does nothing when the cycle already ended.
pub fn finalize(program: &Rc<Program>, w: &Rc<Worker>, o: Outcome) {
    if w.finalized.get() {
        return;
    }
    w.finalized.set(true);
    let o = interrupted_if_stopping(program, o);
    let state = registry(program);
    let reg = &state.workers;
    reg.queue.borrow_mut().retain(|id| id != &w.id);
    w.status.set(o.status);
    *w.result.borrow_mut() = o.result;
    *w.error.borrow_mut() = o.error;
    *w.finished_at.borrow_mut() = Some(now());
    w.abort.borrow_mut().take();
    if let Some(b) = &w.ctx.borrow().budget {
        b.close();
    }
    if !o.status.resumable() {
        *w.checkpoint.borrow_mut() = serde_json::Value::Null;
    }
    let kind = match o.status {
        Status::Completed => "worker_completed",
        Status::Awaiting => "worker_awaiting_input",
        Status::Cancelled => "worker_cancelled",
        Status::Interrupted => "worker_interrupted",
        Status::AwaitingApproval => "worker_awaiting_approval",
        _ => "worker_failed",
    };
    let data = terminal_data(w);
    emit(reg, w, kind, data);
    if o.status != Status::Awaiting {
        crate::mcp::close_owned_by(program, &w.id);
    }
    snapshot_later(reg, w);
    if w.holds_slot.replace(false) {
        reg.running.set(reg.running.get().saturating_sub(1));
    }
    w.done.notify_waiters();
    start_queued(program, reg);
}

/// A cycle cut short while the program is being interrupted (Ctrl-C,
/// SIGTERM, `InterruptHandle::interrupt`) ends `interrupted`, which a
/// re-run resumes from its checkpoint, rather than `cancelled`/`failed`.
fn interrupted_if_stopping(program: &Program, o: Outcome) -> Outcome {
    let cut_short = matches!(o.status, Status::Cancelled | Status::Failed);
    if !cut_short || !program.interrupt.is_requested() {
        return o;
    }
    Outcome {
        status: Status::Interrupted,
        result: Value::Nil,
        error: error_value("cancelled", "interrupted", None),
    }
}

/// The payload of a terminal event: the cycle's usage and attempt, the
/// envelope's `ok`/`summary`/`iterations`/`tool_calls` count/`denied`
/// when the worker produced one, and `error` when there is one.
fn terminal_data(w: &Worker) -> serde_json::Value {
    let mut data = json!({"usage": w.usage.get().to_json(), "attempt": w.attempt.get()});
    if let Ok(serde_json::Value::Object(env)) = to_json(&w.result.borrow()) {
        for key in ["ok", "summary", "iterations", "denied", "cached"] {
            if let Some(v) = env.get(key) {
                data[key] = v.clone();
            }
        }
        if let Some(calls) = env.get("tool_calls").and_then(|c| c.as_array()) {
            data["tool_calls"] = calls.len().into();
        }
    }
    if let Ok(e @ serde_json::Value::Object(_)) = to_json(&w.error.borrow()) {
        data["error"] = e;
    }
    data
}

/// Cancels `w` (queued or running) and its children; finished workers are
/// left as they are.
pub fn cancel_tree(program: &Rc<Program>, reg: &Registry, w: &Rc<Worker>) {
    let children: Vec<String> = w.children.borrow().clone();
    for c in children {
        if let Some(cw) = reg.get(&c) {
            cancel_tree(program, reg, &cw);
        }
    }
    if !w.status().active() {
        return;
    }
    let abort = w.abort.borrow_mut().take();
    finalize(
        program,
        w,
        Outcome {
            status: Status::Cancelled,
            result: Value::Nil,
            error: error_value("cancelled", &format!("worker {} was cancelled", w.id), None),
        },
    );
    if let Some(a) = abort {
        a.abort();
    }
}

/// Waits until `w` is neither queued nor running and (when it persists)
/// its terminal snapshot is durable — the snapshot writer makes it so and
/// wakes the waiters (`events.rs`).
pub async fn wait(reg: &Registry, w: &Worker) {
    loop {
        let notified = w.done.notified();
        if !w.status().active() && (w.terminal_durable.get() || !super::events::persists(reg, w)) {
            return;
        }
        notified.await;
    }
}

/// Runs one cycle of a sub-agent worker.
async fn run_cycle(program: &Rc<Program>, w: &Rc<Worker>) -> Outcome {
    if w.options.borrow().placement == crate::cluster::remote::Placement::Cluster {
        return crate::cluster::remote::run_remote_cycle(program, w).await;
    }
    let job = w.options.borrow().job.clone();
    match job {
        super::options::Job::Node(node) => {
            return super::modes::run_node_cycle(program, w, node).await
        }
        super::options::Job::Graph(def) => {
            return super::modes::run_graph_cycle(program, w, def).await
        }
        super::options::Job::Agent => {}
    }
    let mut vm = Vm::new(program.clone());
    vm.ctx = w.ctx.borrow().clone();
    let opts = w.options.borrow().clone();
    let cycle = w.cycles.get();
    w.cycles.set(cycle + 1);
    let mut config = opts.agent.clone();
    config.task = Some(w.task.borrow().clone());
    let resume = w.resume_from.borrow_mut().take();
    if let Some(cp) = resume {
        let (t, progress) = super::durable::progress_from_checkpoint(&cp);
        config.transcript = t;
        config.task = None;
        config.resume = Some(progress);
    } else if cycle > 0
        || opts.carry.transcript == crate::profile::TranscriptMode::Fork
        || w.transcript.borrow().is_some()
    {
        let own = w.own_transcript();
        let parent = w.parent_session.borrow().clone();
        config.transcript = opts.carry.starting_transcript(cycle, &own, parent.as_ref());
    }
    let mut hooks = WorkerHooks {
        program: program.clone(),
        worker: w.clone(),
        last: Usage::default(),
        turn_saved: u64::MAX,
        stopped: None,
    };
    if let Some(p) = &config.resume {
        hooks.last = Usage {
            input_tokens: p.input_tokens,
            output_tokens: p.output_tokens,
            iterations: p.iterations,
            tool_calls: p.tool_calls.len() as u64,
        };
    }
    // The cache: only a fresh run (not a resumed one) is looked up.
    let slot = if config.resume.is_none() && cycle == 0 {
        let extra = json!({
            "policy": opts.config_json.get("policy"),
            "allowed_tools": opts.config_json.get("allowed_tools"),
            "execution": opts.config_json.get("execution"),
        });
        let opened = Slot::open(&vm, opts.cache.as_ref(), "sub_agent", || {
            run_inputs(&vm, &config, extra)
        });
        match opened {
            Ok(s) => s,
            Err(e) => {
                let err = error_value(&e.category(), &e.message(), None);
                return Outcome::failed(failure_envelope(w, err.clone()), err);
            }
        }
    } else {
        None
    };
    if let Some(hit) = slot.as_ref().and_then(Slot::lookup) {
        return cache_hit(&vm, w, &opts, hit);
    }
    let run = match run_agent_loop(&mut vm, config, &mut hooks).await {
        Ok(r) => r,
        Err(e) => {
            let err = error_value(&e.category(), &e.message(), None);
            let env = failure_envelope(w, err.clone());
            if e.category() == "awaiting_approval" {
                // The checkpoint at the call is durable (approval_parked):
                // running the program again resumes there.
                return Outcome {
                    status: Status::AwaitingApproval,
                    result: env,
                    error: err,
                };
            }
            return Outcome::failed(env, err);
        }
    };
    if let Some(id) = &opts.session_id {
        session_put(&vm, id, run.transcript.clone());
    }
    // The envelope holds the transcript from now on.
    *w.transcript.borrow_mut() = None;
    let mut env = envelope(&run, w, &opts);
    let ok = matches!(env_get(&env, "ok"), Value::Bool(true));
    if let Some(slot) = &slot {
        if ok && run.status == AgentStatus::Done {
            if let Ok(stored) = to_json(&env) {
                slot.store(stored).await;
            }
        }
        env = with_cached(env, false);
    }
    let error = env_get(&env, "error");
    let status = if run.status == AgentStatus::Cancelled {
        Status::Cancelled
    } else if ok {
        if opts.carry.persistent {
            Status::Awaiting
        } else {
            Status::Completed
        }
    } else {
        Status::Failed
    };
    Outcome {
        status,
        result: env,
        error,
    }
}

/// A cycle answered from the cache: the stored envelope with this
/// worker's id, `tokens_used` 0 and `cached: true`; no model call, no tool.
fn cache_hit(vm: &Vm, w: &Worker, opts: &WorkerOptions, stored: serde_json::Value) -> Outcome {
    let mut env = mark_hit(stored, &["tokens_used"]);
    if let Value::Dict(d) = &mut env {
        Rc::make_mut(d).insert(Rc::new("worker_id".to_string()), Value::str(w.id.clone()));
    }
    if let Some(id) = &opts.session_id {
        if let Ok(t) = Transcript::from_value(&env_get(&env, "transcript"), "sub_agent_run") {
            session_put(vm, id, t);
        }
    }
    *w.transcript.borrow_mut() = None;
    Outcome {
        status: Status::Completed,
        result: env,
        error: Value::Nil,
    }
}
