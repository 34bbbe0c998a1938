//! MCP with peers nobody here wrote (docs/guide/mcp.md): the npm reference
//! servers `@modelcontextprotocol/server-everything` (stdio and streamable
//! HTTP) and `server-filesystem` as servers of Weft's client, and the
//! official Python SDK (`mcp` on PyPI) as a client of `weft mcp serve`
//! (stdio and HTTP). `bash scripts/mcp/setup.sh` installs them; a missing
//! peer fails the test under CI=true and skips it (with a note) otherwise.
//! Also: no server process outlives the run that opened it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn npm_bin() -> PathBuf {
    std::env::var_os("MCP_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".mcp-peers/node"))
        .join("node_modules/.bin")
}

fn venv_python() -> PathBuf {
    std::env::var_os("MCP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-mcp"))
        .join("bin/python")
}

/// Whether `path` exists; under CI=true a missing peer is a failure.
fn have(path: &Path) -> bool {
    if path.exists() {
        return true;
    }
    let msg = format!(
        "{} is missing: run `bash scripts/mcp/setup.sh` (npm + PyPI, ~30 s)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    false
}

/// `weft run` of `source` in `dir`, with no real LLM provider.
fn run_weft(dir: &Path, source: &str) -> Output {
    let file = dir.join("script.wf");
    std::fs::write(&file, source).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(&file)
        .current_dir(dir)
        .env("WEFT_STATE_DIR", dir.join(".weft"))
        .env_remove("WEFT_PROVIDER")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("run weft");
    out
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "weft failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A background server; dropping it kills its process group.
struct Background(Child);

impl Background {
    /// Starts `cmd` in its own process group and waits until a line of its
    /// stderr contains `ready`.
    fn start(mut cmd: Command, ready: &str) -> Background {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let ready = ready.to_string();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains(&ready) {
                    let _ = tx.send(());
                    sent = true;
                }
            }
        });
        let bg = Background(child);
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the server did not start within 60 s");
        bg
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // SAFETY: kill(2) has no memory-safety preconditions; the group
        // was created for this server (`process_group(0)`).
        unsafe {
            libc::kill(-(self.0.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

#[test]
fn everything_server_over_stdio() {
    let bin = npm_bin().join("mcp-server-everything");
    if !have(&bin) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        r#"
let c = mcp_connect({{command: "{}", name: "everything"}})
let names = map(mcp_tools(c).tools, {{ t -> t.name }})
println(contains(names, "echo"), contains(names, "get-sum"))
println(mcp_call(c, "echo", {{message: "hi there"}}).text)
println(mcp_call(c, "get-sum", {{a: 2, b: 3}}).text)
let bad = mcp_call(c, "get-sum", {{a: "two"}})
println("bad arguments:", bad.is_error)
let res = mcp_resources(c)
println(len(res) > 0)
let body = mcp_read_resource(c, res[0].uri)
println(body[0].uri == res[0].uri)
let ps = map(mcp_prompts(c), {{ p -> p.name }})
println(contains(ps, "simple-prompt"))
println(len(mcp_get_prompt(c, "simple-prompt").messages) > 0)
let tools = mcp_tools(c, {{only: ["echo"], prefix: "ev_"}})
llm_mock({{tool_calls: [{{name: "ev_echo", arguments: {{message: "from the model"}}}}]}})
llm_mock({{text: "done"}})
let r = agent_loop("Echo", "", {{tools: tools}})
println(r.tool_calls[0].ok, r.tool_calls[0].result)
"#,
        bin.display()
    );
    let out = stdout_of(&run_weft(dir.path(), &src));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "true true", "{out}");
    assert!(lines[1].contains("hi there"), "{out}");
    assert!(lines[2].contains('5'), "{out}");
    assert_eq!(lines[3], "bad arguments: true", "{out}");
    assert_eq!(&lines[4..8], ["true", "true", "true", "true"], "{out}");
    assert!(
        lines[8].starts_with("true ") && lines[8].contains("from the model"),
        "{out}"
    );
}

#[test]
fn everything_server_over_streamable_http() {
    let bin = npm_bin().join("mcp-server-everything");
    if !have(&bin) {
        return;
    }
    let port = free_port();
    let mut cmd = Command::new(&bin);
    cmd.arg("streamableHttp").env("PORT", port.to_string());
    let _server = Background::start(cmd, "listening");
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        r#"
let c = mcp_connect({{url: "http://127.0.0.1:{port}/mcp", headers: {{"X-Test": "weft"}}}})
println(c.server, c.pid)
println(mcp_call(c, "echo", {{message: "over http"}}).text)
println(len(mcp_tools(c).tools) > 3)
mcp_close(c)
let e = try {{ mcp_call(c, "echo", {{message: "x"}}) }} catch e {{ e }}
println(e.category)
"#
    );
    let out = stdout_of(&run_weft(dir.path(), &src));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("http://127.0.0.1:{port}/mcp nil"),
        "{out}"
    );
    assert!(lines[1].contains("over http"), "{out}");
    assert_eq!(lines[2], "true", "{out}");
    assert_eq!(lines[3], "mcp_error", "{out}");
}

