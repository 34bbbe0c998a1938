//! The loop itself (agents.md §5). Each turn: stop if cancelled, if the
//! token budget is spent, or if `max_iterations` model calls were made; call
//! the model with the tools the policies allow; settle every tool call it
//! asked for (authorise, validate, run, append the result); call `on_turn`
//! and the `after_turn` hook; end when the reply has no tool calls or
//! contains the done sentinel — after the JSON/schema check of the final
//! answer, which may send a corrective message and go round again.
//!
//! A `budget` option opens a budget scope for the run (reserved from the
//! caller's; what is left returns when the loop ends); a model call the
//! budget refuses ends the run as `budget_exhausted` with that error.
//!
//! Only script callbacks (`on_turn`), the `after_turn` hook, a budget
//! the caller's scope cannot cover and a tool call whose approval parked
//! (`awaiting_approval`) can make
//! [`run_agent_loop`] return `Err`; model and tool failures end up in the
//! returned [`AgentRun`] (`failed`, `cancelled`) or in tool results.

use serde_json::json;
use weft_vm::error::RtResult;
use weft_vm::value::{dict_from, from_json, Value};
use weft_vm::vm::Vm;

use super::calls::{cancelled_error, open_calls, settle};
use super::config::{AgentConfig, AgentHooks, AgentProgress, AgentRun, AgentStatus, TurnView};
use super::result::record_to_value;
use crate::llm::extract::{extract_json, visible_text};
use crate::llm::structured::{check_reply, corrective_message};
use crate::llm::{complete, Message, Role};
use crate::tools::{allowed_tools, ToolError};
use crate::transcript::Transcript;

/// Runs an agent loop to its end. While it runs, code it calls (tool
/// handlers) sees the loop's session in `vm.ctx.session_events`; events
/// added there (e.g. by `sub_agent_run`) join the loop's transcript.
pub async fn run_agent_loop(
    vm: &mut Vm,
    config: AgentConfig,
    hooks: &mut dyn AgentHooks,
) -> RtResult<AgentRun> {
    let sink: weft_vm::context::SessionEvents = Default::default();
    let scope = match config.budget.clone() {
        Some(limits) => Some(crate::budget::open_scope(
            vm,
            limits,
            Default::default(),
            false,
            "agent_loop",
        )?),
        None => None,
    };
    let outer_budget = match &scope {
        Some(s) => vm.ctx.budget.replace(s.clone()),
        None => vm.ctx.budget.clone(),
    };
    let outer = vm.ctx.session_events.replace(sink.clone());
    // The loop's own `approve` entries join the task's while it runs (its
    // tool calls and the builtins their handlers call).
    let outer_policy = vm.ctx.policy.clone();
    let approve: Vec<&String> = config.policies.iter().flat_map(|p| &p.approve).collect();
    if approve.iter().any(|e| !outer_policy.approve.contains(*e)) {
        let mut narrowed = (*outer_policy).clone();
        narrowed.approve.extend(approve.into_iter().cloned());
        vm.ctx.policy = std::rc::Rc::new(narrowed);
    }
    let result = run_agent_loop_inner(vm, config, hooks).await;
    vm.ctx.policy = outer_policy;
    vm.ctx.session_events = outer;
    vm.ctx.budget = outer_budget;
    if let Some(s) = scope {
        s.close();
    }
    let mut run = result?;
    let added: Vec<serde_json::Value> = sink.borrow_mut().drain(..).collect();
    if !added.is_empty() {
        run.transcript.events.extend(added);
        // Chronological order (RFC 3339 UTC timestamps sort as strings).
        run.transcript.events.sort_by(|a, b| {
            a["at"]
                .as_str()
                .unwrap_or("")
                .cmp(b["at"].as_str().unwrap_or(""))
        });
    }
    Ok(run)
}

