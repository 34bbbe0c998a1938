//! The worker builtins (workers.md §1–§2): `spawn_worker`,
//! `sub_agent_run`, `wait_worker`, `send_input`, `cancel_worker`,
//! `worker_status`, `list_workers`, `worker_events`, `worker_limits`,
//! `resume_worker`.

use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use weft_vm::builtins::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use weft_vm::error::{type_error, value_error, RtError, RtResult};
use weft_vm::policy::parse_policy_request;
use weft_vm::value::{dict_get, from_json, DictMap, Value};
use weft_vm::vm::Vm;

use super::events::{emit, snapshot_later};
use super::options::{parse_worker_options, WorkerOptions};
use super::registry::{Status, Worker};
use super::run::{cancel_tree, failure_envelope, registry, schedule, spawn, wait};
use crate::tools::keys::{check_keys, unknown_key};

/// The options of an agent-mode worker: its own keys, the agent loop's
/// and the model call's (what `WorkerOptions::parse` accepts).
const AGENT_WORKER_KEYS: &[&[&str]] = &[
    super::options::WORKER_KEYS,
    crate::agent_loop::options::LOOP_KEYS,
    crate::llm::call::LLM_OPTION_KEYS,
];
/// The options of `wait_worker`.
const WAIT_KEYS: &[&str] = &["timeout_ms"];
/// The options of `list_workers`.
const LIST_KEYS: &[&str] = &["status"];
/// The options of `worker_limits`.
const LIMITS_KEYS: &[&str] = &["max_concurrent"];
/// The options of `resume_worker`.
const RESUME_KEYS: &[&str] = &["restart", "tools"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![
        asynchronous(
            "spawn_worker",
            &["config", "options"],
            1,
            2,
            "workers",
            "Starts a worker (`spawn_worker(config)` or `spawn_worker(task, options)`) and returns its handle: status `running`, or `queued` at the concurrency limit. With `wait: true` returns the handle once it finished.",
            spawn_worker,
        )
        .options(AGENT_WORKER_KEYS),
        asynchronous(
            "sub_agent_run",
            &["task", "options"],
            1,
            2,
            "workers",
            "Runs an agent loop in a fresh child session and returns `{ok, summary, data, error, tokens_used, budget_exceeded, iterations, tool_calls, denied, session_id, worker_id, transcript}`; `background: true` returns a worker handle; `cache: true | {key, ttl_ms}` answers the same run from the state directory across runs (`cached`).",
            sub_agent_run,
        )
        .options(AGENT_WORKER_KEYS),
        asynchronous(
            "wait_worker",
            &["worker", "options"],
            1,
            2,
            "workers",
            "Waits until a worker (or each of a list) is not queued/running and returns its handle; `timeout_ms` raises `timeout` (the worker keeps running).",
            wait_worker,
        )
        .options(&[WAIT_KEYS]),
        asynchronous(
            "send_input",
            &["worker", "text"],
            2,
            2,
            "workers",
            "Starts another cycle of a finished or awaiting worker with `text` as the next user message and returns its handle once the cycle has started (`running`, or `queued`), like spawn_worker; `wait_worker` waits for the cycle to end.",
            send_input,
        ),
        asynchronous(
            "cancel_worker",
            &["worker"],
            1,
            1,
            "workers",
            "Cancels a queued or running worker (and its children); returns its handle once the cancellation is durable.",
            cancel_worker,
        ),
        sync(
            "worker_status",
            &["worker"],
            1,
            1,
            "workers",
            "The worker's handle as it is now.",
            worker_status,
        ),
        sync(
            "list_workers",
            &["options"],
            0,
            1,
            "workers",
            "Handles of this run's workers, oldest first; `status` filters.",
            list_workers,
        )
        .options(&[LIST_KEYS]),
        sync(
            "worker_events",
            &["worker"],
            1,
            1,
            "workers",
            "The worker's events, oldest first.",
            worker_events,
        ),
        sync(
            "worker_limits",
            &["options"],
            0,
            1,
            "workers",
            "Sets `max_concurrent` (program-wide running workers; default 16); returns the limits.",
            worker_limits,
        )
        .options(&[LIMITS_KEYS]),
        asynchronous(
            "resume_worker",
            &["id_or_path", "options"],
            1,
            2,
            "workers",
            "Loads a worker snapshot into this run (`queued`/`running` become `interrupted`); `restart: true` (with its `tools`) continues it.",
            resume_worker,
        )
        .options(&[RESUME_KEYS]),
    ]
}

