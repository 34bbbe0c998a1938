//! `agent_loop`'s options (agents.md §5): its own keys ([`LOOP_KEYS`]) plus
//! every model-call option (parsed by `parse_llm_options`). Unknown keys
//! are a `value_error` with a did-you-mean; wrong types a `type_error`.
//! The starting transcript is the `transcript` option, else the session's
//! stored transcript, else a fresh one; `messages` are appended to it.

use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::config::{AgentConfig, DEFAULT_MAX_ITERATIONS};
use crate::cache::agent::check_cacheable;
use crate::cache::{parse_cache, CacheOpt};
use crate::llm::parse_llm_options;
use crate::tools::keys::{opt_str, opt_type, opt_uint};
use crate::tools::{Policy, ToolRegistry};
use crate::transcript::convert::messages_from_value;
use crate::transcript::{session_get, Transcript};

/// `agent_loop`'s own option keys (besides the model-call ones).
pub const LOOP_KEYS: &[&str] = &[
    "tools",
    "policy",
    "max_iterations",
    "token_budget",
    "budget",
    "done_sentinel",
    "session_id",
    "transcript",
    "on_turn",
    "messages",
    "cache",
];

/// A parsed `agent_loop` call: the run's config and its session id.
pub struct LoopCall {
    pub config: AgentConfig,
    pub session_id: Option<String>,
    /// The `cache` option (checked against the tools: see
    /// `cache::agent::check_cacheable`).
    pub cache: Option<CacheOpt>,
}

/// Builds the run config from the task, system prompt and options dict.
pub fn parse_loop_options(
    vm: &Vm,
    task: String,
    system: Option<String>,
    opts: &DictMap,
    who: &str,
) -> RtResult<LoopCall> {
    let (llm, own) = parse_llm_options(opts, who, LOOP_KEYS)?;
    let get = |k: &str| dict_get(&own, k).filter(|v| !v.is_nil());
    let mut config = AgentConfig::new(task);
    config.who = who.to_string();
    config.system = system;
    config.llm = llm;
    if let Some(t) = get("tools") {
        config.tools = ToolRegistry::from_value(t, who)?;
    }
    if let Some(p) = get("policy") {
        let policy = Policy::from_value(p, who)?;
        crate::approval::gate::check_entries(&vm.program, &policy.approve, who)?;
        config.policies.push(policy);
    }
    config.max_iterations =
        opt_uint(&own, who, "max_iterations", 1)?.unwrap_or(DEFAULT_MAX_ITERATIONS);
    config.token_budget = opt_uint(&own, who, "token_budget", 1)?;
    config.budget = crate::budget::parse_budget(get("budget").unwrap_or(&Value::Nil), who)?;
    config.done_sentinel = opt_str(&own, who, "done_sentinel")?;
    if config.done_sentinel.as_deref() == Some("") {
        return Err(value_error(format!(
            "{who}: option 'done_sentinel' must not be empty"
        )));
    }
    let session_id = opt_str(&own, who, "session_id")?;
    if session_id.as_deref() == Some("") {
        return Err(value_error(format!(
            "{who}: option 'session_id' must not be empty"
        )));
    }
    if let Some(f) = get("on_turn") {
        if !f.is_callable() {
            return Err(opt_type(who, "on_turn", "a function", f));
        }
        config.on_turn = Some(f.clone());
    }
    config.transcript = match (get("transcript"), &session_id) {
        (Some(t), _) => Transcript::from_value(t, who)?,
        (None, Some(id)) => session_get(vm, id).unwrap_or_default(),
        (None, None) => Transcript::new(),
    };
    if let Some(m) = get("messages") {
        let prior = messages_from_value(m, who)?;
        config.transcript.messages.extend(prior);
    }
    let cache = parse_cache(get("cache"), who)?;
    check_cacheable(cache.as_ref(), &config.tools, who)?;
    Ok(LoopCall {
        config,
        session_id,
        cache,
    })
}

/// Where `agent_loop(task, system?, options?)` finds the system prompt and
/// the options: with two arguments the second is the options when it is a
/// dict, else the system prompt.
pub fn split_args(args: &[Value]) -> (Option<usize>, Option<usize>) {
    match args {
        [_, Value::Dict(_)] => (None, Some(1)),
        [_, _] => (Some(1), None),
        [_, _, _] => (Some(1), Some(2)),
        _ => (None, None),
    }
}
