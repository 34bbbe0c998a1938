//! Human approval gates (issue 17 §1): `request_approval(question,
//! {choices?, default?, timeout_ms?, data?})` → `{approved, choice,
//! comment, by, at}`. Design: docs/approval-decisions.md.
//!
//! Where the answer comes from, in order: an answer already stored for the
//! request (`<state>/approvals/<id>.json`, answered by `weft approve` or
//! earlier in a previous run), the host's `on_approval` callback, an
//! interactive prompt when stdin and stderr are terminals (and the host
//! allows it), otherwise the request **parks**: the pending record is
//! written durably and, without `timeout_ms`, the program stops with
//! category `awaiting_approval` (with `timeout_ms`, the task waits that
//! long for `weft approve` and then takes `default` or fails with
//! `timeout`). Every answer is stored, so running the program again
//! continues after the gate without asking again.

pub mod gate;
pub mod options;
pub mod record;
mod terminal;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use weft_vm::builtins::{asynchronous, BuiltinDef, LocalBoxFuture};
use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::value::{dict_from, Value};
use weft_vm::vm::Vm;

pub use options::{ApprovalAnswer, ApprovalRequest};

use crate::state::AgentState;
use crate::store::Store;

/// A request as a host's `on_approval` callback sees it.
#[derive(Clone, Debug)]
pub struct PendingApproval {
    /// The request's durable id (`a_...`).
    pub id: String,
    pub request: ApprovalRequest,
    /// The worker that asked, if any.
    pub worker_id: Option<String>,
}

/// A host's answer source: `None` leaves the request to the other sources
/// (it parks when there is no terminal).
pub type ApprovalHandler =
    Rc<dyn Fn(PendingApproval) -> LocalBoxFuture<'static, Option<ApprovalAnswer>>>;

/// The run's approval settings.
#[derive(Default)]
pub struct ApprovalState {
    /// The host's callback (`EngineBuilder::on_approval`).
    pub handler: RefCell<Option<ApprovalHandler>>,
    /// Whether a terminal prompt may answer (`weft run`, the REPL).
    pub interactive: Cell<bool>,
    /// Requests made so far per request identity (for the `nth` of the id).
    seen: RefCell<HashMap<String, u32>>,
}

/// How often a parked request with a timeout looks for an answer.
const POLL: Duration = Duration::from_millis(50);

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![asynchronous(
        "request_approval",
        &["question", "options"],
        1,
        2,
        "agents",
        "Asks a human: `request_approval(question, {choices?, default?, timeout_ms?, data?})` → `{approved, choice, comment, by, at}`. Answered by the host's callback, a terminal prompt, or `weft approve ID` (the request parks durably; without `timeout_ms` the program stops with `awaiting_approval` and continues after the gate when run again). A timeout takes `default` or fails with `timeout`.",
        request_approval,
    )
    .options(&[&options::KEYS])]
}

fn request_approval(vm: &mut Vm, args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "request_approval";
        let req = options::parse_request(&args[0], args.get(1), who)?;
        let answer = ask(vm, req, who).await?;
        Ok(answer)
    })
}

/// The result dict of an answer.
fn answer_value(a: &ApprovalAnswer, at: &str) -> Value {
    let s = |o: &Option<String>| o.clone().map_or(Value::Nil, Value::str);
    dict_from([
        ("approved", Value::Bool(a.approved)),
        ("choice", s(&a.choice)),
        ("comment", s(&a.comment)),
        ("by", Value::str(a.by.clone())),
        ("at", Value::str(at.to_string())),
    ])
}

