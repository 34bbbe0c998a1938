//! Concurrency builtins (language.md §9, stdlib.md "Concurrency"):
//! `spawn` (the keyword compiles to this builtin), `await`, `cancel`,
//! `parallel_map`, `parallel_settle`, `channel`, `send`, `recv`, `close`,
//! `sleep`.
//!
//! A task is a `tokio::task::spawn_local` future driving its own [`Vm`]
//! (own stack and frames) that shares the program and inherits a copy of
//! the spawner's task context. Cancelling aborts the future: it is dropped
//! at its next await point, dropping in-flight futures (and killing child
//! processes, which are spawned with `kill_on_drop`).

use std::cell::Cell;
use std::rc::Rc;

use weft_syntax::suggest::did_you_mean;

use super::convert::iter_items;
use super::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use crate::error::{type_error, value_error, RtError, RtResult};
use crate::value::task::{Channel, TaskHandle, TaskState};
use crate::value::{dict_from, Value};
use crate::vm::{LiveTask, Vm};

/// The options of `parallel_map` / `parallel_settle`.
const PARALLEL_OPTIONS: &[&str] = &["max_concurrent"];

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("spawn", &["fn"], 1, 1, "concurrency", "Starts a task running `fn()` and returns its handle (`spawn { ... }`).", spawn),
        asynchronous("await", &["task"], 1, 1, "concurrency", "Waits for a task (or a list of tasks) and returns its value, or rethrows its error.", await_task),
        sync("cancel", &["task"], 1, 1, "concurrency", "Cancels a task (or a list of tasks) at its next await point.", cancel),
        asynchronous("parallel_map", &["list", "fn", "options"], 2, 3, "concurrency", "`fn(item)` for every item, concurrently (at most `max_concurrent` at once); results in item order; the first error cancels the rest and is rethrown.", parallel_map).options(&[PARALLEL_OPTIONS]),
        asynchronous("parallel_settle", &["list", "fn", "options"], 2, 3, "concurrency", "Like parallel_map, but returns `[{ok: true, value} | {ok: false, error}]` for every item.", parallel_settle).options(&[PARALLEL_OPTIONS]),
        sync("channel", &["capacity"], 0, 1, "concurrency", "A new channel; `capacity` bounds queued items (default unbounded).", channel),
        asynchronous("send", &["channel", "value"], 2, 2, "concurrency", "Queues a value, waiting while the channel is full; raises on a closed channel.", send),
        asynchronous("recv", &["channel"], 1, 1, "concurrency", "The next value, waiting while the channel is empty; nil once closed and drained.", recv),
        sync("close", &["channel"], 1, 1, "concurrency", "Closes a channel: senders fail, receivers drain then get nil.", close),
        asynchronous("sleep", &["ms"], 1, 1, "time", "Waits `ms` milliseconds without blocking other tasks.", sleep),
    ]
}

/// Program-wide id counter for tasks and channels.
#[derive(Default)]
struct Ids(Cell<u64>);

fn next_id(vm: &Vm) -> u64 {
    let ids = vm.program.ext::<Ids>();
    let id = ids.0.get() + 1;
    ids.0.set(id);
    id
}

/// Starts a task running `f()` in a new VM that shares the program and
/// inherits the spawner's context; `limit_exceeded` past `max_tasks`.
pub fn spawn_task(vm: &Vm, f: Value) -> RtResult<Rc<TaskHandle>> {
    let live = LiveTask::start(&vm.program)?;
    let handle = Rc::new(TaskHandle::new(next_id(vm)));
    let mut child = Vm::new(vm.program.clone());
    child.ctx = vm.ctx.clone();
    let done = handle.clone();
    let join = tokio::task::spawn_local(async move {
        let _live = live;
        let result = child.call_value(&f, &[]).await;
        done.finish(result.map_err(|e| Rc::new(*e)));
    });
    *handle.abort.borrow_mut() = Some(join.abort_handle());
    Ok(handle)
}

fn spawn(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    args.func(0)?;
    let f = args.take(0);
    Ok(Value::Task(spawn_task(vm, f)?))
}

