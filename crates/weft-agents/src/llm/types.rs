//! Provider-neutral chat types: what a provider is asked and what it
//! answers (agents.md §1–§2). Providers translate these to and from their
//! wire formats; everything above the providers uses only these types.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A chat role (agents.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "tool" => Some(Role::Tool),
            _ => None,
        }
    }
}

/// A tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as a JSON object.
    pub arguments: serde_json::Value,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Tool calls of an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a `tool` message: the tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Message {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message::new(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message::new(Role::Assistant, content)
    }

    /// A tool result answering call `id` of tool `name`.
    pub fn tool_result(
        id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Message {
        Message {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(id.into()),
            name: Some(name.into()),
        }
    }
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object (`{type: "object", properties, required}`).
    pub parameters: serde_json::Value,
}

/// One chat request, fully resolved (provider, model, options).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Ask for a JSON reply (`response_format: "json"` or a schema).
    pub json: bool,
    /// The JSON schema the reply must match (as JSON), when given; HTTP
    /// providers mention it in the system prompt.
    pub schema: Option<serde_json::Value>,
    /// Bound on one request.
    pub timeout: Duration,
    /// Overrides the provider's base URL.
    pub base_url: Option<String>,
    /// Environment variable holding the API key (never the key itself).
    pub api_key_env: Option<String>,
    /// Most bytes of the reply body to read (the run's `max_string_len`):
    /// HTTP providers stop reading past it and fail with `limit_exceeded`.
    pub max_response_bytes: Option<usize>,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub model: String,
    pub provider: String,
    /// `stop`, `tool_calls`, `length`, ... (provider-neutral where known).
    pub stop_reason: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// A failed provider call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// The Weft error category: `provider_error`, `timeout`, or any category
    /// a mock response names.
    pub category: String,
    /// Human-readable; never contains an API key.
    pub message: String,
    pub status: Option<u16>,
    /// Worth retrying (connect errors, timeouts, 429, 5xx).
    pub transient: bool,
    /// A `Retry-After` the server asked for.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(category: impl Into<String>, message: impl Into<String>) -> ProviderError {
        ProviderError {
            category: category.into(),
            message: message.into(),
            status: None,
            transient: false,
            retry_after: None,
        }
    }

    pub fn transient(mut self) -> ProviderError {
        self.transient = true;
        self
    }

    /// A scripted failure (a mock response's or a fixture line's `error`),
    /// retried exactly like a provider's failure of the same category:
    /// `timeout` always; `provider_error` without an HTTP `status` (a
    /// connection failure) or with 429 or 5xx; nothing else.
    pub fn scripted(
        category: impl Into<String>,
        message: impl Into<String>,
        status: Option<u16>,
    ) -> ProviderError {
        let mut e = ProviderError::new(category, message);
        e.status = status;
        e.transient = match e.category.as_str() {
            "timeout" => true,
            "provider_error" => status.is_none_or(|c| c == 429 || c >= 500),
            _ => false,
        };
        e
    }
}

#[cfg(test)]
mod tests {
    use super::ProviderError;

    #[test]
    fn scripted_errors_are_transient_like_provider_errors() {
        let t = |c: &str, s: Option<u16>| ProviderError::scripted(c, "m", s).transient;
        assert!(t("timeout", None));
        assert!(t("provider_error", None));
        assert!(t("provider_error", Some(429)));
        assert!(t("provider_error", Some(503)));
        assert!(!t("provider_error", Some(400)));
        assert!(!t("content_filter", None));
    }
}
