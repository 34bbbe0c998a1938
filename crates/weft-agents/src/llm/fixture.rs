//! `--llm-fixture FILE.jsonl` and `--llm-record FILE.jsonl` (agents.md §3).
//!
//! A fixture has one JSON object per line (blank lines are skipped), each
//! one of:
//!
//! ```text
//! {"response": R}                                  answered in file order (FIFO)
//! {"match": "*weather*", "consume"?: bool, "response": R}   a matched response
//! {"request": {"provider", "model", "system", "messages", "tools"}, "response": R}
//! ```
//!
//! `R` is `{text?, tool_calls?: [{id?, name, arguments?}], input_tokens?,
//! output_tokens?, error?: {category, message?, status?}, delay_ms?, model?,
//! provider?, stop_reason?}`. A recorded line (the third form, what
//! `--llm-record` writes) answers the first call whose `system` and
//! `messages` equal the recorded ones; a call with no equal recording gets
//! the oldest unused line, as in FIFO order. Failed exchanges are recorded
//! with `response: {error: {category, message, status?}}` and replay as
//! that error, retried like the original (`ProviderError::scripted`).
//! Records hold no API keys: requests are written from the provider-neutral
//! request (keys travel only in HTTP headers).

use std::path::Path;

use serde_json::{json, Map, Value};

use super::mock::{request_key, MockResponse};
use super::{ChatRequest, ChatResponse, Message, ProviderError, ToolCall};

const LINE_KEYS: &[&str] = &["match", "consume", "request", "response"];
const RESPONSE_KEYS: &[&str] = &[
    "text",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "error",
    "delay_ms",
    "model",
    "provider",
    "stop_reason",
];

/// Parsed fixture entries, in file order (plain data: may cross threads).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fixture {
    pub entries: Vec<MockResponse>,
}

/// Reads and parses a fixture file.
pub fn load_fixture(path: &Path) -> Result<Fixture, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read LLM fixture {}: {e}", path.display()))?;
    parse_fixture(&text).map_err(|e| format!("LLM fixture {}: {e}", path.display()))
}

/// Parses fixture text; errors name the line.
pub fn parse_fixture(text: &str) -> Result<Fixture, String> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry = parse_line(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        entries.push(entry);
    }
    Ok(Fixture { entries })
}

fn check_keys(obj: &Map<String, Value>, known: &[&str], what: &str) -> Result<(), String> {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            let hint = weft_syntax::suggest::did_you_mean(k, known.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            return Err(format!("unknown {what} key '{k}'{hint}"));
        }
    }
    Ok(())
}

fn parse_line(line: &str) -> Result<MockResponse, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = v.as_object().ok_or("expected a JSON object")?;
    check_keys(obj, LINE_KEYS, "fixture line")?;
    let resp = obj.get("response").ok_or("missing 'response'")?;
    let mut r = parse_response(resp)?;
    match obj.get("match") {
        None | Some(Value::Null) => {}
        Some(Value::String(p)) => r.pattern = Some(p.clone()),
        Some(_) => return Err("'match' must be a string".into()),
    }
    match obj.get("consume") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => r.consume = *b,
        Some(_) => return Err("'consume' must be a boolean".into()),
    }
    if let Some(req) = obj.get("request").filter(|r| !r.is_null()) {
        let system = match req.get("system") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("request 'system' must be a string".into()),
        };
        let messages: Vec<Message> =
            serde_json::from_value(req.get("messages").cloned().unwrap_or(json!([])))
                .map_err(|e| format!("request 'messages': {e}"))?;
        r.request = Some(request_key(&ChatRequest {
            system,
            messages,
            ..Default::default()
        }));
    }
    Ok(r)
}

fn opt_u64(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be a non-negative integer")),
    }
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("'{key}' must be a string")),
    }
}

