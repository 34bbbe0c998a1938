//! `weft ui` over plain HTTP (no browser): the token and host guard, the
//! pages' escaping, server-sent events, a missing run, and the time to
//! render the runs page of a state directory with 1,000 runs and 10,000
//! workers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// A running `weft ui`, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(state: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["ui", "--addr", "127.0.0.1:0", "--state-dir"])
        .arg(state)
        .args(extra)
        .env_remove("WEFT_STATE_DIR")
        .env_remove("WEFT_UI_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "weft ui: http://127.0.0.1:PORT/...  (state: DIR)"
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, addr }
}

/// `GET path` with extra header lines; (status, head, body).
fn get(addr: &str, path: &str, headers: &[&str]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

fn write(path: &Path, v: &serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string(v).unwrap()).unwrap();
}

/// A finished run record of two stages; the second stage's output is
/// `reply`.
fn run_record(id: &str, created: &str, reply: &str) -> serde_json::Value {
    json!({
        "_type": "weft.run", "version": 1, "id": id, "workflow": "review", "task": "review the patch",
        "status": "completed", "created_at": created, "finished_at": "2026-12-03T08:00:02Z",
        "definition": {"name": "review", "entry": "read", "nodes": {"read": {"kind": "code"}, "judge": {"kind": "stage"}},
                       "edges": [{"from": "read", "to": "judge", "branch": null}]},
        "stages": [
            {"node": "read", "kind": "code", "status": "completed", "branch": "success", "output": "the patch",
             "error": null, "attempts": 1, "started_at": "2026-12-03T08:00:00Z", "finished_at": "2026-12-03T08:00:01Z", "input": {}},
            {"node": "judge", "kind": "stage", "status": "completed", "branch": "success", "output": reply,
             "error": null, "attempts": 1, "started_at": "2026-12-03T08:00:01Z", "finished_at": "2026-12-03T08:00:02Z",
             "input": {"prompt": "judge <b>this</b>"}, "usage": {"input_tokens": 10, "output_tokens": 5}},
        ],
        "transitions": [{"from": "read", "to": "judge", "branch": null}],
        "pending": [], "usage": {"input_tokens": 10, "output_tokens": 5, "iterations": 1, "tool_calls": 0},
    })
}

const EVIL: &str = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>";

#[test]
fn pages_escape_what_models_wrote() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("runs/r_evil.json"),
        &run_record("r_evil", "2026-12-03T08:00:00Z", EVIL),
    );
    let server = serve(dir.path(), &[]);
    let (status, head, body) = get(&server.addr, "/runs/r_evil", &[]);
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'self'; script-src 'self'"),
        "{head}"
    );
    assert!(
        !body.contains("<script>window"),
        "unescaped reply in the page"
    );
    assert!(!body.contains("<img src=x"), "unescaped reply in the page");
    assert!(
        body.contains("&lt;script&gt;window.__pwned = 1&lt;/script&gt;"),
        "{body}"
    );
    assert!(body.contains("judge &lt;b&gt;this&lt;/b&gt;"));
    // The graph is inline SVG, the stages markup.
    assert!(body.contains("<svg class=\"wf-graph\""));
    assert_eq!(
        body.matches("<details class=\"stage\"").count(),
        2,
        "{body}"
    );
    let (status, _, body) = get(&server.addr, "/runs/r_missing", &[]);
    assert_eq!(status, 404);
    assert!(body.contains("no run r_missing"));
    let (status, _, _) = get(&server.addr, "/runs/..%2F..%2Fetc%2Fpasswd", &[]);
    assert_eq!(status, 404);
}

#[test]
fn a_token_is_required_on_every_request_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--token", "s3cret"]);
    for path in ["/", "/assets/app.js", "/events", "/runs/r_1"] {
        assert_eq!(get(&server.addr, path, &[]).0, 401, "{path}");
        assert_eq!(
            get(&server.addr, path, &["Authorization: Bearer nope"]).0,
            401,
            "{path}"
        );
    }
    assert_eq!(
        get(&server.addr, "/", &["Authorization: Bearer s3cret"]).0,
        200
    );
    let (status, head, _) = get(&server.addr, "/?token=s3cret", &[]);
    assert_eq!(status, 200);
    assert!(
        head.contains("set-cookie: weft_ui_token=s3cret; Path=/; HttpOnly; SameSite=Strict"),
        "{head}"
    );
    assert_eq!(
        get(&server.addr, "/", &["Cookie: weft_ui_token=s3cret"]).0,
        200
    );
}

