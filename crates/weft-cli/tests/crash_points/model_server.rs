//! A scripted, stateless OpenAI-compatible model for the crash-point
//! harness: `POST /TAG/v1/chat/completions` on 127.0.0.1 answers by the
//! first rule whose `match` is a substring of the request's last message
//! (and whose optional `context` is in the request)
//! (so a re-run after a crash gets the same answer to the same question),
//! and logs every request under its `TAG` (one tag per `weft` process),
//! with the rule that answered it. A rule may hold its first answer back
//! (`stall_first_ms`), so a test can kill a process during that model call.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

/// One scripted answer: `text` or `tool_calls` (`[{id, name, arguments}]`).
#[derive(Debug, Clone)]
pub struct Rule {
    pub matches: String,
    /// A substring the whole request must also contain (`context`).
    pub context: Option<String>,
    pub text: Option<String>,
    pub tool_calls: Vec<Value>,
    /// `stall_first_ms`: the first request this rule answers is held that
    /// long before the answer goes out (a test kills or pauses the
    /// process waiting for it); later ones are answered at once.
    pub stall_first_ms: Option<u64>,
    stalled: Arc<std::sync::atomic::AtomicBool>,
}

impl Rule {
    /// A string that is in the state directory once this answer was
    /// recorded: its first tool call id, else its text.
    pub fn marker(&self) -> String {
        match self.tool_calls.first() {
            Some(c) => c["id"].as_str().unwrap_or_default().to_string(),
            None => self.text.clone().unwrap_or_default(),
        }
    }

    fn reply(&self) -> Value {
        let mut message = json!({"role": "assistant", "content": self.text});
        if !self.tool_calls.is_empty() {
            let calls: Vec<Value> = self
                .tool_calls
                .iter()
                .map(|c| {
                    json!({"id": c["id"], "type": "function", "function": {
                        "name": c["name"], "arguments": c["arguments"].to_string()}})
                })
                .collect();
            message["tool_calls"] = Value::Array(calls);
        }
        let finish = if self.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        json!({"id": "chatcmpl-crash", "object": "chat.completion", "model": "crash-test",
               "choices": [{"index": 0, "message": message, "finish_reason": finish}],
               "usage": {"prompt_tokens": 10, "completion_tokens": 5}})
    }
}

/// Parses `[{match, context?, text?, tool_calls?}]`.
pub fn parse_rules(text: &str) -> Vec<Rule> {
    let v: Value = serde_json::from_str(text).expect("model rules are JSON");
    v.as_array()
        .expect("model rules are a list")
        .iter()
        .map(|r| Rule {
            matches: r["match"].as_str().expect("rule without match").to_string(),
            context: r["context"].as_str().map(str::to_string),
            text: r["text"].as_str().map(str::to_string),
            tool_calls: r["tool_calls"].as_array().cloned().unwrap_or_default(),
            stall_first_ms: r["stall_first_ms"].as_u64(),
            stalled: Arc::default(),
        })
        .collect()
}

/// One request: its body (compact JSON) and the rule that answered it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub body: String,
    pub rule: Option<usize>,
    /// Whether a tool result in it says `interrupted`.
    pub interrupted: bool,
}

type Log = Arc<Mutex<HashMap<String, Vec<Logged>>>>;

/// The running server (it lives until the test process ends).
pub struct ModelServer {
    pub port: u16,
    pub rules: Arc<Vec<Rule>>,
    log: Log,
}

impl ModelServer {
    pub fn start(rules: Vec<Rule>) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rules = Arc::new(rules);
        let log: Log = Arc::default();
        let (r, l) = (rules.clone(), log.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, l) = (r.clone(), l.clone());
                thread::spawn(move || handle(stream, &r, &l));
            }
        });
        ModelServer { port, rules, log }
    }

    /// The base URL for the process tagged `tag`.
    pub fn base_url(&self, tag: &str) -> String {
        format!("http://127.0.0.1:{}/{tag}/v1", self.port)
    }

    /// The requests of the process tagged `tag`, in arrival order.
    pub fn requests(&self, tag: &str) -> Vec<Logged> {
        self.log
            .lock()
            .unwrap()
            .get(tag)
            .cloned()
            .unwrap_or_default()
    }
}

/// The content of the request's last message, as text.
fn last_content(body: &Value) -> String {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(Value::Null);
    match &last["content"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn handle(stream: TcpStream, rules: &[Rule], log: &Mutex<HashMap<String, Vec<Logged>>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let tag = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            if n.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let last = last_content(&body);
    let whole = body.to_string();
    let rule = rules.iter().position(|r| {
        last.contains(&r.matches) && r.context.as_ref().is_none_or(|c| whole.contains(c))
    });
    let interrupted = body["messages"].as_array().is_some_and(|ms| {
        ms.iter().any(|m| {
            m["role"] == "tool"
                && m["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("interrupted"))
        })
    });
    log.lock()
        .unwrap()
        .entry(tag.to_string())
        .or_default()
        .push(Logged {
            body: body.to_string(),
            rule,
            interrupted,
        });
    if let Some(ms) = rule.and_then(|i| rules[i].stall_first_ms) {
        let first = !rules[rule.unwrap()]
            .stalled
            .swap(true, std::sync::atomic::Ordering::SeqCst);
        if first {
            thread::sleep(Duration::from_millis(ms));
        }
    }
    let (status, reply) = match rule {
        Some(i) => (200, rules[i].reply().to_string()),
        None => (
            400,
            json!({"error": {"message": format!("no scripted answer for: {last}")}}).to_string(),
        ),
    };
    let out = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}