async fn run_agent_loop_inner(
    vm: &mut Vm,
    mut config: AgentConfig,
    hooks: &mut dyn AgentHooks,
) -> RtResult<AgentRun> {
    let mut t = std::mem::take(&mut config.transcript);
    let resumed = config.resume.is_some();
    let mut p = config.resume.take().unwrap_or_default();
    if !resumed {
        p.first_new_message = t.messages.len();
    }
    if let Some(task) = &config.task {
        t.messages.push(Message::user(task.clone()));
    }
    t.event(
        "agent_start",
        json!({"task": config.task, "resumed": resumed}),
    );
    let offered = allowed_tools(vm, &config.tools, &config.policies).to_specs();
    let system = system_prompt(config.system.as_deref(), &t);
    // The last reply of this run so far (a resumed run's; none yet for a
    // new one: seeded or carried messages are not its replies).
    let mut text = last_assistant_text(&t, p.first_new_message);

    // A resumed run first settles the tool calls its last turn left open.
    if let Some(calls) = open_calls(&t) {
        let iteration = p.iterations;
        if let Some(err) =
            settle(vm, &config, hooks, &mut t, &mut p, calls, iteration, true).await?
        {
            return Ok(finish(
                &config,
                AgentStatus::Cancelled,
                Some(err),
                text,
                Value::Nil,
                p,
                t,
            ));
        }
    }

    let mut correcting = false;
    // The final answers that failed the schema, for the error (all of them).
    let mut schema_attempts: Vec<crate::llm::structured::SchemaAttempt> = Vec::new();
    let mut stop_reason: String;
    loop {
        if hooks.cancelled() {
            return Ok(finish(
                &config,
                AgentStatus::Cancelled,
                Some(cancelled_error()),
                text,
                Value::Nil,
                p,
                t,
            ));
        }
        if let Some(budget) = config.token_budget {
            if p.input_tokens + p.output_tokens >= budget {
                return Ok(finish(
                    &config,
                    AgentStatus::BudgetExhausted,
                    None,
                    text,
                    Value::Nil,
                    p,
                    t,
                ));
            }
        }
        if !correcting && p.iterations >= config.max_iterations {
            return Ok(finish(
                &config,
                AgentStatus::MaxIterations,
                None,
                text,
                Value::Nil,
                p,
                t,
            ));
        }
        let messages: Vec<Message> = t
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .cloned()
            .collect();
        let resp = match complete(vm, &config.llm, system.clone(), messages, offered.clone()).await
        {
            Ok(r) => {
                // A crash point of the test hook: the reply arrived,
                // nothing recorded it yet.
                crate::store::crash_points::after_effect();
                r
            }
            Err(e) => {
                let err = ToolError::new(e.category(), e.message());
                t.event(
                    "model_error",
                    json!({"category": err.category, "message": err.message}),
                );
                let status = if err.category == "cancelled" {
                    AgentStatus::Cancelled
                } else if err.category == "budget_exceeded" {
                    AgentStatus::BudgetExhausted
                } else {
                    AgentStatus::Failed
                };
                return Ok(finish(&config, status, Some(err), text, Value::Nil, p, t));
            }
        };
        p.iterations += 1;
        p.input_tokens += resp.input_tokens;
        p.output_tokens += resp.output_tokens;
        let iteration = p.iterations;
        let mut reply = Message::assistant(resp.text.clone());
        reply.tool_calls = resp.tool_calls.clone();
        t.messages.push(reply);
        t.event(
            "model_call",
            json!({"iteration": iteration, "input_tokens": resp.input_tokens,
                   "output_tokens": resp.output_tokens, "tool_calls": resp.tool_calls.len()}),
        );
        text = resp.text;
        stop_reason = resp.stop_reason;

        let first = p.tool_calls.len();
        let has_calls = !resp.tool_calls.is_empty();
        let cancelled = settle(
            vm,
            &config,
            hooks,
            &mut t,
            &mut p,
            resp.tool_calls,
            iteration,
            false,
        )
        .await?;
        if let Some(f) = &config.on_turn {
            let calls = p.tool_calls[first..].iter().map(record_to_value).collect();
            let turn = dict_from([
                ("iteration", Value::Int(iteration as i64)),
                ("text", Value::str(text.clone())),
                ("tool_calls", Value::list(calls)),
            ]);
            vm.call_value(f, &[turn]).await?;
        }
        let view = TurnView {
            iteration,
            text: &text,
            tool_calls: &p.tool_calls[first..],
            progress: &p,
            transcript: &t,
        };
        hooks.after_turn(vm, view).await?;
        if let Some(err) = cancelled {
            return Ok(finish(
                &config,
                AgentStatus::Cancelled,
                Some(err),
                text,
                Value::Nil,
                p,
                t,
            ));
        }

        let sentinel = config
            .done_sentinel
            .as_deref()
            .is_some_and(|s| text.contains(s));
        correcting = false;
        if has_calls && !sentinel {
            continue;
        }
        // The final answer: check its JSON when asked for.
        if !config.llm.json {
            return Ok(finish(
                &config,
                AgentStatus::Done,
                None,
                text,
                Value::Nil,
                p,
                t,
            ));
        }
        let answer = strip_sentinel(&text, config.done_sentinel.as_deref());
        let Some(schema) = config.llm.schema.clone().map(from_json) else {
            let data = extract_json(&visible_text(&answer)).map_or(Value::Nil, from_json);
            return Ok(finish(&config, AgentStatus::Done, None, text, data, p, t));
        };
        let (data, errors) = check_reply(&answer, &schema);
        if errors.is_empty() {
            let data = data.unwrap_or(Value::Nil);
            return Ok(finish(&config, AgentStatus::Done, None, text, data, p, t));
        }
        schema_attempts.push(crate::llm::structured::SchemaAttempt::new(
            errors.clone(),
            &stop_reason,
            config.llm.max_tokens,
        ));
        if p.schema_retries_used >= config.llm.schema_retries {
            let err = ToolError::new(
                "schema_validation",
                crate::llm::structured::schema_failure_message(&config.who, &schema_attempts),
            );
            return Ok(finish(
                &config,
                AgentStatus::Failed,
                Some(err),
                text,
                Value::Nil,
                p,
                t,
            ));
        }
        p.schema_retries_used += 1;
        t.messages.push(Message::user(corrective_message(&errors)));
        correcting = true;
    }
}