fn handle(vm: &Vm, w: &Worker) -> Value {
    let state = registry(&vm.program);
    let store = state.workers.store();
    w.handle(store.as_deref())
}

/// Parses the two call forms into options.
fn parse_call(
    vm: &Vm,
    args: &mut [Value],
    who: &'static str,
    params: &'static [&'static str],
) -> RtResult<WorkerOptions> {
    let a = Args::new(who, params, args);
    let empty = DictMap::default();
    match a.get(0) {
        Some(Value::Dict(d)) => {
            if a.opt(1).is_some() {
                return Err(type_error(format!(
                    "{who}: with a config dict, no second argument is taken"
                )));
            }
            parse_worker_options(vm, None, d, who)
        }
        Some(Value::Str(t)) => {
            let opts = match a.opt(1) {
                Some(_) => a.dict(1)?,
                None => &empty,
            };
            if dict_get(opts, "task").is_some() {
                return Err(value_error(format!(
                    "{who}: the task is given twice (argument and option 'task')"
                )));
            }
            parse_worker_options(vm, Some(t.to_string()), opts, who)
        }
        _ => Err(a.type_err(0, "a task string or a config dict")),
    }
}

fn spawn_worker(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let opts = parse_call(vm, &mut args, "spawn_worker", &["config", "options"])?;
        if opts.background {
            return Err(unknown_key("spawn_worker", "", "background", &["wait"]));
        }
        let wait_too = opts.wait;
        let w = spawn(vm, opts, "spawn_worker", false).await?;
        if wait_too {
            wait(&registry(&vm.program).workers, &w).await;
        }
        Ok(handle(vm, &w))
    })
}

fn sub_agent_run(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let opts = parse_call(vm, &mut args, "sub_agent_run", &["task", "options"])?;
        if opts.background {
            let w = spawn(vm, opts, "sub_agent_run", false).await?;
            return Ok(handle(vm, &w));
        }
        run_foreground(vm, opts, "sub_agent_run")
            .await
            .map(|(_, envelope)| envelope)
    })
}

/// A foreground `sub_agent_run`: spawns the worker outside the concurrency
/// limit, waits for it and returns it with its result envelope (also what
/// a cluster host runs for a job, `cluster/host_job.rs`).
pub(crate) async fn run_foreground(
    vm: &mut Vm,
    opts: WorkerOptions,
    who: &str,
) -> RtResult<(Rc<Worker>, Value)> {
    {
        let session = vm.ctx.session_events.clone();
        let w = spawn(vm, opts, who, true).await?;
        if let Some(events) = &session {
            let task = w.task.borrow().clone();
            events.borrow_mut().push(session_event(
                "sub_agent_start",
                serde_json::json!({"worker_id": w.id, "task": task}),
            ));
        }
        wait(&registry(&vm.program).workers, &w).await;
        let r = w.result.borrow().clone();
        let envelope = if r.is_nil() {
            failure_envelope(&w, w.error.borrow().clone())
        } else {
            r
        };
        if let (Some(events), Value::Dict(env)) = (&session, &envelope) {
            let ok = matches!(weft_vm::value::dict_get(env, "ok"), Some(Value::Bool(true)));
            let summary = weft_vm::value::dict_get(env, "summary")
                .map(|v| v.to_display())
                .unwrap_or_default();
            let mut data = serde_json::json!({"worker_id": w.id, "ok": ok, "summary": summary});
            if let Some(Value::Bool(cached)) = weft_vm::value::dict_get(env, "cached") {
                data["cached"] = (*cached).into();
            }
            events
                .borrow_mut()
                .push(session_event("sub_agent_result", data));
        }
        Ok((w, envelope))
    }
}