#[test]
fn without_a_token_only_loopback_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    // Binding elsewhere needs a token: a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["ui", "--addr", "0.0.0.0:0"])
        .env_remove("WEFT_UI_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("needs a token: pass --token TOKEN or set WEFT_UI_TOKEN"));
}

#[test]
fn events_stream_new_lines_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    std::fs::write(&log, "{\"seq\":1,\"kind\":\"old\"}\n").unwrap();
    let server = serve(dir.path(), &[]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let since = std::fs::metadata(&log).unwrap().len();
    write!(
        s,
        "GET /events?since={since} HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"{\"seq\":2,\"kind\":\"stage_finished\",\"run_id\":\"r_1\"}\n")
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_secs(10);
    while !seen.contains("stage_finished") && Instant::now() < until {
        let n = s.read(&mut buf).unwrap_or(0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("content-type: text/event-stream"), "{seen}");
    assert!(seen.contains("event: weft\n"), "{seen}");
    assert!(
        seen.contains("data: {\"seq\":2,\"kind\":\"stage_finished\",\"run_id\":\"r_1\"}"),
        "{seen}"
    );
    assert!(
        !seen.contains("\"old\""),
        "an event from before the page was sent: {seen}"
    );
}

/// The runs page of 1,000 runs and 10,000 workers (each with a short
/// transcript) renders in under a second, the first time and after.
#[test]
fn the_runs_page_of_a_big_state_directory_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let workers = dir.path().join("workers");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::create_dir_all(&workers).unwrap();
    for i in 0..1_000 {
        let created = format!(
            "2026-12-{:02}T{:02}:{:02}:00Z",
            1 + i / 600,
            (i / 60) % 10,
            i % 60
        );
        let id = format!("r_{i:05}");
        std::fs::write(
            runs.join(format!("{id}.json")),
            run_record(&id, &created, "fine").to_string(),
        )
        .unwrap();
    }
    for i in 0..10_000 {
        let w = json!({
            "_type": "weft.worker", "version": 1, "id": format!("w_{i:05}"), "name": format!("worker {i}"),
            "status": if i % 7 == 0 { "failed" } else { "completed" }, "task": format!("summarise file {i}"),
            "parent_id": if i % 2 == 0 { json!(null) } else { json!(format!("w_{:05}", i - 1)) },
            "children": [], "usage": {"input_tokens": 120, "output_tokens": 40},
            "transcript": {"messages": [
                {"role": "user", "content": format!("summarise file {i} please, in two sentences")},
                {"role": "assistant", "content": "It is a file. It has words in it, several of them."},
            ]},
            "created_at": format!("2026-12-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
            "started_at": "2026-12-01T00:00:00Z", "finished_at": "2026-12-01T00:00:01Z",
        });
        std::fs::write(workers.join(format!("w_{i:05}.json")), w.to_string()).unwrap();
    }
    let server = serve(dir.path(), &[]);
    let mut times = Vec::new();
    for path in ["/", "/", "/?status=failed&q=file+99"] {
        let start = Instant::now();
        let (status, _, body) = get(&server.addr, path, &[]);
        times.push(start.elapsed());
        assert_eq!(status, 200);
        assert!(
            body.contains("6000 in all"),
            "{}",
            &body[..body.len().min(2000)]
        );
    }
    eprintln!(
        "runs page, 1,000 runs + 10,000 workers: first {:?}, cached {:?}, filtered {:?}",
        times[0], times[1], times[2]
    );
    // Debug builds are several times slower; CI runs this in release.
    let limit = if cfg!(debug_assertions) {
        Duration::from_secs(8)
    } else {
        Duration::from_secs(1)
    };
    for t in &times {
        assert!(*t < limit, "{times:?}");
    }
}
