//! The `openai` provider: any OpenAI-compatible `POST
//! {base_url}/chat/completions` (OpenAI, Ollama, vLLM, llama.cpp server,
//! LM Studio, OpenRouter). Native `tools`/`tool_calls`, `usage`,
//! `finish_reason`; `response_format: {"type": "json_object"}` when a JSON
//! reply is wanted and no tools are offered. The key, when set, goes in an
//! `Authorization: Bearer` header only.

use super::http::{effective_system, join_url, Post};
use super::{ChatRequest, ChatResponse, LocalBoxFuture, Provider, ProviderError, Role, ToolCall};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// One configured OpenAI-compatible endpoint.
pub struct OpenAi {
    pub client: reqwest::Client,
    pub base_url: String,
    pub api_key: Option<String>,
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }

    fn default_model(&self) -> &str {
        super::resolve::OPENAI_DEFAULT_MODEL
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(async move {
            let mut headers = Vec::new();
            if let Some(key) = &self.api_key {
                headers.push(("authorization", format!("Bearer {key}")));
            }
            let post = Post {
                client: &self.client,
                provider: "openai",
                url: join_url(&self.base_url, "/chat/completions"),
                headers,
                timeout: request.timeout,
                max_body: request.max_response_bytes,
                secret: self.api_key.as_deref(),
            };
            let json = post.send(&request_body(request)).await?;
            parse_response(&json, &request.model)
        })
    }
}

/// The request body.
pub fn request_body(req: &ChatRequest) -> serde_json::Value {
    use serde_json::{json, Value};
    let mut messages = Vec::new();
    if let Some(system) = effective_system(req) {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &req.messages {
        let mut msg = json!({"role": m.role.as_str(), "content": m.content});
        if m.role == Role::Assistant && !m.tool_calls.is_empty() {
            if m.content.is_empty() {
                msg["content"] = Value::Null;
            }
            msg["tool_calls"] = m
                .tool_calls
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments.to_string()},
                    })
                })
                .collect();
        }
        if m.role == Role::Tool {
            msg["tool_call_id"] = json!(m.tool_call_id.clone().unwrap_or_default());
        }
        messages.push(msg);
    }
    let mut body = json!({"model": req.model, "messages": messages});
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                })
            })
            .collect();
    } else if req.json || req.schema.is_some() {
        body["response_format"] = json!({"type": "json_object"});
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = req.max_tokens {
        body["max_tokens"] = json!(n);
    }
    body
}

fn malformed(what: &str) -> ProviderError {
    ProviderError::new(
        "provider_error",
        format!("openai: malformed response body: {what}"),
    )
}

/// Parses a `chat.completion` response.
pub fn parse_response(j: &serde_json::Value, model: &str) -> Result<ChatResponse, ProviderError> {
    let choice = j
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| malformed("no choices"))?;
    let msg = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| malformed("choice without a message"))?;
    let text = match msg.get("content") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(malformed("message content is not a string")),
    };
    let mut tool_calls = Vec::new();
    if let Some(calls) = msg.get("tool_calls").filter(|c| !c.is_null()) {
        let calls = calls
            .as_array()
            .ok_or_else(|| malformed("tool_calls is not a list"))?;
        for c in calls {
            let f = c
                .get("function")
                .ok_or_else(|| malformed("tool call without a function"))?;
            let name = f
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| malformed("tool call without a name"))?;
            tool_calls.push(ToolCall {
                id: c
                    .get("id")
                    .and_then(|i| i.as_str())
                    .unwrap_or_default()
                    .to_string(),
                name: name.to_string(),
                arguments: parse_arguments(f.get("arguments")),
            });
        }
    }
    let stop_reason = match choice.get("finish_reason").and_then(|r| r.as_str()) {
        Some("function_call") => "tool_calls".to_string(),
        Some(r) => r.to_string(),
        None if !tool_calls.is_empty() => "tool_calls".to_string(),
        None => "stop".to_string(),
    };
    let usage = |k: &str| j.pointer(&format!("/usage/{k}")).and_then(|v| v.as_u64());
    Ok(ChatResponse {
        text,
        tool_calls,
        model: j
            .get("model")
            .and_then(|m| m.as_str())
            .unwrap_or(model)
            .to_string(),
        provider: "openai".to_string(),
        stop_reason,
        input_tokens: usage("prompt_tokens").unwrap_or(0),
        output_tokens: usage("completion_tokens").unwrap_or(0),
    })
}

/// Tool-call arguments arrive as a JSON string; one that does not parse is
/// kept as that string (the tool layer then reports it to the model).
fn parse_arguments(v: Option<&serde_json::Value>) -> serde_json::Value {
    match v {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => serde_json::json!({}),
        Some(serde_json::Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.clone()))
        }
        Some(other) => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, ToolSpec};
    use serde_json::json;

    #[test]
    fn body_has_tools_and_tool_messages() {
        let req = ChatRequest {
            model: "m".into(),
            system: Some("sys".into()),
            messages: vec![
                Message::user("q"),
                Message {
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "read".into(),
                        arguments: json!({"path": "a"}),
                    }],
                    ..Message::assistant("")
                },
                Message::tool_result("c1", "read", "contents"),
            ],
            tools: vec![ToolSpec {
                name: "read".into(),
                description: "Read".into(),
                parameters: json!({"type": "object"}),
            }],
            temperature: Some(0.5),
            max_tokens: Some(10),
            ..Default::default()
        };
        let b = request_body(&req);
        assert_eq!(
            b["messages"][0],
            json!({"role": "system", "content": "sys"})
        );
        assert_eq!(b["messages"][2]["content"], json!(null));
        assert_eq!(
            b["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json!(r#"{"path":"a"}"#)
        );
        assert_eq!(b["messages"][3]["tool_call_id"], json!("c1"));
        assert_eq!(b["tools"][0]["function"]["name"], json!("read"));
        assert_eq!(b["temperature"], json!(0.5));
        assert_eq!(b["max_tokens"], json!(10));
        assert!(b.get("response_format").is_none());
    }

    #[test]
    fn parses_text_tool_calls_and_usage() {
        let r = parse_response(
            &json!({
                "model": "gpt-x",
                "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_9", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a\"}"}}
                ]}, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3}
            }),
            "m",
        )
        .unwrap();
        assert_eq!(r.text, "");
        assert_eq!(r.tool_calls[0].arguments, json!({"path": "a"}));
        assert_eq!((r.input_tokens, r.output_tokens), (12, 3));
        assert_eq!(r.stop_reason, "tool_calls");
        assert_eq!(r.model, "gpt-x");
        assert!(parse_response(&json!({"choices": []}), "m").is_err());
        assert!(parse_response(&json!({"choices": [{"message": {"content": 5}}]}), "m").is_err());
    }
}