fn timeout_opt(v: Option<&Value>, who: &str) -> RtResult<Option<u64>> {
    match v {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Dict(d)) => {
            check_keys(d, who, "", WAIT_KEYS)?;
            match dict_get(d, "timeout_ms") {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n as u64)),
                Some(other) => Err(value_error(format!(
                    "{who}: option 'timeout_ms' must be an int >= 0, got {}",
                    other.to_repr()
                ))),
            }
        }
        Some(other) => Err(type_error(format!(
            "{who}: argument 2 (options) must be a dict, got {}",
            other.type_name()
        ))),
    }
}

fn wait_worker(vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "wait_worker";
        let timeout = timeout_opt(args.get(1), who)?;
        let state = registry(&vm.program);
        let (list, ws): (bool, Vec<Rc<Worker>>) = match &args[0] {
            Value::List(items) => (
                true,
                items
                    .iter()
                    .map(|v| state.workers.resolve(v, who))
                    .collect::<RtResult<_>>()?,
            ),
            v => (false, vec![state.workers.resolve(v, who)?]),
        };
        let all = async {
            for w in &ws {
                wait(&state.workers, w).await;
            }
        };
        if let Some(ms) = timeout {
            if tokio::time::timeout(Duration::from_millis(ms), all)
                .await
                .is_err()
            {
                let pending: Vec<&str> = ws
                    .iter()
                    .filter(|w| w.status().active())
                    .map(|w| w.id.as_str())
                    .collect();
                return Err(RtError::new(
                    "timeout",
                    format!(
                        "{who}: timed out after {ms} ms waiting for {}",
                        pending.join(", ")
                    ),
                ));
            }
        } else {
            all.await;
        }
        let hs: Vec<Value> = ws.iter().map(|w| handle(vm, w)).collect();
        Ok(if list {
            Value::list(hs)
        } else {
            hs.into_iter().next().unwrap_or(Value::Nil)
        })
    })
}

fn send_input(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "send_input";
        let a = Args::new(who, &["worker", "text"], &mut args);
        let text = a.str(1)?.to_string();
        if text.trim().is_empty() {
            return Err(value_error(format!("{who}: the text must not be empty")));
        }
        let state = registry(&vm.program);
        let reg = &state.workers;
        let w = reg.resolve(&args[0], who)?;
        if w.status().active() {
            return Err(value_error(format!("worker {} is still running", w.id)));
        }
        match super::replay::advance(&w, &text, who)? {
            super::replay::Step::NotReplaying => {}
            super::replay::Step::Presented => return Ok(handle(vm, &w)),
            super::replay::Step::Reached(run) => {
                emit(
                    reg,
                    &w,
                    "worker_resumed",
                    json!({"from": w.status().name(), "cycle": w.cycles.get() + 1}),
                );
                if run {
                    schedule(&vm.program, reg, &w);
                    super::events::write_dirty_durably(reg).await;
                }
                return Ok(handle(vm, &w));
            }
        }
        let record = super::replay::cycle_record(&w, &text);
        w.cycle_log.borrow_mut().push(record);
        // The transcript moves out of the previous result before it is cleared.
        let own = w.own_transcript();
        *w.transcript.borrow_mut() = Some(own);
        *w.task.borrow_mut() = text.clone();
        w.history.borrow_mut().push(text);
        *w.result.borrow_mut() = Value::Nil;
        *w.error.borrow_mut() = Value::Nil;
        *w.finished_at.borrow_mut() = None;
        if !w.status().resumable() {
            *w.resume_from.borrow_mut() = None;
        }
        schedule(&vm.program, reg, &w);
        // Like spawn_worker: the handle comes back once the new cycle has
        // started (`running`, or `queued` at the concurrency limit) and that
        // is durable; `wait_worker` waits for the cycle's end.
        super::events::write_dirty_durably(reg).await;
        Ok(handle(vm, &w))
    })
}

