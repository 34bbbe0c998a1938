//! `agent_loop(task, system?, options)` (agents.md §5): the model runs with
//! tools until it answers without tool calls, says the done sentinel, or a
//! limit is reached.
//!
//! The builtin is a thin wrapper around the reusable Rust API in [`run`]:
//! [`run_agent_loop`] takes an [`AgentConfig`] and [`AgentHooks`]. The
//! workers layer reuses it with hooks that checkpoint after every tool call
//! and turn, poll for cancellation, and resume from a saved transcript plus
//! the recorded tool calls ([`AgentConfig::resume`]).
//!
//! Sessions: with `session_id` the run starts from the transcript stored
//! under that id in this program run (unless `transcript` is given) and
//! stores its final transcript there.

pub mod calls;
pub mod config;
pub mod options;
pub mod result;
pub mod run;

pub use calls::open_call_ids;
pub use config::{
    AgentConfig, AgentHooks, AgentProgress, AgentRun, AgentStatus, NoHooks, ToolCallRecord,
    TurnView,
};
pub use run::run_agent_loop;

use weft_vm::builtins::{asynchronous, Args, BuiltinDef, LocalBoxFuture};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use crate::cache::agent::{run_loop_cached, with_cached, LoopOutcome};
use crate::transcript::{session_put, Transcript};

const WHO: &str = "agent_loop";
const PARAMS: &[&str] = &["task", "system", "options"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![asynchronous(
        "agent_loop",
        PARAMS,
        1,
        3,
        "agents",
        "Runs the model with tools until it answers without tool calls or a limit is reached: `{status, text, visible_text, data, iterations, tool_calls, rejected, input_tokens, output_tokens, transcript}`; `cache: true | {key, ttl_ms}` answers the same run from the state directory across runs (`cached`).",
        agent_loop,
    )
    .options(&[options::LOOP_KEYS, crate::llm::call::LLM_OPTION_KEYS])]
}

fn agent_loop(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let (system_at, opts_at) = options::split_args(&args);
        let a = Args::new(WHO, PARAMS, &mut args);
        let task = a.str(0)?.to_string();
        if task.trim().is_empty() {
            return Err(value_error(format!("{WHO}: the task must not be empty")));
        }
        let system = match system_at {
            Some(i) if a.opt(i).is_some() => Some(a.str(i)?.to_string()),
            _ => None,
        };
        let empty = DictMap::default();
        let opts: &DictMap = match opts_at {
            Some(i) if a.opt(i).is_some() => a.dict(i)?,
            _ => &empty,
        };
        let call = options::parse_loop_options(vm, task, system, opts, WHO)?;
        let cache = call.cache.as_ref();
        let (result, transcript) =
            match run_loop_cached(vm, call.config, cache, &mut NoHooks).await? {
                LoopOutcome::Ran(run) => {
                    let v = run.to_value();
                    let v = if cache.is_some() {
                        with_cached(v, false)
                    } else {
                        v
                    };
                    (v, Some(run.transcript))
                }
                LoopOutcome::Hit(v) => {
                    let t = match &v {
                        Value::Dict(d) => dict_get(d, "transcript")
                            .and_then(|t| Transcript::from_value(t, WHO).ok()),
                        _ => None,
                    };
                    (v, t)
                }
            };
        if let (Some(id), Some(t)) = (&call.session_id, transcript) {
            session_put(vm, id, t);
        }
        Ok(result)
    })
}

#[cfg(test)]
mod tests;
