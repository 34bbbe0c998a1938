//! What the HTTP providers share: one JSON POST with a per-request timeout,
//! error classification (transient: connect errors, timeouts, 429, 5xx;
//! `Retry-After` in seconds), the provider's own error message, and
//! redaction of API keys from every message.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::{ChatRequest, ProviderError};

/// How much of a non-JSON error body is quoted.
const MAX_BODY_QUOTE: usize = 300;

/// One POST to a provider.
pub struct Post<'a> {
    pub client: &'a reqwest::Client,
    /// `openai`, `anthropic` (prefixes every message).
    pub provider: &'a str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub timeout: Duration,
    /// The API key, if any: never appears in a message.
    pub secret: Option<&'a str>,
    /// Most body bytes to read; more is `limit_exceeded` (not retried).
    pub max_body: Option<usize>,
}

impl Post<'_> {
    /// Sends `body`, returning the response JSON.
    pub async fn send(&self, body: &serde_json::Value) -> Result<serde_json::Value, ProviderError> {
        self.send_inner(body).await.map_err(|mut e| {
            e.message = redact(&e.message, self.secret);
            e
        })
    }

    async fn send_inner(
        &self,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        let mut req = self.client.post(&self.url).timeout(self.timeout).json(body);
        for (name, value) in &self.headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        let retry_after = retry_after(resp.headers());
        let text = self.read_body(resp).await?;
        if !status.is_success() {
            let code = status.as_u16();
            let mut err = ProviderError::new(
                "provider_error",
                format!("{}: HTTP {code}: {}", self.provider, error_message(&text)),
            );
            err.status = Some(code);
            err.retry_after = retry_after;
            err.transient = code == 429 || status.is_server_error();
            return Err(err);
        }
        serde_json::from_str(&text).map_err(|e| {
            ProviderError::new(
                "provider_error",
                format!("{}: malformed response body: {e}", self.provider),
            )
        })
    }

    /// The body as text, read chunk by chunk so a reply longer than
    /// `max_body` is refused before it is all in memory.
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<String, ProviderError> {
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&e))? {
            if let Some(max) = self.max_body {
                if body.len() + chunk.len() > max {
                    return Err(ProviderError::new(
                        "limit_exceeded",
                        format!(
                            "{}: the reply is longer than {max} bytes (max_string_len); \
                             stopped reading",
                            self.provider
                        ),
                    ));
                }
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            return ProviderError::new(
                "timeout",
                format!(
                    "{}: request timed out after {} ms",
                    self.provider,
                    self.timeout.as_millis()
                ),
            )
            .transient();
        }
        let what = if e.is_connect() {
            format!("cannot connect to {}", display_url(&self.url))
        } else {
            "request failed".to_string()
        };
        ProviderError::new(
            "provider_error",
            format!("{}: {what}: {}", self.provider, root_cause(e)),
        )
        .transient()
    }
}

/// The innermost error message of a chain.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The URL without user info or query (either could hold credentials).
fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "the provider".to_string(),
    }
}

/// `Retry-After` as a number of seconds (HTTP dates are ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// The provider's error message: `error.message` (OpenAI, Anthropic),
/// `message`, a string `error`, else the start of the body.
pub fn error_message(body: &str) -> String {
    if let Ok(j) = serde_json::from_str::<serde_json::Value>(body) {
        let found = j
            .pointer("/error/message")
            .or_else(|| j.get("message"))
            .or_else(|| j.get("error").filter(|e| e.is_string()));
        if let Some(serde_json::Value::String(s)) = found {
            return s.clone();
        }
    }
    let body = body.trim();
    if body.is_empty() {
        return "(empty body)".to_string();
    }
    let mut quoted: String = body.chars().take(MAX_BODY_QUOTE).collect();
    if quoted.len() < body.len() {
        quoted.push_str("...");
    }
    quoted
}

/// `text` with the key and anything shaped like an API key (`sk-...`)
/// replaced by `[redacted]`.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    let mut out = match secret {
        Some(s) if s.len() >= 4 => text.replace(s, "[redacted]"),
        _ => text.to_string(),
    };
    // Providers echo a masked key back (`Incorrect API key provided: sk-ab***yz`).
    let mut i = 0;
    while let Some(pos) = out[i..].find("sk-") {
        let start = i + pos;
        let end = out[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_*.".contains(c)))
            .map_or(out.len(), |n| start + n);
        let at_word_start = !out[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if at_word_start && end - start >= 10 {
            out.replace_range(start..end, "[redacted]");
            i = start + "[redacted]".len();
        } else {
            i = start + 3;
        }
    }
    out
}

/// The system prompt sent to a model: the caller's, plus a JSON-only
/// instruction (with the schema) when a JSON reply is wanted.
pub fn effective_system(req: &ChatRequest) -> Option<String> {
    let ask = match (&req.schema, req.json) {
        (Some(schema), _) => Some(format!(
            "Reply with JSON only, matching this JSON schema: {schema}"
        )),
        (None, true) => Some("Reply with JSON only.".to_string()),
        (None, false) => None,
    };
    match (req.system.clone(), ask) {
        (Some(s), Some(a)) if !s.is_empty() => Some(format!("{s}\n\n{a}")),
        (_, Some(a)) => Some(a),
        (s, None) => s,
    }
}

/// `base` without a trailing slash, joined with `path`.
pub fn join_url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys() {
        assert_eq!(
            redact("bad key sk-abcdef123456 given", Some("sk-abcdef123456")),
            "bad key [redacted] given"
        );
        assert_eq!(
            redact("Incorrect API key provided: sk-ab***********yz.", None),
            "Incorrect API key provided: [redacted]"
        );
        assert_eq!(redact("task-list", None), "task-list");
        assert_eq!(redact("desk-organizer-tool", None), "desk-organizer-tool");
        assert_eq!(
            redact("key xyz-secret-9", Some("xyz-secret-9")),
            "key [redacted]"
        );
    }

    #[test]
    fn provider_messages() {
        assert_eq!(
            error_message(r#"{"error": {"message": "model not found", "type": "x"}}"#),
            "model not found"
        );
        assert_eq!(
            error_message(
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}"#
            ),
            "max_tokens: required"
        );
        assert_eq!(error_message(r#"{"error": "nope"}"#), "nope");
        assert_eq!(error_message("  "), "(empty body)");
        assert_eq!(error_message("Bad Gateway"), "Bad Gateway");
    }

    #[test]
    fn json_instruction() {
        let mut req = ChatRequest {
            system: Some("Be brief.".into()),
            json: true,
            ..Default::default()
        };
        assert_eq!(
            effective_system(&req).unwrap(),
            "Be brief.\n\nReply with JSON only."
        );
        req.system = None;
        req.schema = Some(serde_json::json!({"type": "object"}));
        assert_eq!(
            effective_system(&req).unwrap(),
            r#"Reply with JSON only, matching this JSON schema: {"type":"object"}"#
        );
        req.json = false;
        req.schema = None;
        assert_eq!(effective_system(&req), None);
        assert_eq!(join_url("http://h:1/v1/", "/chat"), "http://h:1/v1/chat");
    }
}
