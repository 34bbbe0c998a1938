//! Caching single model calls (`llm_call` and `stage` nodes with `mode:
//! "llm"`): the entry is named by the resolved provider and model, the
//! system prompt, the messages, the tools' schemas and the options that
//! change the reply; a hit reports 0 tokens (nothing was spent).

use serde_json::json;
use weft_vm::error::RtResult;
use weft_vm::value::{from_json, to_json, Value};
use weft_vm::vm::Vm;

use super::{CacheOpt, Slot};
use crate::llm::{complete_structured, ChatResponse, LlmOptions, Message, ToolSpec};
use crate::state::AgentState;

/// One model call through the cache: `(reply, data, cached)`.
pub async fn complete_cached(
    vm: &mut Vm,
    opts: &LlmOptions,
    cache: Option<&CacheOpt>,
    system: Option<String>,
    messages: Vec<Message>,
    tools: Vec<ToolSpec>,
    who: &str,
) -> RtResult<(ChatResponse, Value, bool)> {
    let slot = Slot::open(vm, cache, "llm", || {
        let state = vm.program.ext::<AgentState>();
        let resolved = crate::llm::resolve::resolve(&vm.ctx, &state, opts)?;
        Ok(json!({
            "provider": resolved.name, "model": resolved.model,
            "system": system, "messages": messages, "tools": tools.iter().map(|t| json!({
                "name": t.name, "description": t.description, "parameters": t.parameters,
            })).collect::<Vec<_>>(),
            "temperature": opts.temperature, "max_tokens": opts.max_tokens,
            "json": opts.json, "schema": opts.schema,
        }))
    })?;
    let Some(slot) = slot else {
        let (r, d) = complete_structured(vm, opts, system, messages, tools, who).await?;
        return Ok((r, d, false));
    };
    if let Some((resp, data)) = slot.lookup().as_ref().and_then(from_entry) {
        return Ok((resp, data, true));
    }
    let (resp, data) = complete_structured(vm, opts, system, messages, tools, who).await?;
    slot.store(json!({
        "text": resp.text, "tool_calls": resp.tool_calls, "model": resp.model,
        "provider": resp.provider, "stop_reason": resp.stop_reason,
        "data": to_json(&data).unwrap_or(serde_json::Value::Null),
    }))
    .await;
    Ok((resp, data, false))
}

fn from_entry(r: &serde_json::Value) -> Option<(ChatResponse, Value)> {
    let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let resp = ChatResponse {
        text: s("text")?,
        tool_calls: serde_json::from_value(r.get("tool_calls")?.clone()).ok()?,
        model: s("model")?,
        provider: s("provider")?,
        stop_reason: s("stop_reason")?,
        input_tokens: 0,
        output_tokens: 0,
    };
    Some((resp, from_json(r.get("data").cloned().unwrap_or_default())))
}
