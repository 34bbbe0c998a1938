//! The HTTP providers end to end: `weft run` against a scripted HTTP/1.1
//! server on 127.0.0.1 (a random port) that speaks the OpenAI and Anthropic
//! formats. Covers text replies with usage, a tool call → tool result →
//! answer round trip (two `llm_call`s with `messages`), retries after 429
//! (honouring `Retry-After`) and 500, a stall that hits `timeout_ms`, a
//! malformed body, a non-transient error, provider auto-detection, and that
//! the API key is sent as a header yet appears nowhere in stdout, stderr or
//! the `--llm-record` file — which then replays offline via
//! `--llm-fixture`.

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "sk-test-SECRET-0123456789abcdef";
const ANTHROPIC_KEY: &str = "ant-test-SECRET-9876543210";

/// One scripted reply.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(body: Value) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted server: answers each connection's request with the next
/// scripted reply (`Connection: close`), logging every request.
struct Server {
    port: u16,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (replies.clone(), requests.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, q) = (r.clone(), q.clone());
                thread::spawn(move || handle(stream, &r, &q));
            }
        });
        Server {
            port,
            replies,
            requests,
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn unused_replies(&self) -> usize {
        self.replies.lock().unwrap().len()
    }
}

fn handle(stream: TcpStream, replies: &Mutex<VecDeque<Reply>>, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            let (n, v) = (n.trim().to_ascii_lowercase(), v.trim().to_string());
            if n == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((n, v));
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    log.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body,
    });
    let reply = replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Reply::status(599, "no scripted reply left"));
    thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (n, v) in &reply.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

/// Every variable that selects or configures a provider.
const PROVIDER_ENV: &[&str] = &[
    "WEFT_LLM_DISABLED",
    "WEFT_PROVIDER",
    "WEFT_MODEL",
    "WEFT_OPENAI_BASE_URL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
    "WEFT_STATE_DIR",
];

/// Runs `script` in a fresh directory with exactly `env` for providers.
fn run(dir: &Path, script: &str, env: &[(&str, String)], flags: &[&str]) -> Output {
    let file = dir.join("main.wf");
    fs::write(&file, script).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("run")
        .args(flags)
        .arg(&file)
        .current_dir(dir)
        .stdin(Stdio::null());
    for var in PROVIDER_ENV {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn openai_env(server: &Server) -> Vec<(&'static str, String)> {
    vec![
        (
            "WEFT_OPENAI_BASE_URL",
            format!("http://127.0.0.1:{}/v1", server.port),
        ),
        ("OPENAI_API_KEY", KEY.to_string()),
    ]
}

fn anthropic_env(server: &Server) -> Vec<(&'static str, String)> {
    vec![
        (
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", server.port),
        ),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_string()),
    ]
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Stdout lines; panics with both streams when the run failed.
fn ok_lines(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "weft run failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout).lines().map(str::to_string).collect()
}

fn assert_no_key(out: &Output) {
    for key in [KEY, ANTHROPIC_KEY] {
        assert!(!text(&out.stdout).contains(key), "key in stdout");
        assert!(!text(&out.stderr).contains(key), "key in stderr");
    }
}

fn openai_text(content: &str, prompt: u64, completion: u64) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test-0001",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    })
}

fn anthropic_text(content: &str) -> Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-1",
        "content": [{"type": "text", "text": content}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 21, "output_tokens": 4}
    })
}

const TOOL_SCRIPT: &str = r#"
var tools = tool_registry()
tools = tool_define(tools, "get_weather", "Weather for a city", {
  parameters: {city: {type: "string", description: "The city"}},
  handler: { args -> "12 C" }
})
let first = llm_call("Weather in Paris?", "You call tools.", {tools: tools})
println(first.stop_reason, first.tool_calls)
let call = first.tool_calls[0]
let messages = [
  {role: "user", content: "Weather in Paris?"},
  {role: "assistant", content: first.text, tool_calls: first.tool_calls},
  {role: "tool", content: "12 C", tool_call_id: call.id, name: call.name},
]
let second = llm_call(nil, "You call tools.", {tools: tools, messages: messages})
println(second.stop_reason, second.text, second.input_tokens, second.output_tokens)
"#;