#[test]
fn filesystem_server_restricted_by_policy() {
    let bin = npm_bin().join("mcp-server-filesystem");
    if !have(&bin) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(docs.join("sub/b.txt"), "beta\n").unwrap();
    let src = format!(
        r#"
let fs = mcp_connect({{command: "{bin}", args: ["{docs}"], name: "files"}})
let listing = mcp_call(fs, "list_directory", {{path: "{docs}"}}).text
println(contains(listing, "a.txt"), contains(listing, "sub"))
println(trim(mcp_call(fs, "read_text_file", {{path: "{docs}/sub/b.txt"}}).text))
// The server refuses paths outside the directory it was given.
println(mcp_call(fs, "read_text_file", {{path: "/etc/hostname"}}).is_error)
// A worker limited to other servers cannot use this one; one limited to
// read tools cannot write.
let tools = mcp_tools(fs)
fn attempt(name, args, policy) {{
  llm_mock({{tool_calls: [{{name: name, arguments: args}}]}})
  llm_mock({{text: "ok"}})
  let r = sub_agent_run("Try", {{tools: tools, policy: policy}})
  llm_mock_clear()
  let c = r.tool_calls[0]
  return if c.ok {{ "ok" }} else {{ c.error.category }}
}}
println(attempt("read_text_file", {{path: "{docs}/a.txt"}}, {{capabilities: {{mcp: ["python3"]}}}}))
println(attempt("read_text_file", {{path: "{docs}/a.txt"}}, {{capabilities: {{mcp: ["mcp-server-filesystem"]}}}}))
println(attempt("write_file", {{path: "{docs}/c.txt", content: "x"}}, {{tools: ["read_text_file", "list_directory"]}}))
println(exists("{docs}/c.txt"))
"#,
        bin = bin.display(),
        docs = docs.display()
    );
    let out = stdout_of(&run_weft(dir.path(), &src));
    assert_eq!(
        out.trim_end(),
        "true true\nbeta\ntrue\npermission_denied\nok\npermission_denied\nfalse",
        "{out}"
    );
}

#[test]
fn no_server_process_outlives_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo_root().join("conformance/mcp/fixture_server.js");
    let src = format!(
        r#"
let c = mcp_connect({{command: "node", args: ["{}"]}})
println(c.pid)
"#,
        fixture.display()
    );
    let out = stdout_of(&run_weft(dir.path(), &src));
    let pid: u32 = out.trim().parse().expect("a pid");
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while proc_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!proc_dir.exists(), "server process {pid} outlived the run");
}

/// The official Python SDK as a client of `weft mcp serve`.
fn check_python_client(lines: &str) {
    let expect = [
        r#"tool greet "Greets someone by name." {"properties": {"greeting": {}, "name": {}}, "required": ["name"], "type": "object"}"#,
        r#"tool add "Adds two integers." {"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"], "type": "object"}"#,
        r#"tool broken "Fails on purpose." {"properties": {}, "required": [], "type": "object"}"#,
        r#"tool read "Reads a file (the --policy of the test denies fs.read)." {"properties": {"path": {}}, "required": ["path"], "type": "object"}"#,
        r#"tool delegate "Runs two workers, so that the call reports progress." {"properties": {"task": {}}, "required": ["task"], "type": "object"}"#,
        "greet False Hello, Ada!",
        "greet2 False Hi, Ada!",
        r#"add False {"sum":5} {"sum": 5}"#,
        "broken True error[division_by_zero]: division by zero",
        "missing True greet: missing argument 'name'",
    ];
    let got: Vec<&str> = lines.lines().collect();
    for (i, want) in expect.iter().enumerate() {
        assert_eq!(got.get(i).copied(), Some(*want), "line {i} of:\n{lines}");
    }
    assert!(
        got[10].starts_with("read True error[permission_denied]: "),
        "{lines}"
    );
    assert_eq!(
        got[11], r#"delegate False ["first done","second done"]"#,
        "{lines}"
    );
    assert_eq!(got[12], "progress True True", "{lines}");
    assert_eq!(got[13], "nope error True", "{lines}");
}

fn python_output(args: &[&str]) -> String {
    let out = Command::new(venv_python())
        .arg(repo_root().join("crates/weft-cli/tests/mcp/client.py"))
        .args(args)
        .current_dir(repo_root().join("crates/weft-cli/tests/mcp"))
        .env("WEFT_PERSIST", "0")
        .env_remove("WEFT_PROVIDER")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("run the Python client");
    assert!(
        out.status.success(),
        "client failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn python_sdk_client_over_stdio() {
    if !have(&venv_python()) {
        return;
    }
    let out = python_output(&[
        "stdio",
        env!("CARGO_BIN_EXE_weft"),
        "served.wf",
        "policy.json",
    ]);
    check_python_client(&out);
}

#[test]
fn python_sdk_client_over_streamable_http() {
    if !have(&venv_python()) {
        return;
    }
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args([
        "mcp",
        "serve",
        "served.wf",
        "--policy",
        "policy.json",
        "--http",
    ])
    .arg(format!("127.0.0.1:{port}"))
    .current_dir(repo_root().join("crates/weft-cli/tests/mcp"))
    .env("WEFT_PERSIST", "0")
    .env_remove("WEFT_PROVIDER")
    .env_remove("OPENAI_API_KEY")
    .env_remove("ANTHROPIC_API_KEY");
    let _server = Background::start(cmd, "listening on");
    let out = python_output(&["http", &format!("http://127.0.0.1:{port}/mcp")]);
    check_python_client(&out);
}

#[test]
fn directory_agent_example_reads_but_cannot_write() {
    if !have(&npm_bin().join("mcp-server-filesystem")) {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", "examples/mcp_directory_agent.wf"])
        .current_dir(repo_root())
        .env("WEFT_STATE_DIR", state.path())
        .env("WEFT_LLM_DISABLED", "1")
        .env_remove("WEFT_OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("WEFT_PROVIDER")
        .output()
        .unwrap();
    let out = stdout_of(&out);
    assert!(out.contains("-> refused (permission_denied)"), "{out}");
    assert!(out.contains("incident-2041.md\"}) -> 334 chars"), "{out}");
    assert!(
        out.contains("answer: Incident 2041 was duplicate invoices"),
        "{out}"
    );
    assert!(out.ends_with("notes.md written: false\n"), "{out}");
}
