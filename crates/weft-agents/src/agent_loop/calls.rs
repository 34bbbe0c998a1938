//! Settling one turn's tool calls (agents.md §5): each call is authorised
//! (policies, registry, the task's capability policy), validated and run,
//! and its result appended to the transcript as a `tool` message, with a
//! record in the progress. Resuming runs the calls a saved turn left open.

use std::time::Instant;

use serde_json::json;
use weft_vm::error::{RtError, RtResult};
use weft_vm::vm::Vm;

use super::config::{AgentConfig, AgentHooks, AgentProgress, ToolCallRecord};
use crate::approval::gate::{approve_tool_call, REJECTED};
use crate::llm::{Message, Role, ToolCall};
use crate::tools::{authorize, run_tool, ToolError, ToolOutcome};
use crate::transcript::Transcript;

/// The error of a run ended by its hooks (or of a call never run).
pub(super) fn cancelled_error() -> ToolError {
    ToolError::new("cancelled", "the agent loop was cancelled")
}

/// The tool calls of the last assistant message that have no result yet.
pub(crate) fn open_calls(t: &Transcript) -> Option<Vec<ToolCall>> {
    let at = t.messages.iter().rposition(|m| m.role == Role::Assistant)?;
    let answered: Vec<&str> = t.messages[at + 1..]
        .iter()
        .filter_map(|m| m.tool_call_id.as_deref())
        .collect();
    let open: Vec<ToolCall> = t.messages[at]
        .tool_calls
        .iter()
        .filter(|c| !answered.contains(&c.id.as_str()))
        .cloned()
        .collect();
    (!open.is_empty()).then_some(open)
}

/// The ids of [`open_calls`] (none when the last turn is settled).
pub fn open_call_ids(t: &Transcript) -> Vec<String> {
    open_calls(t)
        .map(|calls| calls.into_iter().map(|c| c.id).collect())
        .unwrap_or_default()
}

/// Settles one turn's tool calls in order, appending each result to the
/// transcript and its record to the progress. With `resuming`, a call
/// already recorded for this turn is not run again, and a non-idempotent
/// one that had started (`progress.in_flight`) gets `interrupted`; one
/// that never started runs. Returns the error that cancelled the run, if
/// any.
#[allow(clippy::too_many_arguments)]
pub(super) async fn settle(
    vm: &mut Vm,
    config: &AgentConfig,
    hooks: &mut dyn AgentHooks,
    t: &mut Transcript,
    p: &mut AgentProgress,
    calls: Vec<ToolCall>,
    iteration: u64,
    resuming: bool,
) -> RtResult<Option<ToolError>> {
    let mut cancelled: Option<ToolError> = None;
    for call in calls {
        if resuming {
            let done = p
                .tool_calls
                .iter()
                .rev()
                .find(|r| r.id == call.id && r.iteration == iteration);
            if let Some(rec) = done {
                t.messages.push(Message::tool_result(
                    &call.id,
                    &call.name,
                    rec.content.clone(),
                ));
                continue;
            }
        }
        if cancelled.is_none() && hooks.cancelled() {
            cancelled = Some(cancelled_error());
        }
        let start = Instant::now();
        let outcome = if cancelled.is_some() {
            ToolOutcome::Err(ToolError::new(
                "cancelled",
                "the agent loop was cancelled before this tool ran",
            ))
        } else {
            match authorize(vm, &config.tools, &config.policies, &call.name) {
                Err(e) => {
                    if e.category == "permission_denied" && !p.rejected.contains(&call.name) {
                        p.rejected.push(call.name.clone());
                    }
                    ToolOutcome::Err(e)
                }
                Ok(tool) if resuming && !tool.idempotent && p.in_flight.contains(&call.id) => {
                    ToolOutcome::Err(ToolError::new(
                        "interrupted",
                        "the process stopped while this tool was running; its effect is unknown",
                    ))
                }
                Ok(tool) => {
                    let gated = tool.requires_approval || vm.ctx.policy.approves_tool(&call.name);
                    let approval = if gated {
                        match approve_tool_call(vm, &call.name, &call.arguments).await {
                            Ok(a) => a,
                            Err(e) => {
                                hooks.approval_parked(vm, p, t).await;
                                return Err(e);
                            }
                        }
                    } else {
                        Ok(())
                    };
                    match approval {
                        Err(rejection) => {
                            ToolOutcome::Err(ToolError::new(REJECTED, rejection.reason))
                        }
                        Ok(()) => {
                            if !tool.idempotent {
                                p.in_flight.push(call.id.clone());
                            }
                            hooks.tool_started(vm, &call, p, t).await?;
                            let out = run_tool(vm, tool, &call.arguments).await;
                            // A crash point of the test hook: the effect
                            // happened, nothing recorded it yet.
                            crate::store::crash_points::after_effect();
                            if let ToolOutcome::Err(e) = &out {
                                if e.category == "awaiting_approval" {
                                    // The handler's own request_approval
                                    // parked: the whole loop parks, and a
                                    // resumed run calls the handler again.
                                    p.in_flight.retain(|id| id != &call.id);
                                    hooks.approval_parked(vm, p, t).await;
                                    return Err(RtError::new(
                                        "awaiting_approval",
                                        e.message.clone(),
                                    ));
                                }
                            }
                            out
                        }
                    }
                }
            }
        };
        if let ToolOutcome::Err(e) = &outcome {
            if e.category == "cancelled" && cancelled.is_none() {
                cancelled = Some(e.clone());
            }
            // A capability check that failed inside the handler (the tool
            // is allowed, what it tried is not) is a denial like a tool the
            // policy hides: listed in `rejected`/`denied`, so the envelope
            // says `ok: false` either way (docs/workers-decisions.md).
            if e.category == "permission_denied" && !p.rejected.contains(&call.name) {
                p.rejected.push(call.name.clone());
            }
        }
        p.in_flight.retain(|id| id != &call.id);
        let content = outcome.model_content(&call.name);
        let duration_ms = start.elapsed().as_millis() as u64;
        t.messages
            .push(Message::tool_result(&call.id, &call.name, content.clone()));
        let mut ev =
            json!({"id": call.id, "name": call.name, "ok": true, "duration_ms": duration_ms});
        if let ToolOutcome::Err(e) = &outcome {
            ev["ok"] = false.into();
            ev["error"] = e.category.clone().into();
        }
        t.event("tool_call", ev);
        p.tool_calls.push(ToolCallRecord {
            id: call.id,
            name: call.name,
            arguments: call.arguments,
            outcome,
            content,
            duration_ms,
            iteration,
        });
        hooks.tool_finished(vm, p, t).await;
    }
    Ok(cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_calls_after_partial_turn() {
        let mut t = Transcript::new();
        t.messages.push(Message::user("go"));
        let mut a = Message::assistant("");
        for id in ["a", "b"] {
            a.tool_calls.push(ToolCall {
                id: id.into(),
                name: "read".into(),
                arguments: json!({}),
            });
        }
        t.messages.push(a);
        t.messages.push(Message::tool_result("a", "read", "x"));
        let open = open_calls(&t).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, "b");
        t.messages.push(Message::tool_result("b", "read", "y"));
        assert!(open_calls(&t).is_none());
        t.messages.push(Message::assistant("done"));
        assert!(open_calls(&t).is_none());
    }
}