fn cancel_worker(vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let state = registry(&vm.program);
        let w = state.workers.resolve(&args[0], "cancel_worker")?;
        cancel_tree(&vm.program, &state.workers, &w);
        super::events::write_dirty_durably(&state.workers).await;
        Ok(handle(vm, &w))
    })
}

fn worker_status(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let state = registry(&vm.program);
    let w = state.workers.resolve(&args.vals[0], "worker_status")?;
    Ok(handle(vm, &w))
}

fn list_workers(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let who = "list_workers";
    let mut filter: Option<Vec<Status>> = None;
    if let Some(o) = args.opt(0) {
        let d = args.dict(0)?;
        check_keys(d, who, "", LIST_KEYS)?;
        let _ = o;
        let parse = |v: &Value| -> RtResult<Status> {
            match v {
                Value::Str(s) => Status::parse(s).ok_or_else(|| {
                    value_error(format!(
                        "{who}: status must be one of {}; got '{s}'",
                        Status::NAMES.join(", ")
                    ))
                }),
                other => Err(type_error(format!(
                    "{who}: status must be a string or a list of strings, got {}",
                    other.type_name()
                ))),
            }
        };
        match dict_get(d, "status") {
            None | Some(Value::Nil) => {}
            Some(Value::List(items)) => {
                filter = Some(items.iter().map(parse).collect::<RtResult<_>>()?)
            }
            Some(v) => filter = Some(vec![parse(v)?]),
        }
    }
    let state = registry(&vm.program);
    let ws: Vec<Rc<Worker>> = state.workers.workers.borrow().values().cloned().collect();
    let out = ws
        .iter()
        .filter(|w| filter.as_ref().is_none_or(|f| f.contains(&w.status())))
        .map(|w| handle(vm, w))
        .collect();
    Ok(Value::list(out))
}

fn worker_events(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let state = registry(&vm.program);
    let w = state.workers.resolve(&args.vals[0], "worker_events")?;
    let evs = w
        .events
        .borrow()
        .iter()
        .map(|l| from_json(serde_json::from_str(l).unwrap_or_default()))
        .collect();
    Ok(Value::list(evs))
}

fn worker_limits(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let who = "worker_limits";
    let state = registry(&vm.program);
    let reg = &state.workers;
    if args.opt(0).is_some() {
        let d = args.dict(0)?;
        check_keys(d, who, "", LIMITS_KEYS)?;
        match dict_get(d, "max_concurrent") {
            None | Some(Value::Nil) => {}
            Some(Value::Int(n)) if *n >= 1 => reg.max_concurrent.set(*n as usize),
            Some(other) => {
                return Err(value_error(format!(
                    "{who}: max_concurrent must be an int >= 1, got {}",
                    other.to_repr()
                )));
            }
        }
        super::run::start_queued(&vm.program, reg);
    }
    let queued = reg.queue.borrow().len();
    Ok(weft_vm::value::dict_from([
        ("max_concurrent", Value::Int(reg.limit() as i64)),
        ("running", Value::Int(reg.running.get() as i64)),
        ("queued", Value::Int(queued as i64)),
    ]))
}