/// Resolves one request through the answer sources (see the module doc).
pub async fn ask(vm: &mut Vm, req: ApprovalRequest, who: &str) -> RtResult<Value> {
    let state = vm.program.ext::<AgentState>();
    let reg = &state.workers;
    let worker = reg.current(&vm.ctx);
    let program = program_name(vm);
    let scope = worker
        .as_ref()
        .and_then(|w| w.key.clone())
        .unwrap_or_default();
    let (base, id) = {
        let (base, _) = record::approval_id(&program, &scope, &req, 0);
        let mut seen = state.approvals.seen.borrow_mut();
        let n = seen.entry(base).or_insert(0);
        let nth = *n;
        *n += 1;
        record::approval_id(&program, &scope, &req, nth)
    };
    let _ = base;
    let store = reg.store();
    let worker_id = worker.as_ref().map(|w| w.id.clone());
    let stored = store
        .as_ref()
        .and_then(|s| s.read_json(&record::rel(&id)).ok());
    if let Some(rec) = &stored {
        if let Some((a, at)) = record::stored_answer(rec) {
            return finish(vm, &id, &req, a, Some(at), None, who).await;
        }
    }
    let mut rec = stored.unwrap_or_else(|| {
        record::pending(
            &id,
            &req,
            &program,
            worker_id.as_deref(),
            Some(&scope).filter(|s| !s.is_empty()).map(|s| s.as_str()),
        )
    });
    let requested_ms = rec["requested_ms"].as_u64().unwrap_or_else(record::now_ms);
    let deadline_ms = req.timeout_ms.map(|t| requested_ms.saturating_add(t));
    event(
        vm,
        "approval_requested",
        json!({
            "id": id, "question": req.question, "choices": req.choices,
            "timeout_ms": req.timeout_ms, "data": req.data,
        }),
    );
    // The host's callback, then a terminal, each bounded by the timeout.
    let handler = state.approvals.handler.borrow().clone();
    let interactive = state.approvals.interactive.get() && terminal::available();
    if handler.is_some() || interactive {
        let pending = PendingApproval {
            id: id.clone(),
            request: req.clone(),
            worker_id: worker_id.clone(),
        };
        let fut: LocalBoxFuture<'static, Option<ApprovalAnswer>> = match handler {
            Some(h) => h(pending),
            None => Box::pin(terminal::prompt(pending)),
        };
        let got = match deadline_ms {
            Some(d) => tokio::time::timeout(
                Duration::from_millis(d.saturating_sub(record::now_ms())),
                fut,
            )
            .await
            .unwrap_or(None),
            None => fut.await,
        };
        if let Some(a) = got {
            req.check(&a)
                .map_err(|e| value_error(format!("{who}: answer to {id}: {e}")))?;
            return finish(vm, &id, &req, a, None, Some(rec), who).await;
        }
        if deadline_ms.is_some_and(|d| record::now_ms() >= d) {
            return timed_out(vm, &id, &req, rec, who).await;
        }
    }
    // Park durably.
    let Some(store) = store.filter(|s| s.persist()) else {
        return Err(RtError::new(
            "awaiting_approval",
            format!(
                "{who}: '{}' needs an answer, but there is no host callback, no terminal and no state directory to park the request in",
                req.question
            ),
        ));
    };
    write(&store, &id, &rec, who).await?;
    match deadline_ms {
        None => Err(RtError::new(
            "awaiting_approval",
            format!(
                "{who}: approval {id} is pending: {}; answer it with `weft approve {id}` (or `--reject`) and run the program again",
                req.question
            ),
        )),
        Some(deadline) => loop {
            if let Ok(r) = store.read_json(&record::rel(&id)) {
                if let Some((a, at)) = record::stored_answer(&r) {
                    return finish(vm, &id, &req, a, Some(at), None, who).await;
                }
                rec = r;
            }
            let now = record::now_ms();
            if now >= deadline {
                return timed_out(vm, &id, &req, rec, who).await;
            }
            tokio::time::sleep(POLL.min(Duration::from_millis(deadline - now))).await;
        },
    }
}

/// The timeout: `default`, stored as the answer, or a `timeout` error.
async fn timed_out(
    vm: &mut Vm,
    id: &str,
    req: &ApprovalRequest,
    rec: serde_json::Value,
    who: &str,
) -> RtResult<Value> {
    match &req.default {
        Some((approved, choice)) => {
            let a = ApprovalAnswer {
                approved: *approved,
                choice: choice.clone(),
                comment: None,
                by: "timeout".into(),
            };
            finish(vm, id, req, a, None, Some(rec), who).await
        }
        None => {
            event(
                vm,
                "approval_resolved",
                json!({"id": id, "status": "timed_out"}),
            );
            Err(RtError::new(
                "timeout",
                format!(
                    "{who}: approval {id} ('{}') was not answered within {} ms and has no default",
                    req.question,
                    req.timeout_ms.unwrap_or(0)
                ),
            ))
        }
    }
}

/// Stores a new answer (when `rec` is given), reports it, returns its dict.
async fn finish(
    vm: &mut Vm,
    id: &str,
    req: &ApprovalRequest,
    a: ApprovalAnswer,
    at: Option<String>,
    rec: Option<serde_json::Value>,
    who: &str,
) -> RtResult<Value> {
    let at = match (at, rec) {
        (Some(at), _) => at,
        (None, Some(rec)) => {
            let updated = record::answered(&rec, &a);
            let store = vm.program.ext::<AgentState>().workers.store();
            if let Some(s) = store.filter(|s| s.persist()) {
                write(&s, id, &updated, who).await?;
            }
            updated["answer"]["at"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
        (None, None) => crate::workers::registry::now(),
    };
    let _ = req;
    event(
        vm,
        "approval_resolved",
        json!({
            "id": id, "approved": a.approved, "choice": a.choice, "comment": a.comment, "by": a.by, "at": at,
        }),
    );
    Ok(answer_value(&a, &at))
}

async fn write(store: &Store, id: &str, rec: &serde_json::Value, who: &str) -> RtResult<()> {
    store.write_json(&record::rel(id), rec).await.map_err(|e| {
        RtError::new(
            "io_error",
            format!("{who}: cannot store approval {id}: {e}"),
        )
    })
}

/// The calling script's file (canonical when it exists): part of the id.
fn program_name(vm: &Vm) -> String {
    let name = vm
        .current_file()
        .map(|f| f.name.clone())
        .unwrap_or_default();
    vm.ctx
        .resolve_path(&name)
        .canonicalize()
        .map(|p| p.display().to_string())
        .unwrap_or(name)
}

/// One event: the current worker's, or the program's (`worker_id` nil).
fn event(vm: &Vm, kind: &str, data: serde_json::Value) {
    let state = vm.program.ext::<AgentState>();
    let reg = &state.workers;
    match reg.current(&vm.ctx) {
        Some(w) => crate::workers::events::emit(reg, &w, kind, data),
        None => {
            let seq = reg.seq.get() + 1;
            reg.seq.set(seq);
            let ev = json!({
                "seq": seq, "at": crate::workers::registry::now(), "kind": kind,
                "worker_id": null, "name": null, "parent_id": null, "status": null, "data": data,
            });
            crate::workers::events::publish(reg, &ev);
        }
    }
}
