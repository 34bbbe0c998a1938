//! The mock provider (agents.md §3): scripted responses, deterministic
//! defaults, and a log of every call.
//!
//! Selection for one call, first that applies:
//! 1. the first *matched* response (one with `match`, a `*` glob tested
//!    against the newest user or tool message) whose pattern matches; it
//!    stays until cleared unless `consume: true`;
//! 2. a recorded fixture entry whose request (`system` + `messages`) equals
//!    this call's (used once);
//! 3. the oldest FIFO entry (used once);
//! 4. the default: text only, `mock reply to: <first 60 chars of the newest
//!    user message>` (never tool calls).
//!
//! Token counts default to ceil(chars / 4): input over the contents of the
//! call's messages, output over the reply text plus each tool call's name
//! and JSON arguments.

use std::collections::VecDeque;

use crate::llm::{ChatRequest, ChatResponse, Message, ProviderError, Role, ToolCall};

/// One scripted response (from `llm_mock` or a fixture line).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MockResponse {
    pub text: Option<String>,
    /// Tool calls; an empty `id` gets `call_N` (N counts per run).
    pub tool_calls: Vec<ToolCall>,
    /// A `*` glob (`match`): answer every call whose newest user or tool
    /// message matches.
    pub pattern: Option<String>,
    /// With `pattern`: answer once, then drop.
    pub consume: bool,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Fail the call with this error (see [`ProviderError::scripted`]).
    pub error: Option<ProviderError>,
    pub delay_ms: u64,
    /// Fixture-only: the recorded model, provider and stop reason.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub stop_reason: Option<String>,
    /// Fixture-only: the recorded request key (`{system, messages}` as JSON).
    pub request: Option<serde_json::Value>,
    /// `llm_mock`'s dict as given (JSON): how the response travels with a
    /// cluster job.
    pub source: Option<serde_json::Value>,
}

/// One call the mock answered, for `llm_mock_calls()`.
#[derive(Debug, Clone, PartialEq)]
pub struct MockCall {
    pub provider: String,
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
    /// Names of the tools offered.
    pub tools: Vec<String>,
}

/// The mock's per-run state.
#[derive(Debug, Default)]
pub struct MockState {
    matched: Vec<MockResponse>,
    queue: VecDeque<MockResponse>,
    calls: Vec<MockCall>,
    next_call_id: u64,
    /// `llm_mock` was used or a fixture was loaded (suppresses the
    /// "no provider configured" notice).
    pub scripted: bool,
    /// A fixture was loaded: every call is answered here, whatever its
    /// provider.
    pub fixture: bool,
}

/// What the mock decided for one call; the caller waits `delay_ms` first.
#[derive(Debug, Clone, PartialEq)]
pub struct MockAnswer {
    pub delay_ms: u64,
    pub result: Result<ChatResponse, ProviderError>,
}

impl MockState {
    /// Adds a scripted response.
    /// How many responses are waiting (queued and pattern-matched).
    pub fn pending(&self) -> usize {
        self.queue.len() + self.matched.len()
    }

    /// The FIFO responses waiting (not the `match` ones).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The waiting responses in `llm_mock`'s dict form, FIFO ones first
    /// (oldest first), then the `match` ones: what a cluster job carries.
    pub fn queued_sources(&self) -> Vec<serde_json::Value> {
        self.queue
            .iter()
            .chain(self.matched.iter())
            .filter_map(|r| r.source.clone())
            .collect()
    }

    /// Drops the `n` oldest FIFO responses (a remote worker consumed them).
    pub fn drop_queued(&mut self, n: usize) {
        let n = n.min(self.queue.len());
        self.queue.drain(..n);
    }

    pub fn push(&mut self, r: MockResponse) {
        if r.pattern.is_some() {
            self.matched.push(r);
        } else {
            self.queue.push_back(r);
        }
    }

    /// `llm_mock_clear()`: empties the queue, the matched responses and the
    /// log (fixture entries included).
    pub fn clear(&mut self) {
        self.matched.clear();
        self.queue.clear();
        self.calls.clear();
    }

    pub fn calls(&self) -> &[MockCall] {
        &self.calls
    }