fn resume_worker(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "resume_worker";
        let a = Args::new(who, &["id_or_path", "options"], &mut args);
        let target = a.str(0)?.to_string();
        let empty = DictMap::default();
        let opts: DictMap = match a.opt(1) {
            Some(_) => (**a.dict(1)?).clone(),
            None => empty,
        };
        check_keys(&opts, who, "", RESUME_KEYS)?;
        let restart = matches!(dict_get(&opts, "restart"), Some(Value::Bool(true)));
        let state = registry(&vm.program);
        let reg = &state.workers;
        if let Some(w) = reg.get(&target) {
            return Ok(handle(vm, &w));
        }
        let snap = super::durable::load_snapshot(reg, &vm.ctx, &target)?;
        let id = snap
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        if let Some(w) = reg.get(&id) {
            return Ok(handle(vm, &w));
        }
        // The stored policy, intersected again with the resumer's ceiling.
        let stored_policy = from_json(snap.get("policy").cloned().unwrap_or(json!({})));
        let req = parse_policy_request(&stored_policy, who).map_err(value_error)?;
        let policy = vm
            .ctx
            .policy
            .intersect(&req, &vm.ctx.cwd)
            .map_err(|excess| {
                RtError::new(
                    "permission_denied",
                    format!("{who}: the stored policy exceeds the ceiling: {excess}"),
                )
            })?;
        let stored = match from_json(snap.get("config").cloned().unwrap_or(json!({}))) {
            Value::Dict(ref d) => (**d).clone(),
            _ => DictMap::default(),
        };
        const DROP: [&str; 6] = [
            "tools",
            "on_turn",
            "key",
            "policy",
            "allowed_tools",
            "execution",
        ];
        let mut config = DictMap::default();
        for (k, v) in stored.iter() {
            if !DROP.contains(&k.as_str()) {
                config.insert(k.clone(), v.clone());
            }
        }
        if let Some(t) = dict_get(&opts, "tools") {
            config.insert(std::rc::Rc::new("tools".to_string()), t.clone());
        }
        if dict_get(&config, "name").is_none() {
            if let Some(n) = snap.get("name").and_then(|v| v.as_str()) {
                config.insert(std::rc::Rc::new("name".to_string()), Value::str(n));
            }
        }
        let task = snap
            .get("task")
            .and_then(|v| v.as_str())
            .unwrap_or("resumed")
            .to_string();
        let mut wopts = parse_worker_options(vm, Some(task), &config, who)?;
        if let Some(f) = snap.get("fingerprint").and_then(|f| f.as_str()) {
            wopts.fingerprint = f.to_string();
        }
        // Its own budget scope, closed until `send_input` starts a cycle.
        let scope = crate::budget::open_scope(
            vm,
            wopts.budget.clone().unwrap_or_default(),
            crate::budget::stored_spent(snap.get("budget").unwrap_or(&json!(null))),
            false,
            who,
        )?;
        scope.close();
        let w = super::run::build(vm, wopts, id, policy, false).await?;
        w.ctx.borrow_mut().budget = Some(scope);
        super::durable::restore(&w, &snap);
        reg.insert(w.clone());
        let st = w.status();
        if st.active() {
            // What it did so far is what `send_input` continues from.
            let cp = w.checkpoint.borrow().clone();
            if let Some(t) = cp.get("transcript") {
                if let Ok(t) = serde_json::from_value(t.clone()) {
                    *w.transcript.borrow_mut() = Some(t);
                }
            }
            w.status.set(Status::Interrupted);
            w.finalized.set(true);
            emit(reg, &w, "worker_interrupted", json!({"from": st.name()}));
            snapshot_later(reg, &w);
            super::events::write_dirty_durably(reg).await;
        } else {
            w.finalized.set(true);
            // Read from disk: its status is durable.
            w.terminal_durable.set(true);
        }
        if restart && w.status().resumable() {
            let cp = w.checkpoint.borrow().clone();
            if cp.is_object() {
                *w.resume_from.borrow_mut() = Some(cp);
            }
            emit(
                reg,
                &w,
                "worker_resumed",
                json!({"from": w.status().name()}),
            );
            schedule(&vm.program, reg, &w);
        }
        Ok(handle(vm, &w))
    })
}

/// A `{kind, at, ...}` transcript event.
fn session_event(kind: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut e = serde_json::Map::new();
    e.insert("kind".into(), kind.into());
    e.insert("at".into(), chrono::Utc::now().to_rfc3339().into());
    if let serde_json::Value::Object(f) = fields {
        e.extend(f);
    }
    serde_json::Value::Object(e)
}
