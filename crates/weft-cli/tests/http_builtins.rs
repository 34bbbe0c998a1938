//! `http_get` / `http_post` / `http_request` against a tiny HTTP/1.1 server
//! on 127.0.0.1 (a random port, std `TcpListener` in a thread), run through
//! `weft run`. The conformance suite cannot rely on a network, so the
//! successful paths are checked here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::Duration;

/// One parsed request.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("none")
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(mut stream: &TcpStream, status: &str, headers: &[(&str, &str)], body: &str) {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

fn handle(stream: TcpStream) {
    let Some(req) = read_request(&stream) else {
        return;
    };
    match req.path.as_str() {
        "/hello" => {
            let body = format!(
                "method={} x-test={} ua-is-weft={}",
                req.method,
                req.header("x-test"),
                req.header("user-agent").starts_with("weft/")
            );
            respond(
                &stream,
                "200 OK",
                &[
                    ("Content-Type", "text/plain"),
                    ("X-Custom", "yes"),
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                ],
                &body,
            );
        }
        "/echo" => {
            // The request body back, with what arrived in headers.
            let ct = req.header("content-type").to_string();
            respond(
                &stream,
                "201 Created",
                &[
                    ("Content-Type", &ct),
                    ("X-Echo-Method", &req.method),
                    ("X-Echo-Content-Type", &ct),
                    ("X-Echo-Auth", req.header("authorization")),
                ],
                &req.body,
            );
        }
        "/endless" => {
            // A body that never ends (until the client hangs up).
            let mut stream = &stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'y'; 64 * 1024];
            while stream.write_all(&chunk).is_ok() {}
        }
        "/stall" => {
            // Never answer within the client's timeout.
            thread::sleep(Duration::from_secs(5));
            respond(&stream, "200 OK", &[], "too late");
        }
        _ => respond(
            &stream,
            "404 Not Found",
            &[("Content-Type", "text/plain")],
            "not found",
        ),
    }
}

/// Starts the server; returns its port. The accept thread lives as long as
/// the test process.
fn start_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handle(stream));
        }
    });
    port
}

/// Runs `script` (with `BASE` replaced by the server URL) and returns stdout.
fn run(script: &str, port: u16) -> String {
    run_with(&[], script, port)
}

/// [`run`] with extra `weft run` flags.
fn run_with(flags: &[&str], script: &str, port: u16) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("http_test.wf");
    std::fs::write(
        &path,
        script.replace("BASE", &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("run")
        .args(flags)
        .arg(&path)
        .current_dir(dir.path());
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.env("NO_PROXY", "*").output().expect("run weft");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "weft failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn get_with_headers() {
    let port = start_server();
    let out = run(
        r#"
let r = http_get("BASE/hello", {headers: {"X-Test": "abc"}})
println(r.status)
println(r.body)
println(r.headers["content-type"], r.headers["x-custom"])
println(r.headers["set-cookie"])
println(r.json)
println(keys(r))
"#,
        port,
    );
    assert_eq!(
        out,
        "200\nmethod=GET x-test=abc ua-is-weft=true\ntext/plain yes\na=1, b=2\nnil\n\
         [\"status\", \"headers\", \"body\", \"json\"]\n"
    );
}

#[test]
fn post_json_round_trip() {
    let port = start_server();
    let out = run(
        r#"
let data = {name: "weft", tags: ["a", "b"], n: 1, nested: {ok: true, none: nil}}
let p = http_post("BASE/echo", data)
println(p.status, p.headers["x-echo-method"], p.headers["x-echo-content-type"])
println(p.json == data)
println(p.json.tags[1], p.json.nested.ok)

// A string body is sent as text; a given content-type wins.
let t = http_post("BASE/echo", "plain text")
println(t.body, "|", t.headers["x-echo-content-type"], "|", t.json)
let c = http_post("BASE/echo", "[1, 2]", {headers: {"Content-Type": "application/x-mine"}})
println(c.headers["x-echo-content-type"], c.json)

// http_request: method (any case), headers, json body.
let q = http_request({method: "put", url: "BASE/echo", json: [1, 2, 3], headers: {Authorization: "Bearer t0k"}})
println(q.status, q.headers["x-echo-method"], q.headers["x-echo-auth"], q.json)
let d = http_request({method: "DELETE", url: "BASE/echo"})
println(d.status, d.headers["x-echo-method"], json_stringify(d.body), d.json)
"#,
        port,
    );
    assert_eq!(
        out,
        "201 POST application/json\ntrue\nb true\n\
         plain text | text/plain; charset=utf-8 | nil\n\
         application/x-mine [1, 2]\n\
         201 PUT Bearer t0k [1, 2, 3]\n\
         201 DELETE \"\" nil\n"
    );
}

#[test]
fn non_2xx_is_a_result() {
    let port = start_server();
    let out = run(
        r#"
let m = http_get("BASE/missing")
println(m.status, m.body, m.json)
"#,
        port,
    );
    assert_eq!(out, "404 not found nil\n");
}

#[test]
fn stalled_response_times_out() {
    let port = start_server();
    let out = run(
        r#"
let t0 = monotonic_ms()
try {
  http_get("BASE/stall", {timeout_ms: 200})
  println("not reached")
} catch e {
  println(e.category, e.message)
}
let elapsed = monotonic_ms() - t0
println(elapsed >= 200, elapsed < 3000)
// The client is still usable afterwards.
println(http_get("BASE/hello").status)
"#,
        port,
    );
    assert_eq!(
        out,
        format!(
            "timeout http_get 'http://127.0.0.1:{port}/stall' exceeded 200 ms\ntrue true\n200\n"
        )
    );
}

#[test]
fn an_endless_body_stops_at_max_string_len() {
    // The body is read only up to the limit (it never ends by itself).
    let port = start_server();
    let out = run_with(
        &["--max-string-len", "1048576", "--time-limit-ms", "20000"],
        r#"
let t0 = monotonic_ms()
let r = try { http_get("BASE/endless") } catch e { e }
println(r.category)
println(contains(r.message, "the response body passed max_string_len 1048576"))
println(monotonic_ms() - t0 < 10000)
"#,
        port,
    );
    assert_eq!(out, "limit_exceeded\ntrue\ntrue\n");
}
