//! The `anthropic` provider: `POST {base_url}/v1/messages` (Messages API,
//! `anthropic-version: 2023-06-01`, key in `x-api-key`). The system prompt
//! is the top-level `system` field (system-role messages are appended to
//! it); tool calls are `tool_use` blocks and tool results `tool_result`
//! blocks inside a user turn (consecutive ones share a turn). `max_tokens`
//! is required by the API: [`DEFAULT_MAX_TOKENS`] unless the call sets it.
//! Stop reasons map to the neutral names: `end_turn`/`stop_sequence` →
//! `stop`, `tool_use` → `tool_calls`, `max_tokens` → `length`.

use serde_json::{json, Value};

use super::http::{effective_system, join_url, Post};
use super::{ChatRequest, ChatResponse, LocalBoxFuture, Provider, ProviderError, Role, ToolCall};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const API_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// One configured Anthropic endpoint.
pub struct Anthropic {
    pub client: reqwest::Client,
    pub base_url: String,
    pub api_key: Option<String>,
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn default_model(&self) -> &str {
        super::resolve::ANTHROPIC_DEFAULT_MODEL
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(async move {
            let mut headers = vec![("anthropic-version", API_VERSION.to_string())];
            if let Some(key) = &self.api_key {
                headers.push(("x-api-key", key.clone()));
            }
            let post = Post {
                client: &self.client,
                provider: "anthropic",
                url: join_url(&self.base_url, "/v1/messages"),
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

/// Appends `block` to the last turn if it has `role`, else starts a turn.
fn push_block(turns: &mut Vec<Value>, role: &str, block: Value) {
    if let Some(last) = turns.last_mut() {
        if last["role"] == role {
            if let Some(blocks) = last["content"].as_array_mut() {
                blocks.push(block);
                return;
            }
        }
    }
    turns.push(json!({"role": role, "content": [block]}));
}

/// The request body.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut system = effective_system(req).unwrap_or_default();
    let mut turns: Vec<Value> = Vec::new();
    for m in &req.messages {
        match m.role {
            Role::System => {
                if !system.is_empty() {
                    system.push_str("\n\n");
                }
                system.push_str(&m.content);
            }
            Role::User => push_block(
                &mut turns,
                "user",
                json!({"type": "text", "text": m.content}),
            ),
            Role::Tool => push_block(
                &mut turns,
                "user",
                json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                    "content": m.content,
                }),
            ),
            Role::Assistant => {
                if !m.content.is_empty() || m.tool_calls.is_empty() {
                    push_block(
                        &mut turns,
                        "assistant",
                        json!({"type": "text", "text": m.content}),
                    );
                }
                for c in &m.tool_calls {
                    let input = if c.arguments.is_object() {
                        c.arguments.clone()
                    } else {
                        json!({})
                    };
                    push_block(
                        &mut turns,
                        "assistant",
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                    );
                }
            }
        }
    }
    let mut body = json!({
        "model": req.model,
        "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": turns,
    });
    if !system.is_empty() {
        body["system"] = json!(system);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    body
}

fn malformed(what: &str) -> ProviderError {
    ProviderError::new(
        "provider_error",
        format!("anthropic: malformed response body: {what}"),
    )
}

/// Parses a Messages API response.
pub fn parse_response(j: &Value, model: &str) -> Result<ChatResponse, ProviderError> {
    let blocks = j
        .get("content")
        .and_then(|c| c.as_array())
        .ok_or_else(|| malformed("no content blocks"))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(|t| t.as_str()) {
            Some("text") => text.push_str(b.get("text").and_then(|t| t.as_str()).unwrap_or("")),
            Some("tool_use") => tool_calls.push(ToolCall {
                id: b
                    .get("id")
                    .and_then(|i| i.as_str())
                    .unwrap_or_default()
                    .to_string(),
                name: b
                    .get("name")
                    .and_then(|n| n.as_str())
                    .ok_or_else(|| malformed("tool_use block without a name"))?
                    .to_string(),
                arguments: b.get("input").cloned().unwrap_or_else(|| json!({})),
            }),
            Some(_) => {}
            None => return Err(malformed("content block without a type")),
        }
    }
    let stop_reason = match j.get("stop_reason").and_then(|r| r.as_str()) {
        Some("end_turn" | "stop_sequence") => "stop".to_string(),
        Some("tool_use") => "tool_calls".to_string(),
        Some("max_tokens") => "length".to_string(),
        Some(other) => other.to_string(),
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
        provider: "anthropic".to_string(),
        stop_reason,
        input_tokens: usage("input_tokens").unwrap_or(0),
        output_tokens: usage("output_tokens").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, ToolSpec};

    #[test]
    fn body_merges_tool_results_and_lifts_system() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "read".into(),
            arguments: json!({"path": id}),
        };
        let req = ChatRequest {
            model: "claude".into(),
            system: Some("sys".into()),
            messages: vec![
                Message::new(Role::System, "more"),
                Message::user("q"),
                Message {
                    tool_calls: vec![call("a"), call("b")],
                    ..Message::assistant("thinking")
                },
                Message::tool_result("a", "read", "A"),
                Message::tool_result("b", "read", "B"),
            ],
            tools: vec![ToolSpec {
                name: "read".into(),
                description: "Read".into(),
                parameters: json!({"type": "object"}),
            }],
            ..Default::default()
        };
        let b = request_body(&req);
        assert_eq!(b["system"], json!("sys\n\nmore"));
        assert_eq!(b["max_tokens"], json!(DEFAULT_MAX_TOKENS));
        let turns = b["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[1]["content"].as_array().unwrap().len(), 3);
        assert_eq!(turns[1]["content"][1]["type"], json!("tool_use"));
        assert_eq!(turns[2]["role"], json!("user"));
        assert_eq!(turns[2]["content"][1]["tool_use_id"], json!("b"));
        assert_eq!(b["tools"][0]["input_schema"], json!({"type": "object"}));
    }

    #[test]
    fn parses_blocks() {
        let r = parse_response(
            &json!({
                "model": "claude-x",
                "content": [{"type": "text", "text": "Let me look."},
                            {"type": "tool_use", "id": "tu_1", "name": "read", "input": {"path": "a"}}],
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 20, "output_tokens": 7}
            }),
            "m",
        )
        .unwrap();
        assert_eq!(r.text, "Let me look.");
        assert_eq!(r.tool_calls[0].id, "tu_1");
        assert_eq!(r.stop_reason, "tool_calls");
        assert_eq!((r.input_tokens, r.output_tokens), (20, 7));
        assert!(parse_response(&json!({"oops": 1}), "m").is_err());
    }
}
