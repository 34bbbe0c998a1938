//! The mock provider's builtins (agents.md §3): `llm_mock(response)`
//! queues a response, `llm_mock_calls()` lists the calls the mock answered
//! as `{provider, model, system, messages, tools}` (tools by name),
//! `llm_mock_clear()` empties the queue, the matched responses and the log.

use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::{type_error, value_error, RtError, RtResult};
use weft_vm::value::{dict_from, dict_get, to_json, DictMap, Value};
use weft_vm::vm::Vm;

use crate::llm::mock::{MockCall, MockResponse};
use crate::llm::{ProviderError, ToolCall};
use crate::state::AgentState;
use crate::tools::keys::{check_keys, opt_bool, opt_str, opt_type, opt_uint};
use crate::transcript::convert::message_to_value;

/// The keys of a mock response dict.
pub const MOCK_KEYS: &[&str] = &[
    "text",
    "tool_calls",
    "match",
    "consume",
    "input_tokens",
    "output_tokens",
    "error",
    "delay_ms",
];
const CALL_KEYS: &[&str] = &["id", "name", "arguments"];
const ERROR_KEYS: &[&str] = &["category", "message", "status"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("llm_mock", &["response"], 1, 1, "agents", "Queues a mock response (its keys below; `error: {category, message, status?}`); an error is retried like a provider's of the same category.", llm_mock).options(&[MOCK_KEYS]),
        sync("llm_mock_calls", &[], 0, 0, "agents", "Every call the mock answered, as `{provider, model, system, messages, tools}`.", llm_mock_calls),
        sync("llm_mock_clear", &[], 0, 0, "agents", "Empties the mock's queue and call log.", llm_mock_clear),
    ]
}

/// Most mock responses waiting at once, whatever `max_collection_len` says.
const MAX_PENDING_MOCKS: usize = 100_000;

fn llm_mock(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    let r = parse_mock_response(d)?;
    let state = vm.program.ext::<AgentState>();
    let mut mock = state.llm.mock.borrow_mut();
    // A flood of mock responses is bounded like a collection (and never
    // past MAX_PENDING_MOCKS, whatever the limits).
    let max = vm
        .program
        .limits
        .max_collection_len
        .unwrap_or(usize::MAX)
        .min(MAX_PENDING_MOCKS);
    if mock.pending() >= max {
        return Err(RtError::new(
            "limit_exceeded",
            format!(
                "llm_mock: {} responses are already waiting (at most {max}: \
                 max_collection_len, capped at {MAX_PENDING_MOCKS}); consume some or call \
                 llm_mock_clear()",
                mock.pending()
            ),
        ));
    }
    mock.scripted = true;
    mock.push(r);
    Ok(Value::Nil)
}

/// Parses a script's mock response dict.
pub fn parse_mock_response(d: &DictMap) -> RtResult<MockResponse> {
    const WHO: &str = "llm_mock";
    check_keys(d, WHO, "", MOCK_KEYS)?;
    let tool_calls = match dict_get(d, "tool_calls") {
        None | Some(Value::Nil) => Vec::new(),
        Some(Value::List(items)) => items.iter().map(parse_tool_call).collect::<RtResult<_>>()?,
        Some(other) => return Err(opt_type(WHO, "tool_calls", "a list", other)),
    };
    let error = match dict_get(d, "error") {
        None | Some(Value::Nil) => None,
        Some(Value::Dict(e)) => {
            check_keys(e, WHO, "error", ERROR_KEYS)?;
            let category = opt_str(e, WHO, "category")?.ok_or_else(|| {
                value_error(format!(
                    "{WHO}: 'error' needs a 'category' (e.g. \"provider_error\")"
                ))
            })?;
            let message = opt_str(e, WHO, "message")?.unwrap_or_else(|| "mock error".to_string());
            let status = match opt_uint(e, WHO, "status", 100)? {
                Some(s) if s > 599 => {
                    return Err(value_error(format!(
                        "{WHO}: 'status' must be an HTTP status (100 to 599), got {s}"
                    )))
                }
                s => s.map(|s| s as u16),
            };
            Some(ProviderError::scripted(category, message, status))
        }
        Some(other) => return Err(opt_type(WHO, "error", "a dict {category, message}", other)),
    };
    // `consume` matters only with `match`: FIFO responses are used once anyway.
    let consume = opt_bool(d, WHO, "consume")?.unwrap_or(false);
    let pattern = opt_str(d, WHO, "match")?;
    Ok(MockResponse {
        text: opt_str(d, WHO, "text")?,
        tool_calls,
        pattern,
        consume,
        input_tokens: opt_uint(d, WHO, "input_tokens", 0)?,
        output_tokens: opt_uint(d, WHO, "output_tokens", 0)?,
        error,
        delay_ms: opt_uint(d, WHO, "delay_ms", 0)?.unwrap_or(0),
        ..Default::default()
    })
}

fn parse_tool_call(v: &Value) -> RtResult<ToolCall> {
    const WHO: &str = "llm_mock";
    let Value::Dict(c) = v else {
        return Err(type_error(format!(
            "{WHO}: a tool call must be a dict {{name, arguments?, id?}}, got {}",
            v.type_name()
        )));
    };
    check_keys(c, WHO, "tool call", CALL_KEYS)?;
    let name = opt_str(c, WHO, "name")?
        .ok_or_else(|| value_error(format!("{WHO}: a tool call needs a 'name'")))?;
    let arguments = match dict_get(c, "arguments") {
        None | Some(Value::Nil) => serde_json::json!({}),
        Some(a @ Value::Dict(_)) => {
            to_json(a).map_err(|e| value_error(format!("{WHO}: tool call arguments: {e}")))?
        }
        Some(other) => return Err(opt_type(WHO, "arguments", "a dict", other)),
    };
    Ok(ToolCall {
        id: opt_str(c, WHO, "id")?.unwrap_or_default(),
        name,
        arguments,
    })
}

fn call_to_value(c: &MockCall) -> Value {
    dict_from([
        ("provider", Value::str(c.provider.clone())),
        ("model", Value::str(c.model.clone())),
        ("system", c.system.clone().map_or(Value::Nil, Value::str)),
        (
            "messages",
            Value::list(c.messages.iter().map(message_to_value).collect()),
        ),
        (
            "tools",
            Value::list(c.tools.iter().map(|t| Value::str(t.clone())).collect()),
        ),
    ])
}

fn llm_mock_calls(vm: &mut Vm, _: &mut Args) -> RtResult<Value> {
    let state = vm.program.ext::<AgentState>();
    let mock = state.llm.mock.borrow();
    Ok(Value::list(
        mock.calls().iter().map(call_to_value).collect(),
    ))
}

fn llm_mock_clear(vm: &mut Vm, _: &mut Args) -> RtResult<Value> {
    let state = vm.program.ext::<AgentState>();
    state.llm.mock.borrow_mut().clear();
    Ok(Value::Nil)
}