/// The system prompt sent: the call's, then system messages found in the
/// transcript, then the compaction summary.
fn system_prompt(system: Option<&str>, t: &Transcript) -> Option<String> {
    let mut parts: Vec<String> = system.iter().map(|s| s.to_string()).collect();
    parts.extend(
        t.messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.clone()),
    );
    if let Some(s) = &t.summary {
        parts.push(format!("Summary of the earlier conversation:\n{s}"));
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("\n\n"))
    }
}

fn last_assistant_text(t: &Transcript, from: usize) -> String {
    t.messages
        .iter()
        .skip(from)
        .rev()
        .find(|m| m.role == Role::Assistant)
        .map(|m| m.content.clone())
        .unwrap_or_default()
}

fn strip_sentinel(text: &str, sentinel: Option<&str>) -> String {
    match sentinel {
        Some(s) if !s.is_empty() && text.contains(s) => text.replace(s, "").trim().to_string(),
        _ => text.to_string(),
    }
}

fn finish(
    config: &AgentConfig,
    status: AgentStatus,
    error: Option<ToolError>,
    text: String,
    data: Value,
    progress: AgentProgress,
    mut transcript: Transcript,
) -> AgentRun {
    let visible = strip_sentinel(&visible_text(&text), config.done_sentinel.as_deref());
    transcript.event(
        "agent_end",
        json!({"status": status.as_str(), "iterations": progress.iterations,
               "input_tokens": progress.input_tokens, "output_tokens": progress.output_tokens}),
    );
    AgentRun {
        status,
        error,
        text,
        visible_text: visible,
        data,
        progress,
        transcript,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_prompt_parts() {
        let mut t = Transcript::new();
        assert_eq!(system_prompt(None, &t), None);
        t.messages.push(Message::new(Role::System, "be brief"));
        t.summary = Some("user: hi".into());
        assert_eq!(
            system_prompt(Some("You help."), &t).unwrap(),
            "You help.\n\nbe brief\n\nSummary of the earlier conversation:\nuser: hi"
        );
    }

    #[test]
    fn sentinel_stripping() {
        assert_eq!(
            strip_sentinel("all good ##DONE##", Some("##DONE##")),
            "all good"
        );
        assert_eq!(strip_sentinel("x", Some("##DONE##")), "x");
        assert_eq!(strip_sentinel("x", None), "x");
    }
}