/// Waits for `task` and returns its outcome.
pub async fn join_task(task: &TaskHandle) -> RtResult<Value> {
    loop {
        let notified = task.done.notified();
        match &*task.state.borrow() {
            TaskState::Running => {}
            TaskState::Finished(Ok(v)) => return Ok(v.clone()),
            TaskState::Finished(Err(e)) => return Err(Box::new((**e).clone())),
            TaskState::Cancelled => {
                return Err(RtError::new(
                    "cancelled",
                    format!("task {} was cancelled", task.id),
                ))
            }
        }
        notified.await;
    }
}

fn task_arg(v: &Value, who: &str) -> RtResult<Rc<TaskHandle>> {
    match v {
        Value::Task(t) => Ok(t.clone()),
        other => Err(type_error(format!(
            "{who}: argument 1 (task) must be a task, got {}",
            other.type_name()
        ))),
    }
}

fn await_task(_vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        match &args[0] {
            Value::List(items) => {
                let tasks: Vec<Rc<TaskHandle>> = items
                    .iter()
                    .map(|v| task_arg(v, "await"))
                    .collect::<RtResult<_>>()?;
                let mut out = Vec::with_capacity(tasks.len());
                for t in tasks {
                    out.push(join_task(&t).await?);
                }
                Ok(Value::list(out))
            }
            v => {
                let t = task_arg(v, "await")?;
                join_task(&t).await
            }
        }
    })
}

fn cancel(_vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::List(items) => {
            let tasks: Vec<Rc<TaskHandle>> = items
                .iter()
                .map(|v| task_arg(v, "cancel"))
                .collect::<RtResult<_>>()?;
            for t in tasks {
                t.cancel();
            }
        }
        v => task_arg(v, "cancel")?.cancel(),
    }
    Ok(Value::Nil)
}

/// `{max_concurrent}` for the parallel builtins.
fn max_concurrent(who: &str, opts: Option<&Value>, default: usize) -> RtResult<usize> {
    let Some(opts) = opts else {
        return Ok(default);
    };
    let Value::Dict(d) = opts else {
        return Err(type_error(format!(
            "{who}: argument 3 (options) must be a dict, got {}",
            opts.type_name()
        )));
    };
    let mut n = default;
    for (k, v) in d.iter() {
        match k.as_str() {
            "max_concurrent" => match v {
                Value::Int(i) if *i >= 1 => n = *i as usize,
                Value::Nil => {}
                other => {
                    return Err(value_error(format!(
                        "{who}: max_concurrent must be an int >= 1, got {}",
                        other.to_repr()
                    )))
                }
            },
            other => {
                let mut msg = format!("{who}: unknown option '{other}'");
                if let Some(s) = did_you_mean(other, PARALLEL_OPTIONS.iter().copied()) {
                    msg.push_str(&format!(" (did you mean '{s}'?)"));
                } else {
                    msg.push_str(&format!(
                        " (known options: {})",
                        PARALLEL_OPTIONS.join(", ")
                    ));
                }
                return Err(value_error(msg));
            }
        }
    }
    Ok(n)
}

/// Cancels the tasks still running when dropped (the caller was cancelled
/// or an item failed).
struct CancelOnDrop(Vec<Rc<TaskHandle>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.cancel();
        }
    }
}

/// Starts one task per item, at most `limit` running `f(item)` at once.
fn start_parallel(vm: &Vm, items: Vec<Value>, f: Value, limit: usize) -> RtResult<CancelOnDrop> {
    let permits = Rc::new(tokio::sync::Semaphore::new(limit));
    // Dropped (cancelling what was started) if a task cannot be counted.
    let mut started = CancelOnDrop(Vec::with_capacity(items.len()));
    for item in items {
        let live = LiveTask::start(&vm.program)?;
        let permits = permits.clone();
        let f = f.clone();
        let handle = Rc::new(TaskHandle::new(next_id(vm)));
        let mut child = Vm::new(vm.program.clone());
        child.ctx = vm.ctx.clone();
        let done = handle.clone();
        let join = tokio::task::spawn_local(async move {
            let _live = live;
            let _permit = permits.acquire().await;
            let result = child.call_value(&f, &[item]).await;
            done.finish(result.map_err(|e| Rc::new(*e)));
        });
        *handle.abort.borrow_mut() = Some(join.abort_handle());
        started.0.push(handle);
    }
    Ok(started)
}