    /// Logs the call and picks its answer.
    pub fn answer(&mut self, provider: &str, req: &ChatRequest) -> MockAnswer {
        self.calls.push(MockCall {
            provider: provider.to_string(),
            model: req.model.clone(),
            system: req.system.clone(),
            messages: req.messages.clone(),
            tools: req.tools.iter().map(|t| t.name.clone()).collect(),
        });
        let picked = self.pick(req);
        let delay_ms = picked.as_ref().map_or(0, |r| r.delay_ms);
        let result = match picked {
            Some(r) => self.respond(provider, req, r),
            None => Ok(default_reply(provider, req)),
        };
        MockAnswer { delay_ms, result }
    }

    fn pick(&mut self, req: &ChatRequest) -> Option<MockResponse> {
        let subject = newest_text(&req.messages, &[Role::User, Role::Tool]);
        if let Some(i) = self
            .matched
            .iter()
            .position(|r| r.pattern.as_deref().is_some_and(|p| glob_match(p, subject)))
        {
            return Some(if self.matched[i].consume {
                self.matched.remove(i)
            } else {
                self.matched[i].clone()
            });
        }
        let key = request_key(req);
        if let Some(i) = self
            .queue
            .iter()
            .position(|r| r.request.as_ref() == Some(&key))
        {
            return self.queue.remove(i);
        }
        self.queue.pop_front()
    }

    fn respond(
        &mut self,
        provider: &str,
        req: &ChatRequest,
        r: MockResponse,
    ) -> Result<ChatResponse, ProviderError> {
        if let Some(e) = r.error {
            return Err(e);
        }
        let tool_calls: Vec<ToolCall> = r
            .tool_calls
            .into_iter()
            .map(|mut c| {
                if c.id.is_empty() {
                    self.next_call_id += 1;
                    c.id = format!("call_{}", self.next_call_id);
                }
                c
            })
            .collect();
        let text = r.text.unwrap_or_default();
        let stop_reason = r.stop_reason.unwrap_or_else(|| {
            if tool_calls.is_empty() {
                "stop"
            } else {
                "tool_calls"
            }
            .to_string()
        });
        Ok(ChatResponse {
            input_tokens: r.input_tokens.unwrap_or_else(|| input_tokens(req)),
            output_tokens: r
                .output_tokens
                .unwrap_or_else(|| output_tokens(&text, &tool_calls)),
            text,
            tool_calls,
            model: r.model.unwrap_or_else(|| req.model.clone()),
            provider: r.provider.unwrap_or_else(|| provider.to_string()),
            stop_reason,
        })
    }
}

/// The answer when nothing is queued.
fn default_reply(provider: &str, req: &ChatRequest) -> ChatResponse {
    let newest = newest_text(&req.messages, &[Role::User]);
    let text = format!(
        "mock reply to: {}",
        newest.chars().take(60).collect::<String>()
    );
    ChatResponse {
        input_tokens: input_tokens(req),
        output_tokens: output_tokens(&text, &[]),
        text,
        tool_calls: Vec::new(),
        model: req.model.clone(),
        provider: provider.to_string(),
        stop_reason: "stop".to_string(),
    }
}

/// The content of the newest message with one of `roles` (`""` if none).
fn newest_text<'a>(messages: &'a [Message], roles: &[Role]) -> &'a str {
    messages
        .iter()
        .rev()
        .find(|m| roles.contains(&m.role))
        .map_or("", |m| m.content.as_str())
}

/// ceil(chars / 4).
pub fn estimate_tokens(chars: usize) -> u64 {
    chars.div_ceil(4) as u64
}

fn input_tokens(req: &ChatRequest) -> u64 {
    estimate_tokens(req.messages.iter().map(|m| m.content.chars().count()).sum())
}

fn output_tokens(text: &str, calls: &[ToolCall]) -> u64 {
    let calls: usize = calls
        .iter()
        .map(|c| c.name.chars().count() + c.arguments.to_string().chars().count())
        .sum();
    estimate_tokens(text.chars().count() + calls)
}

/// The key a recorded fixture entry is matched on: `{system, messages}`.
pub fn request_key(req: &ChatRequest) -> serde_json::Value {
    serde_json::json!({
        "system": req.system,
        "messages": req.messages,
    })
}