#[test]
fn openai_text_reply_usage_and_key_header() {
    let server = Server::start(vec![Reply::json(openai_text("Paris.", 17, 2))]);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("rec.jsonl");
    let script = r#"
let r = llm_call("Capital of France?", "Be brief.", {temperature: 0, max_tokens: 20})
println(r.text, r.provider, r.model, r.stop_reason, r.input_tokens, r.output_tokens, r.data)
"#;
    let out = run(
        dir.path(),
        script,
        &openai_env(&server),
        &["--llm-record", record.to_str().unwrap()],
    );
    assert_eq!(
        ok_lines(&out),
        ["Paris. openai gpt-test-0001 stop 17 2 nil"]
    );
    assert_no_key(&out);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.body["model"], json!("gpt-4o-mini"));
    assert_eq!(r.body["temperature"], json!(0.0));
    assert_eq!(r.body["max_tokens"], json!(20));
    assert_eq!(
        r.body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}])
    );

    // The record holds the exchange but not the key, and replays offline.
    let recorded = fs::read_to_string(&record).unwrap();
    assert!(!recorded.contains(KEY), "key in the record file");
    assert_eq!(recorded.lines().count(), 1);
    let line: Value = serde_json::from_str(recorded.trim()).unwrap();
    assert_eq!(line["request"]["system"], json!("Be brief."));
    assert_eq!(line["response"]["text"], json!("Paris."));
    let replay = run(
        dir.path(),
        script,
        &[("WEFT_LLM_DISABLED", "1".to_string())],
        &["--llm-fixture", record.to_str().unwrap()],
    );
    assert_eq!(
        ok_lines(&replay),
        ["Paris. openai gpt-test-0001 stop 17 2 nil"]
    );
}