fn parallel_args(who: &'static str, args: &mut [Value]) -> RtResult<(Vec<Value>, Value, usize)> {
    let a = Args::new(who, &["list", "fn", "options"], args);
    a.func(1)?;
    let items = match a.get(0) {
        Some(v @ (Value::List(_) | Value::Range(_) | Value::Str(_) | Value::Dict(_))) => {
            iter_items(v, who)?
        }
        _ => return Err(a.type_err(0, "a list")),
    };
    let limit = max_concurrent(who, a.get(2), 16)?;
    Ok((items, args[1].clone(), limit))
}

fn parallel_map(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (items, f, limit) = parallel_args("parallel_map", &mut args)?;
        let tasks = start_parallel(vm, items, f, limit)?;
        let mut out = Vec::with_capacity(tasks.0.len());
        for t in &tasks.0 {
            out.push(join_task(t).await?);
        }
        Ok(Value::list(out))
    })
}

fn parallel_settle(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (items, f, limit) = parallel_args("parallel_settle", &mut args)?;
        let tasks = start_parallel(vm, items, f, limit)?;
        let mut out = Vec::with_capacity(tasks.0.len());
        for t in &tasks.0 {
            out.push(match join_task(t).await {
                Ok(v) => dict_from([("ok", Value::Bool(true)), ("value", v)]),
                Err(e) => dict_from([("ok", Value::Bool(false)), ("error", e.to_value())]),
            });
        }
        Ok(Value::list(out))
    })
}

fn channel(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let capacity = match args.opt(0) {
        None => None,
        Some(Value::Int(n)) if *n >= 1 => Some(*n as usize),
        Some(Value::Int(n)) => {
            return Err(value_error(format!(
                "channel: capacity must be at least 1, got {n}"
            )))
        }
        Some(_) => return Err(args.type_err(0, "an int")),
    };
    Ok(Value::Channel(Rc::new(Channel::new(next_id(vm), capacity))))
}

fn channel_arg(v: &Value, who: &str) -> RtResult<Rc<Channel>> {
    match v {
        Value::Channel(c) => Ok(c.clone()),
        other => Err(type_error(format!(
            "{who}: argument 1 (channel) must be a channel, got {}",
            other.type_name()
        ))),
    }
}

fn send(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let ch = channel_arg(&args[0], "send")?;
        let v = std::mem::take(&mut args[1]);
        loop {
            let writable = ch.writable.notified();
            if ch.closed.get() {
                return Err(value_error(format!("send: channel {} is closed", ch.id)));
            }
            let full = ch
                .capacity
                .is_some_and(|cap| ch.items.borrow().len() >= cap);
            if !full {
                // An unbounded channel's queue is a collection too.
                let queued = ch.items.borrow().len();
                if let Some(max) = vm.program.limits.max_collection_len {
                    if queued + 1 > max {
                        return Err(crate::value::limits::collection_too_large(
                            "channel queue length",
                            queued + 1,
                            max,
                        ));
                    }
                }
                ch.items.borrow_mut().push_back(v);
                ch.readable.notify_waiters();
                return Ok(Value::Nil);
            }
            writable.await;
        }
    })
}

fn recv(_vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let ch = channel_arg(&args[0], "recv")?;
        loop {
            let readable = ch.readable.notified();
            let item = ch.items.borrow_mut().pop_front();
            if let Some(v) = item {
                ch.writable.notify_waiters();
                return Ok(v);
            }
            if ch.closed.get() {
                return Ok(Value::Nil);
            }
            readable.await;
        }
    })
}

fn close(_vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let ch = channel_arg(&args.vals[0], "close")?;
    ch.closed.set(true);
    ch.readable.notify_waiters();
    ch.writable.notify_waiters();
    Ok(Value::Nil)
}

fn sleep(_vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let ms = match &args[0] {
            Value::Int(n) if *n >= 0 => *n as f64,
            Value::Float(f) if *f >= 0.0 && f.is_finite() => *f,
            Value::Int(_) | Value::Float(_) => {
                return Err(value_error(format!(
                    "sleep: ms must be a non-negative number, got {}",
                    args[0].to_repr()
                )))
            }
            other => {
                return Err(type_error(format!(
                    "sleep: argument 1 (ms) must be a number, got {}",
                    other.type_name()
                )))
            }
        };
        tokio::time::sleep(super::time::duration_from_ms(ms)).await;
        Ok(Value::Nil)
    })
}