/// Whole-string glob match where `*` matches any run of characters
/// (newlines included) and everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Position after the last `*` seen, and the text position it matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi + 1, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(msgs: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: "mock".into(),
            messages: msgs,
            ..Default::default()
        }
    }

    fn text(s: &str) -> MockResponse {
        MockResponse {
            text: Some(s.into()),
            ..Default::default()
        }
    }

    fn reply(st: &mut MockState, msgs: Vec<Message>) -> String {
        st.answer("mock", &req(msgs)).result.unwrap().text
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", ""));
        assert!(glob_match("hello", "hello"));
        assert!(!glob_match("hello", "hello!"));
        assert!(glob_match("*weather*", "what is the weather today"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("*.wf", "x.y.wf"));
        assert!(glob_match("*a", "banana"));
        assert!(glob_match("line*end", "line\nmid\nend"));
        assert!(glob_match("ü*", "über"));
        assert!(!glob_match("", "x"));
    }

    #[test]
    fn fifo_then_default() {
        let mut st = MockState::default();
        st.push(text("one"));
        st.push(text("two"));
        let m = || vec![Message::user("hi")];
        assert_eq!(reply(&mut st, m()), "one");
        assert_eq!(reply(&mut st, m()), "two");
        assert_eq!(reply(&mut st, m()), "mock reply to: hi");
        assert_eq!(st.calls().len(), 3);
    }

    #[test]
    fn matched_before_fifo_and_kept() {
        let mut st = MockState::default();
        st.push(text("fifo"));
        st.push(MockResponse {
            pattern: Some("*weather*".into()),
            ..text("sunny")
        });
        st.push(MockResponse {
            pattern: Some("once*".into()),
            consume: true,
            ..text("only once")
        });
        assert_eq!(reply(&mut st, vec![Message::user("the weather?")]), "sunny");
        assert_eq!(
            reply(&mut st, vec![Message::user("weather again")]),
            "sunny"
        );
        assert_eq!(
            reply(&mut st, vec![Message::user("once more")]),
            "only once"
        );
        assert_eq!(reply(&mut st, vec![Message::user("once more")]), "fifo");
        // Tool messages are matched too.
        let msgs = vec![
            Message::user("q"),
            Message::tool_result("c1", "t", "weather: rain"),
        ];
        assert_eq!(reply(&mut st, msgs), "sunny");
        st.clear();
        assert_eq!(
            reply(&mut st, vec![Message::user("weather")]),
            "mock reply to: weather"
        );
    }

    #[test]
    fn default_uses_first_60_chars_of_newest_user_message() {
        let mut st = MockState::default();
        let long = "x".repeat(100);
        let msgs = vec![
            Message::user("old"),
            Message::user(long.clone()),
            Message::tool_result("c", "t", "tool out"),
        ];
        assert_eq!(
            reply(&mut st, msgs),
            format!("mock reply to: {}", &long[..60])
        );
    }

    #[test]
    fn token_counts_and_ids() {
        let mut st = MockState::default();
        st.push(MockResponse {
            tool_calls: vec![ToolCall {
                id: String::new(),
                name: "read".into(),
                arguments: serde_json::json!({"p": 1}),
            }],
            ..Default::default()
        });
        let r = st
            .answer("mock", &req(vec![Message::user("hello")]))
            .result
            .unwrap();
        assert_eq!(r.input_tokens, 2);
        // "read" + {"p":1} = 4 + 7 chars
        assert_eq!(r.output_tokens, 3);
        assert_eq!(r.tool_calls[0].id, "call_1");
        assert_eq!(r.stop_reason, "tool_calls");
        let r = st
            .answer("mock", &req(vec![Message::user("")]))
            .result
            .unwrap();
        assert_eq!((r.input_tokens, r.output_tokens), (0, 4));
    }

    #[test]
    fn errors_and_delay() {
        let mut st = MockState::default();
        st.push(MockResponse {
            error: Some(ProviderError::scripted("timeout", "slow", None)),
            delay_ms: 5,
            ..Default::default()
        });
        let a = st.answer("mock", &req(vec![]));
        assert_eq!(a.delay_ms, 5);
        let e = a.result.unwrap_err();
        assert_eq!((e.category.as_str(), e.transient), ("timeout", true));
    }

    #[test]
    fn recorded_entries_match_by_request() {
        let mut st = MockState::default();
        let r1 = req(vec![Message::user("first")]);
        let r2 = req(vec![Message::user("second")]);
        st.push(MockResponse {
            request: Some(request_key(&r1)),
            ..text("A")
        });
        st.push(MockResponse {
            request: Some(request_key(&r2)),
            ..text("B")
        });
        assert_eq!(st.answer("mock", &r2).result.unwrap().text, "B");
        assert_eq!(st.answer("mock", &r1).result.unwrap().text, "A");
    }
}
