//! The envelope a worker cycle ends with (workers.md §1): the
//! `sub_agent_run` result of a finished agent run, or the failure envelope
//! of a cycle that ended without one (timeout, cancel, a script error).

use weft_vm::value::{dict_from, Value};

use super::options::WorkerOptions;
use super::registry::Worker;
use super::run::error_value;
use crate::agent_loop::{AgentRun, AgentStatus};

pub(super) fn env_get(v: &Value, k: &str) -> Value {
    match v {
        Value::Dict(d) => weft_vm::value::dict_get(d, k)
            .cloned()
            .unwrap_or(Value::Nil),
        _ => Value::Nil,
    }
}

/// The `sub_agent_run` envelope of a finished run (workers.md §1).
pub fn envelope(run: &AgentRun, w: &Worker, opts: &WorkerOptions) -> Value {
    let p = &run.progress;
    let json_asked = opts.agent.llm.json;
    let mut summary = run.visible_text.trim().to_string();
    if json_asked && !run.data.is_nil() {
        summary = weft_vm::value::to_json_string(&run.data, false).unwrap_or(summary);
    }
    if summary.is_empty() {
        // The last reply had no text (only tool calls): the run's latest
        // reply that had some — never a seeded or carried message.
        summary = run
            .transcript
            .messages
            .iter()
            .skip(p.first_new_message)
            .rev()
            .find(|m| m.role == crate::llm::Role::Assistant && !m.content.trim().is_empty())
            .map(|m| {
                crate::llm::extract::visible_text(&m.content)
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
    }
    let denied: Vec<Value> = p.rejected.iter().map(|n| Value::str(n.clone())).collect();
    let budget_exceeded = run.status == AgentStatus::BudgetExhausted;
    let error = if let Some(first) = p.rejected.first() {
        let reason = p
            .tool_calls
            .iter()
            .filter_map(|c| c.error())
            .find(|e| e.category == "permission_denied")
            .map(|e| e.message.clone())
            .unwrap_or_else(|| format!("tool '{first}' is not allowed"));
        error_value("permission_denied", &reason, Some(first))
    } else {
        match (run.status, &run.error) {
            (AgentStatus::Done, _) => Value::Nil,
            (_, Some(e)) => error_value(&e.category, &e.message, None),
            (AgentStatus::BudgetExhausted, None) => error_value(
                "budget_exceeded",
                "the worker stopped because its token_budget was spent",
                None,
            ),
            (AgentStatus::MaxIterations, None) => error_value(
                "max_iterations",
                &format!(
                    "the worker made {} model calls without finishing",
                    p.iterations
                ),
                None,
            ),
            (s, None) => error_value(s.as_str(), s.as_str(), None),
        }
    };
    dict_from([
        ("ok", Value::Bool(error.is_nil())),
        ("summary", Value::str(summary)),
        ("data", run.data.clone()),
        ("error", error),
        (
            "tokens_used",
            Value::Int((p.input_tokens + p.output_tokens) as i64),
        ),
        ("budget_exceeded", Value::Bool(budget_exceeded)),
        ("iterations", Value::Int(p.iterations as i64)),
        (
            "tool_calls",
            Value::list(
                p.tool_calls
                    .iter()
                    .map(crate::agent_loop::result::record_to_value)
                    .collect(),
            ),
        ),
        ("denied", Value::list(denied)),
        (
            "session_id",
            Value::str(
                opts.session_id
                    .clone()
                    .unwrap_or_else(|| run.transcript.id.clone()),
            ),
        ),
        ("worker_id", Value::str(w.id.clone())),
        ("transcript", run.transcript.to_value()),
    ])
}

/// An envelope for a worker that ended without a run result (timeout,
/// cancel, a script error).
pub fn failure_envelope(w: &Worker, error: Value) -> Value {
    let u = w.usage.get();
    let over_budget = env_get(&error, "category").as_str() == Some("budget_exceeded");
    dict_from([
        ("ok", Value::Bool(false)),
        ("summary", Value::str("")),
        ("data", Value::Nil),
        ("error", error),
        (
            "tokens_used",
            Value::Int((u.input_tokens + u.output_tokens) as i64),
        ),
        ("budget_exceeded", Value::Bool(over_budget)),
        ("iterations", Value::Int(u.iterations as i64)),
        ("tool_calls", Value::list(Vec::new())),
        ("denied", Value::list(Vec::new())),
        ("session_id", Value::Nil),
        ("worker_id", Value::str(w.id.clone())),
        ("transcript", Value::Nil),
    ])
}
