//! `llm_call(prompt, system?, options?)` (agents.md §2): one model call,
//! returned as `{text, visible_text, tool_calls, data, model, provider,
//! stop_reason, input_tokens, output_tokens, duration_ms}`.
//!
//! Besides the model-call options ([`crate::llm::LLM_OPTION_KEYS`]) it takes
//! `messages` (prior `[{role, content, ...}]`, sent before the prompt) and
//! `tools` (a registry from `tool_registry`/`tool_define`; offered to the
//! model, never run here). A `nil` prompt sends just `messages` (to answer
//! a tool result, say).

use std::time::Instant;

use weft_vm::builtins::{asynchronous, Args, BuiltinDef, LocalBoxFuture};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_from, dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use crate::llm::{parse_llm_options, ChatResponse, Message};
use crate::tools::ToolRegistry;
use crate::transcript::convert::{messages_from_value, tool_call_to_value};

const WHO: &str = "llm_call";
const PARAMS: &[&str] = &["prompt", "system", "options"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    let mut defs = vec![asynchronous(
        "llm_call",
        PARAMS,
        1,
        3,
        "agents",
        "Calls the model: `{text, visible_text, tool_calls, data, model, provider, stop_reason, input_tokens, output_tokens, duration_ms, cached}`; `cache: true | {key, ttl_ms}` answers the same call from the state directory across runs (`cached: true`).",
        llm_call,
    )
    .options(&[crate::llm::call::LLM_OPTION_KEYS])];
    defs.extend(crate::mock_builtins::defs());
    defs
}

/// The `llm_call` result dict.
pub fn response_to_value(resp: &ChatResponse, data: Value, duration_ms: u64) -> Value {
    dict_from([
        ("text", Value::str(resp.text.clone())),
        (
            "visible_text",
            Value::str(crate::llm::extract::visible_text(&resp.text)),
        ),
        (
            "tool_calls",
            Value::list(resp.tool_calls.iter().map(tool_call_to_value).collect()),
        ),
        ("data", data),
        ("model", Value::str(resp.model.clone())),
        ("provider", Value::str(resp.provider.clone())),
        ("stop_reason", Value::str(resp.stop_reason.clone())),
        ("input_tokens", Value::Int(resp.input_tokens as i64)),
        ("output_tokens", Value::Int(resp.output_tokens as i64)),
        ("duration_ms", Value::Int(duration_ms as i64)),
    ])
}

fn llm_call(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let start = Instant::now();
        let a = Args::new(WHO, PARAMS, &mut args);
        let prompt = match a.opt(0) {
            Some(_) => Some(a.str(0)?.to_string()),
            None => None,
        };
        let system = match a.opt(1) {
            Some(_) => Some(a.str(1)?.to_string()),
            None => None,
        };
        let empty = DictMap::default();
        let opts: &DictMap = match a.opt(2) {
            Some(_) => a.dict(2)?,
            None => &empty,
        };
        let (opts, extra) = parse_llm_options(opts, WHO, &["messages", "tools", "cache"])?;
        let cache = crate::cache::parse_cache(dict_get(&extra, "cache"), WHO)?;
        let mut messages: Vec<Message> = match dict_get(&extra, "messages") {
            None | Some(Value::Nil) => Vec::new(),
            Some(m) => messages_from_value(m, WHO)?,
        };
        let tools = match dict_get(&extra, "tools") {
            None | Some(Value::Nil) => Vec::new(),
            Some(t) => ToolRegistry::from_value(t, WHO)?.to_specs(),
        };
        if let Some(p) = prompt {
            messages.push(Message::user(p));
        }
        if messages.is_empty() {
            return Err(value_error(format!(
                "{WHO}: nothing to send: give a prompt or the 'messages' option"
            )));
        }
        let (resp, data, cached) =
            crate::cache::complete_cached(vm, &opts, cache.as_ref(), system, messages, tools, WHO)
                .await?;
        let mut v = response_to_value(&resp, data, start.elapsed().as_millis() as u64);
        if let Value::Dict(d) = &mut v {
            std::rc::Rc::make_mut(d)
                .insert(std::rc::Rc::new("cached".to_string()), Value::Bool(cached));
        }
        Ok(v)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn option_keys_are_documented() {
        // The reference lists the declared option keys (BuiltinDef::options).
        let def = &super::defs()[0];
        let declared: Vec<&str> = def.options.iter().flat_map(|g| g.iter().copied()).collect();
        for k in crate::llm::LLM_OPTION_KEYS {
            assert!(declared.contains(k), "{k}");
        }
    }
}
