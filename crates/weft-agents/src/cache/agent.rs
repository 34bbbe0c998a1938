//! Caching whole agent runs: `agent_loop` and agent-mode `stage` nodes
//! (kind `agent_loop`, the stored result is the `agent_loop` result dict)
//! and agent workers — `sub_agent_run`, `spawn_worker`, `subagent` nodes
//! (kind `sub_agent`, the stored result is the envelope; `workers/run.rs`).
//!
//! A run's entry is named by the resolved provider and model, the system
//! prompt, the task, the starting messages, the tools (name, description,
//! parameters, idempotent flag), the policies and the options that change
//! the result. Tools' handlers are not part of the name, so a run whose
//! tools are not all `idempotent: true` is cached only under an explicit
//! `key` ([`check_cacheable`]). Only runs that ended `done` without a
//! denied tool call are stored. A hit runs no model call and no tool; its
//! result has `cached: true` and zero tokens.

use serde_json::json;
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, from_json, to_json, Value};
use weft_vm::vm::Vm;

use super::{CacheOpt, Slot};
use crate::agent_loop::{run_agent_loop, AgentConfig, AgentHooks, AgentRun, AgentStatus};
use crate::state::AgentState;
use crate::tools::ToolRegistry;
use crate::workers::options::value_json;

/// Refuses `cache: true` (no `key`) for a run with tools that are not
/// all idempotent: their effects are not part of what names the entry.
pub fn check_cacheable(opt: Option<&CacheOpt>, tools: &ToolRegistry, who: &str) -> RtResult<()> {
    let Some(opt) = opt else { return Ok(()) };
    if opt.key.is_some() {
        return Ok(());
    }
    let risky: Vec<&str> = tools
        .tools
        .iter()
        .filter(|t| !t.idempotent)
        .map(|t| t.name.as_str())
        .collect();
    if risky.is_empty() {
        return Ok(());
    }
    Err(value_error(format!(
        "{who}: cache: true needs every tool to be idempotent, and {} {} not \
         (mark {} idempotent: true in tool_define, or name the result with \
         cache: {{key: \"...\"}})",
        risky
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", "),
        if risky.len() == 1 { "is" } else { "are" },
        if risky.len() == 1 { "it" } else { "them" },
    )))
}

/// What names an agent run's entry (`extra`: the caller's own inputs,
/// such as a worker's policy request).
pub fn run_inputs(
    vm: &Vm,
    config: &AgentConfig,
    extra: serde_json::Value,
) -> RtResult<serde_json::Value> {
    let state = vm.program.ext::<AgentState>();
    let resolved = crate::llm::resolve::resolve(&vm.ctx, &state, &config.llm)?;
    let llm = &config.llm;
    let tools: Vec<serde_json::Value> = config
        .tools
        .tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name, "description": t.description,
                "parameters": value_json(&t.schema), "idempotent": t.idempotent,
            })
        })
        .collect();
    let policies: Vec<serde_json::Value> = config
        .policies
        .iter()
        .map(|p| value_json(&p.to_value()))
        .collect();
    Ok(json!({
        "provider": resolved.name, "model": resolved.model,
        "system": config.system, "task": config.task,
        "messages": config.transcript.messages, "tools": tools, "policies": policies,
        "max_iterations": config.max_iterations, "done_sentinel": config.done_sentinel,
        "temperature": llm.temperature, "max_tokens": llm.max_tokens,
        "json": llm.json, "schema": llm.schema, "schema_retries": llm.schema_retries,
        "extra": extra,
    }))
}

/// How a cached agent loop went.
pub enum LoopOutcome {
    /// It ran (and was stored if it succeeded).
    Ran(Box<AgentRun>),
    /// The stored `agent_loop` result dict (`cached: true`, 0 tokens).
    Hit(Value),
}

/// Runs an agent loop through the cache (kind `agent_loop`).
pub async fn run_loop_cached(
    vm: &mut Vm,
    config: AgentConfig,
    cache: Option<&CacheOpt>,
    hooks: &mut dyn AgentHooks,
) -> RtResult<LoopOutcome> {
    let slot = Slot::open(vm, cache, "agent_loop", || {
        run_inputs(vm, &config, serde_json::Value::Null)
    })?;
    if let Some(hit) = slot.as_ref().and_then(Slot::lookup) {
        return Ok(LoopOutcome::Hit(mark_hit(
            hit,
            &["input_tokens", "output_tokens"],
        )));
    }
    let run = run_agent_loop(vm, config, hooks).await?;
    if let Some(slot) = &slot {
        if run.status == AgentStatus::Done && run.progress.rejected.is_empty() {
            if let Ok(result) = to_json(&run.to_value()) {
                slot.store(result).await;
            }
        }
    }
    Ok(LoopOutcome::Ran(Box::new(run)))
}

/// A stored result as a value with `cached: true` and the `zeroed`
/// counters set to 0 (nothing was spent this time).
pub fn mark_hit(stored: serde_json::Value, zeroed: &[&str]) -> Value {
    let mut v = from_json(stored);
    if let Value::Dict(d) = &mut v {
        let d = std::rc::Rc::make_mut(d);
        for k in zeroed {
            if dict_get(d, k).is_some() {
                d.insert(std::rc::Rc::new(k.to_string()), Value::Int(0));
            }
        }
        d.insert(std::rc::Rc::new("cached".to_string()), Value::Bool(true));
    }
    v
}

/// Sets `cached` on a result dict.
pub fn with_cached(mut v: Value, cached: bool) -> Value {
    if let Value::Dict(d) = &mut v {
        std::rc::Rc::make_mut(d)
            .insert(std::rc::Rc::new("cached".to_string()), Value::Bool(cached));
    }
    v
}
