//! The result cache across runs (issue 17 §3), for single model calls
//! (`llm_call` and `stage` nodes with `mode: "llm"`): `cache: true |
//! {key?, ttl_ms?}`. A call's inputs — provider, model, system prompt,
//! messages, tools with their schemas, options — or the explicit `key` are
//! hashed (SHA-256) into `cache/<hash>.json` under the state directory,
//! written through the store module. Only successful calls are stored; a
//! hit returns the stored reply without calling the model (its token counts
//! are 0: nothing was spent). `weft run --no-cache` bypasses the cache.

use std::cell::Cell;

use serde_json::json;
use sha2::{Digest, Sha256};
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, from_json, to_json, Value};
use weft_vm::vm::Vm;

use crate::llm::{complete_structured, ChatResponse, LlmOptions, Message, ToolSpec};
use crate::state::AgentState;
use crate::tools::keys::{check_keys, opt_type};

/// The run's cache settings.
#[derive(Default)]
pub struct CacheState {
    /// `--no-cache`: neither read nor write.
    pub disabled: Cell<bool>,
}

/// A parsed `cache` option.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheOpt {
    /// Identifies the result instead of the inputs.
    pub key: Option<String>,
    /// A stored result older than this is not used.
    pub ttl_ms: Option<u64>,
}

/// Parses `cache: true | false | {key?, ttl_ms?}` (nil/false = none).
pub fn parse_cache(v: Option<&Value>, who: &str) -> RtResult<Option<CacheOpt>> {
    match v {
        None | Some(Value::Nil) | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Bool(true)) => Ok(Some(CacheOpt::default())),
        Some(Value::Dict(d)) => {
            check_keys(d, who, "cache", &["key", "ttl_ms"])?;
            let key = match dict_get(d, "key") {
                None | Some(Value::Nil) => None,
                Some(Value::Str(s)) if !s.is_empty() => Some(s.to_string()),
                Some(Value::Str(_)) => {
                    return Err(value_error(format!("{who}: cache.key must not be empty")))
                }
                Some(other) => return Err(opt_type(who, "cache.key", "a string", other)),
            };
            let ttl_ms = match dict_get(d, "ttl_ms") {
                None | Some(Value::Nil) => None,
                Some(Value::Int(n)) if *n >= 1 => Some(*n as u64),
                Some(Value::Int(n)) => {
                    return Err(value_error(format!(
                        "{who}: cache.ttl_ms must be at least 1, got {n}"
                    )))
                }
                Some(other) => return Err(opt_type(who, "cache.ttl_ms", "an int", other)),
            };
            Ok(Some(CacheOpt { key, ttl_ms }))
        }
        Some(other) => Err(opt_type(
            who,
            "cache",
            "true, false or a dict {key, ttl_ms}",
            other,
        )),
    }
}

/// The SHA-256 (hex) of a canonical JSON text.
fn hash(v: &serde_json::Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

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
    let state = vm.program.ext::<AgentState>();
    let store = state.workers.store().filter(|s| s.persist());
    let (Some(cache), Some(store), false) = (cache, store, state.cache.disabled.get()) else {
        let (r, d) = complete_structured(vm, opts, system, messages, tools, who).await?;
        return Ok((r, d, false));
    };
    let inputs = match &cache.key {
        Some(k) => json!({"kind": "llm", "key": k}),
        None => {
            let resolved = crate::llm::resolve::resolve(&vm.ctx, &state, opts)?;
            json!({
                "kind": "llm", "provider": resolved.name, "model": resolved.model,
                "system": system, "messages": messages, "tools": tools.iter().map(|t| json!({
                    "name": t.name, "description": t.description, "parameters": t.parameters,
                })).collect::<Vec<_>>(),
                "temperature": opts.temperature, "max_tokens": opts.max_tokens,
                "json": opts.json, "schema": opts.schema,
            })
        }
    };
    let rel = format!("cache/{}.json", hash(&inputs));
    if let Ok(entry) = store.read_json(&rel) {
        let fresh = match entry.get("ttl_ms").and_then(|t| t.as_u64()) {
            Some(ttl) => {
                let at = entry
                    .get("created_ms")
                    .and_then(|t| t.as_u64())
                    .unwrap_or(0);
                now_ms() < at.saturating_add(ttl)
            }
            None => true,
        };
        if entry.get("_type").and_then(|t| t.as_str()) == Some("weft.cache") && fresh {
            if let Some(hit) = from_entry(&entry["result"]) {
                return Ok((hit.0, hit.1, true));
            }
        }
    }
    let (resp, data) = complete_structured(vm, opts, system, messages, tools, who).await?;
    let entry = json!({
        "_type": "weft.cache", "version": 1, "kind": "llm",
        "created_at": crate::workers::registry::now(), "created_ms": now_ms(),
        "ttl_ms": cache.ttl_ms, "key": cache.key,
        "result": {
            "text": resp.text, "tool_calls": resp.tool_calls, "model": resp.model,
            "provider": resp.provider, "stop_reason": resp.stop_reason,
            "data": to_json(&data).unwrap_or(serde_json::Value::Null),
        },
    });
    // Best effort: a failed write leaves the call's result as it is (the
    // store keeps the error in `last_error`).
    let _ = store.write_json(&rel, &entry).await;
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