/// Parses a response object `R` (also used for nothing else: `llm_mock`
/// parses script dicts itself).
fn parse_response(v: &Value) -> Result<MockResponse, String> {
    let obj = v.as_object().ok_or("'response' must be an object")?;
    check_keys(obj, RESPONSE_KEYS, "response")?;
    let tool_calls = match obj.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(calls)) => calls
            .iter()
            .map(|c| {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("a tool call needs a string 'name'")?;
                Ok(ToolCall {
                    id: c
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    name: name.to_string(),
                    arguments: c.get("arguments").cloned().unwrap_or_else(|| json!({})),
                })
            })
            .collect::<Result<_, String>>()?,
        Some(_) => return Err("'tool_calls' must be a list".into()),
    };
    let error = match obj.get("error") {
        None | Some(Value::Null) => None,
        Some(e) => {
            let category = e
                .get("category")
                .and_then(Value::as_str)
                .ok_or("'error' needs a string 'category'")?;
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("mock error");
            let status = match e.get("status") {
                None | Some(Value::Null) => None,
                Some(s) => Some(
                    s.as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .filter(|s| (100..=599).contains(s))
                        .ok_or("'error.status' must be an HTTP status (100 to 599)")?,
                ),
            };
            Some(ProviderError::scripted(category, message, status))
        }
    };
    Ok(MockResponse {
        text: opt_string(obj, "text")?,
        tool_calls,
        input_tokens: opt_u64(obj, "input_tokens")?,
        output_tokens: opt_u64(obj, "output_tokens")?,
        error,
        delay_ms: opt_u64(obj, "delay_ms")?.unwrap_or(0),
        model: opt_string(obj, "model")?,
        provider: opt_string(obj, "provider")?,
        stop_reason: opt_string(obj, "stop_reason")?,
        ..Default::default()
    })
}

/// The record line for one real exchange (no API keys: the request is the
/// provider-neutral one; tools are listed by name).
pub fn record_line(
    provider: &str,
    req: &ChatRequest,
    result: &Result<ChatResponse, ProviderError>,
) -> String {
    let request = json!({
        "provider": provider,
        "model": req.model,
        "system": req.system,
        "messages": req.messages,
        "tools": req.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
    });
    let response = match result {
        Ok(r) => json!({
            "provider": r.provider,
            "model": r.model,
            "text": r.text,
            "tool_calls": r.tool_calls,
            "stop_reason": r.stop_reason,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
        }),
        Err(e) => match e.status {
            Some(status) => {
                json!({"error": {"category": e.category, "message": e.message, "status": status}})
            }
            None => json!({"error": {"category": e.category, "message": e.message}}),
        },
    };
    json!({"request": request, "response": response}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::mock::MockState;

    #[test]
    fn recorded_lines_replay() {
        let req = ChatRequest {
            model: "gpt".into(),
            system: Some("sys".into()),
            messages: vec![Message::user("hello")],
            ..Default::default()
        };
        let resp = ChatResponse {
            text: "hi there".into(),
            tool_calls: vec![ToolCall {
                id: "c1".into(),
                name: "read".into(),
                arguments: json!({"p": 1}),
            }],
            model: "gpt-4o-2024".into(),
            provider: "openai".into(),
            stop_reason: "tool_calls".into(),
            input_tokens: 11,
            output_tokens: 5,
        };
        let line = record_line("openai", &req, &Ok(resp.clone()));
        let err_line = record_line(
            "openai",
            &ChatRequest {
                messages: vec![Message::user("boom")],
                ..req.clone()
            },
            &Err(ProviderError::new("provider_error", "HTTP 500")),
        );
        let fx = parse_fixture(&format!("{err_line}\n\n{line}\n")).unwrap();
        let mut st = MockState::default();
        for e in fx.entries {
            st.push(e);
        }
        assert_eq!(st.answer("openai", &req).result.unwrap(), resp);
        let boom = ChatRequest {
            messages: vec![Message::user("boom")],
            ..req
        };
        assert_eq!(
            st.answer("openai", &boom).result.unwrap_err().message,
            "HTTP 500"
        );
    }

    #[test]
    fn line_errors_name_the_line() {
        let e = parse_fixture("{\"response\": {\"text\": \"a\"}}\n{\"respons\": {}}").unwrap_err();
        assert_eq!(
            e,
            "line 2: unknown fixture line key 'respons' (did you mean 'response'?)"
        );
        let e = parse_fixture("not json").unwrap_err();
        assert!(e.starts_with("line 1: invalid JSON"), "{e}");
        let e = parse_fixture("{\"response\": {\"txt\": \"a\"}}").unwrap_err();
        assert!(e.contains("did you mean 'text'"), "{e}");
        let fx =
            parse_fixture("{\"match\": \"*x*\", \"consume\": true, \"response\": {}}").unwrap();
        assert_eq!(fx.entries[0].pattern.as_deref(), Some("*x*"));
        assert!(fx.entries[0].consume);
    }
}