#[test]
fn openai_tool_round_trip() {
    let tool_reply = json!({
        "model": "gpt-test-0001",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_XYZ", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
        ]}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 9}
    });
    let server = Server::start(vec![
        Reply::json(tool_reply),
        Reply::json(openai_text("It is 12 C in Paris.", 45, 8)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), TOOL_SCRIPT, &openai_env(&server), &[]);
    assert_eq!(
        ok_lines(&out),
        [
            r#"tool_calls [{id: "call_XYZ", name: "get_weather", arguments: {city: "Paris"}}]"#,
            "stop It is 12 C in Paris. 45 8",
        ]
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let tools = &reqs[0].body["tools"];
    assert_eq!(tools[0]["type"], json!("function"));
    assert_eq!(tools[0]["function"]["name"], json!("get_weather"));
    assert_eq!(
        tools[0]["function"]["parameters"]["properties"]["city"]["type"],
        json!("string")
    );
    assert_eq!(
        tools[0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    let msgs = reqs[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert_eq!(msgs[2]["role"], json!("assistant"));
    assert_eq!(msgs[2]["tool_calls"][0]["id"], json!("call_XYZ"));
    assert_eq!(
        serde_json::from_str::<Value>(
            msgs[2]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        )
        .unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(
        msgs[3],
        json!({"role": "tool", "content": "12 C", "tool_call_id": "call_XYZ"})
    );
}

#[test]
fn anthropic_text_and_tool_round_trip() {
    let tool_reply = json!({
        "model": "claude-test-1",
        "content": [{"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 50, "output_tokens": 12}
    });
    let server = Server::start(vec![
        Reply::json(anthropic_text("Paris.")),
        Reply::json(tool_reply),
        Reply::json(anthropic_text("It is 12 C in Paris.")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        r#"
let r = llm_call("Capital of France?", "Be brief.")
println(r.text, r.provider, r.model, r.stop_reason, r.input_tokens, r.output_tokens)
"#,
        &anthropic_env(&server),
        &[],
    );
    assert_eq!(ok_lines(&out), ["Paris. anthropic claude-test-1 stop 21 4"]);
    assert_no_key(&out);
    let out = run(dir.path(), TOOL_SCRIPT, &anthropic_env(&server), &[]);
    assert_eq!(
        ok_lines(&out),
        [
            r#"tool_calls [{id: "toolu_01", name: "get_weather", arguments: {city: "Paris"}}]"#,
            "stop It is 12 C in Paris. 21 4",
        ]
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.path, "/v1/messages");
        assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_KEY));
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.body["max_tokens"], json!(1024));
        assert_eq!(r.body["model"], json!("claude-haiku-4-5"));
    }
    assert_eq!(reqs[0].body["system"], json!("Be brief."));
    assert_eq!(
        reqs[0].body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Capital of France?"}]}])
    );
    assert_eq!(reqs[1].body["tools"][0]["name"], json!("get_weather"));
    assert_eq!(
        reqs[1].body["tools"][0]["input_schema"]["properties"]["city"]["type"],
        json!("string")
    );
    let msgs = reqs[2].body["messages"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert_eq!(
        msgs[1]["content"],
        json!([{"type": "text", "text": "Let me check."},
               {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}])
    );
    assert_eq!(
        msgs[2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "12 C"}]})
    );
}

#[test]
fn retries_429_with_retry_after_and_500() {
    let server = Server::start(vec![
        Reply::status(429, r#"{"error": {"message": "rate limited"}}"#).header("retry-after", "1"),
        Reply::json(openai_text("after 429", 1, 1)),
        Reply::status(500, r#"{"error": {"message": "boom"}}"#),
        Reply::status(503, "Service Unavailable"),
        Reply::json(openai_text("after 5xx", 1, 1)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    // A huge backoff: only honouring Retry-After (1 s) keeps this fast.
    let out = run(
        dir.path(),
        r#"
println(llm_call("a", nil, {llm_backoff_ms: 60000}).text)
println(llm_call("b", nil, {llm_backoff_ms: 10}).text)
"#,
        &openai_env(&server),
        &[],
    );
    let elapsed = started.elapsed();
    assert_eq!(ok_lines(&out), ["after 429", "after 5xx"]);
    assert_eq!(server.requests().len(), 5);
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(20),
        "Retry-After not honoured: {elapsed:?}"
    );
}

#[test]
fn retries_give_up_with_status_and_message() {
    let server = Server::start(vec![
        Reply::status(500, r#"{"error": {"message": "still broken"}}"#),
        Reply::status(502, r#"{"error": {"message": "still broken"}}"#),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        r#"
let e = try { llm_call("a", nil, {llm_retries: 1, llm_backoff_ms: 5}) } catch e { e }
println(e.category)
println(e.message)
"#,
        &openai_env(&server),
        &[],
    );
    assert_eq!(
        ok_lines(&out),
        [
            "provider_error",
            "openai: HTTP 502: still broken (after 2 attempts)"
        ]
    );
}

#[test]
fn stall_hits_timeout_ms() {
    let stall = Duration::from_secs(5);
    let server = Server::start(vec![
        Reply::json(openai_text("too late", 1, 1)).delayed(stall),
        Reply::json(openai_text("too late", 1, 1)).delayed(stall),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run(
        dir.path(),
        r#"
let e = try { llm_call("a", nil, {timeout_ms: 300, llm_retries: 1, llm_backoff_ms: 5}) } catch e { e }
println(e.category)
println(e.message)
"#,
        &openai_env(&server),
        &[],
    );
    let elapsed = started.elapsed();
    assert_eq!(
        ok_lines(&out),
        [
            "timeout",
            "openai: request timed out after 300 ms (after 2 attempts)"
        ]
    );
    assert_eq!(server.requests().len(), 2);
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[test]
fn malformed_body_is_a_provider_error_without_retry() {
    let server = Server::start(vec![
        Reply::status(200, "this is not json"),
        Reply::json(json!({"choices": []})),
        Reply::json(json!({"content": "not blocks"})),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
for i in 0..2 {
  let e = try { llm_call("a") } catch e { e }
  println(e.category, e.message)
}
"#;
    let out = run(dir.path(), script, &openai_env(&server), &[]);
    let lines = ok_lines(&out);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("provider_error openai: malformed response body: "),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "provider_error openai: malformed response body: no choices"
    );
    let out = run(
        dir.path(),
        r#"
let e = try { llm_call("a", nil, {provider: "anthropic", base_url: "BASE"}) } catch e { e }
println(e.category, e.message)
"#
        .replace("BASE", &format!("http://127.0.0.1:{}", server.port))
        .as_str(),
        &[],
        &[],
    );
    assert_eq!(
        ok_lines(&out),
        ["provider_error anthropic: malformed response body: no content blocks"]
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn client_errors_are_not_retried_and_never_show_the_key() {
    let body = json!({"error": {"message": format!("Incorrect API key provided: {KEY}. Check it."), "type": "invalid_request_error"}});
    let server = Server::start(vec![
        Reply::status(401, &body.to_string()),
        Reply::status(401, &body.to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("rec.jsonl");
    let out = run(
        dir.path(),
        r#"
let e = try { llm_call("a") } catch e { e }
println(e.category)
println(e.message)
llm_call("uncaught")
"#,
        &openai_env(&server),
        &["--llm-record", record.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_no_key(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(
            "provider_error\nopenai: HTTP 401: Incorrect API key provided: [redacted]. Check it.\n"
        ),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("error[provider_error]: openai: HTTP 401"));
    assert_eq!(server.requests().len(), 2);
    let recorded = fs::read_to_string(&record).unwrap();
    assert_eq!(recorded.lines().count(), 2);
    assert!(!recorded.contains(KEY));
}

#[test]
fn provider_auto_detection_and_model_env() {
    let server = Server::start(vec![
        Reply::json(openai_text("via openai", 1, 1)),
        Reply::json(anthropic_text("via anthropic")),
        Reply::json(openai_text("via WEFT_PROVIDER", 1, 1)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let script = "let r = llm_call(\"hi\")\nprintln(r.provider, r.text)\n";
    // WEFT_OPENAI_BASE_URL alone (no key: fine for local servers).
    let env = vec![
        (
            "WEFT_OPENAI_BASE_URL",
            format!("http://127.0.0.1:{}/v1", server.port),
        ),
        ("WEFT_MODEL", "local-model".to_string()),
    ];
    assert_eq!(
        ok_lines(&run(dir.path(), script, &env, &[])),
        ["openai via openai"]
    );
    assert_eq!(server.requests()[0].header("authorization"), None);
    assert_eq!(server.requests()[0].body["model"], json!("local-model"));
    // ANTHROPIC_API_KEY alone.
    assert_eq!(
        ok_lines(&run(dir.path(), script, &anthropic_env(&server), &[])),
        ["anthropic via anthropic"]
    );
    // WEFT_PROVIDER wins over the keys; OPENAI_BASE_URL is the fallback base.
    let mut env = anthropic_env(&server);
    env.push(("WEFT_PROVIDER", "openai".to_string()));
    env.push((
        "OPENAI_BASE_URL",
        format!("http://127.0.0.1:{}/v1", server.port),
    ));
    assert_eq!(
        ok_lines(&run(dir.path(), script, &env, &[])),
        ["openai via WEFT_PROVIDER"]
    );
    assert_eq!(server.requests()[2].path, "/v1/chat/completions");
    assert_eq!(server.unused_replies(), 0);

    // Nothing configured: the mock, with a one-line notice the first time.
    let out = run(
        dir.path(),
        "println(llm_call(\"hi\").provider)\nllm_call(\"again\")\n",
        &[],
        &[],
    );
    assert_eq!(ok_lines(&out), ["mock"]);
    assert_eq!(
        text(&out.stderr),
        "weft: no LLM provider configured, using the mock provider\n"
    );
}

#[test]
fn connection_refused_is_a_provider_error() {
    // A port with nothing listening (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "WEFT_OPENAI_BASE_URL",
            format!("http://127.0.0.1:{port}/v1"),
        ),
        ("OPENAI_API_KEY", KEY.to_string()),
    ];
    let out = run(
        dir.path(),
        r#"
let e = try { llm_call("a", nil, {llm_retries: 1, llm_backoff_ms: 5}) } catch e { e }
println(e.category)
println(e.message)
"#,
        &env,
        &[],
    );
    let lines = ok_lines(&out);
    assert_eq!(lines[0], "provider_error");
    assert!(
        lines[1].starts_with(&format!(
            "openai: cannot connect to http://127.0.0.1:{port}/v1/chat/completions: "
        )),
        "{lines:?}"
    );
    assert!(lines[1].ends_with("(after 2 attempts)"), "{lines:?}");
    assert_no_key(&out);
}

#[test]
fn bad_fixture_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("f.jsonl"),
        "{\"response\": {\"text\": \"a\"}}\n{\"respons\": {}}\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        "println(1)\n",
        &[],
        &["--llm-fixture", "f.jsonl"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: LLM fixture f.jsonl: line 2: unknown fixture line key 'respons' (did you mean 'response'?)\n"
    );
    let out = run(
        dir.path(),
        "println(1)\n",
        &[],
        &["--llm-fixture", "missing.jsonl"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: cannot read LLM fixture missing.jsonl: "));
}

#[test]
fn a_reply_longer_than_max_string_len_is_refused_while_reading() {
    // 2 MB of reply text under a 100 kB string limit: reading stops at the
    // bound, the call fails with limit_exceeded and is not retried.
    let huge = "x".repeat(2 << 20);
    let server = Server::start(vec![Reply::json(openai_text(&huge, 1, 1))]);
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
let r = try { llm_call("Say a lot") } catch e { "${e.category}: ${e.message}" }
println(r)
"#;
    let out = run(
        dir.path(),
        script,
        &openai_env(&server),
        &["--max-string-len", "100000"],
    );
    assert_eq!(
        ok_lines(&out),
        ["limit_exceeded: openai: the reply is longer than 100000 bytes (max_string_len); stopped reading"]
    );
    assert_eq!(server.requests().len(), 1);
    // Within the bound the same reply is fine.
    let server = Server::start(vec![Reply::json(openai_text(&huge, 1, 1))]);
    let out = run(
        dir.path(),
        "println(len(llm_call(\"Say a lot\").text))",
        &openai_env(&server),
        &[],
    );
    assert_eq!(ok_lines(&out), [(2 << 20).to_string()]);
}
