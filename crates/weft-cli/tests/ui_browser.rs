//! `weft ui` in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/ui/setup.sh`) driven over
//! WebDriver by `fantoccini`. It opens the runs list of a state directory
//! produced by `examples/repair_loop`, opens the run (the graph's nodes and
//! statuses, the check→repair loop, the six stages), follows a run still in
//! progress until a stage turns green without a reload, and checks that a
//! model reply holding `<script>` shows as text. Screenshots go to
//! `target/ui-screenshots/`.
//!
//! Without Chromium the test is skipped with a message, except under
//! `CI=true`, where it fails: CI runs the setup script.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A child process killed on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser's profile directory. On drop — also when a step panics
/// before the WebDriver session is closed — it kills every Chromium process
/// started with this profile (chromedriver's children outlive it) and
/// removes the directory.
struct ProfileGuard(PathBuf);

impl Drop for ProfileGuard {
    fn drop(&mut self) {
        let flag = format!("--user-data-dir={}", self.0.display());
        let _ = Command::new("pkill").args(["-KILL", "-f", &flag]).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn weft() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.env("WEFT_LLM_DISABLED", "1")
        .env_remove("WEFT_STATE_DIR")
        .env_remove("WEFT_UI_TOKEN");
    c
}

/// Starts `weft ui` on a free port; its base URL.
fn serve(state: &Path) -> (Guard, String) {
    let mut child = weft()
        .args(["ui", "--addr", "127.0.0.1:0", "--state-dir"])
        .arg(state)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (Guard(child), url.trim_end_matches('/').to_string())
}

fn screenshot_dir() -> PathBuf {
    let dir = repo().join("target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(name), png).unwrap();
}

/// An attribute of the first element matching `css`, read in one script
/// call (live updates replace the page's content at any moment, so a
/// found element may be gone before a second WebDriver call).
async fn attr(c: &Client, css: &str, name: &str) -> String {
    let v = c
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null",
            vec![json!(css), json!(name)],
        )
        .await
        .unwrap();
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no {css} with {name}"))
}

/// An attribute of every element matching `css`, read in one script call.
async fn all_attrs(c: &Client, css: &str, name: &str) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute(arguments[1]) || '')",
            vec![json!(css), json!(name)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The repair-loop example's state directory.
fn repair_loop_state(state: &Path) {
    let out = weft()
        .current_dir(repo())
        .args([
            "run",
            "examples/repair_loop/repair_loop.wf",
            "--llm-fixture",
        ])
        .arg("examples/repair_loop/fixture.jsonl")
        .arg("--state-dir")
        .arg(state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A run that waits 4 s in its `slow` stage.
const SLOW: &str = r#"
llm_mock({match: "Think*", text: "thought it through", delay_ms: 4000})
llm_mock({match: "Reply*", text: "<script>window.__pwned = 1</script> and <b>bold</b>"})
let g = workflow_graph({
  name: "live",
  nodes: {
    first: {kind: "code", run: { ctx -> "ready" }},
    slow: {kind: "stage", prompt: "Think about \${task}", mode: "llm"},
    reply: {kind: "stage", prompt: "Reply to \${task}", mode: "llm"},
  },
  edges: [{from: "first", to: "slow"}, {from: "slow", to: "reply"}],
})
println(workflow_execute("the question", g).status)
"#;

fn running_slow_stage(state: &Path) -> Option<String> {
    for e in std::fs::read_dir(state.join("runs")).ok()?.flatten() {
        let text = std::fs::read_to_string(e.path()).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let stages = v["stages"].as_array()?;
        if stages
            .iter()
            .any(|s| s["node"] == "slow" && s["status"] == "running")
        {
            return v["id"].as_str().map(str::to_string);
        }
    }
    None
}

async fn browser() -> Option<(ProfileGuard, Guard, Client)> {
    let (Some(chromium), Some(driver)) = (which("chromium"), which("chromedriver")) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium and chromedriver are missing: run `bash scripts/ui/setup.sh`");
        }
        eprintln!("skipped: chromium/chromedriver not installed (bash scripts/ui/setup.sh)");
        return None;
    };
    let port = free_port();
    let driver = Guard(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = ProfileGuard(tempfile::tempdir().unwrap().keep());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1100",
                format!("--user-data-dir={}", profile.0.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some((profile, driver, client))
}

#[tokio::test]
async fn the_dashboard_in_a_real_browser() {
    // Dropped last-in-first-out: the session closes (below, or not at all
    // on a panic), then chromedriver and every Chromium of the profile go.
    let Some((_profile, _driver, c)) = browser().await else {
        return;
    };
    let result = steps(&c).await;
    let _ = c.close().await;
    result
}

async fn steps(c: &Client) {
    // 1. The runs list of the repair-loop example.
    let state = tempfile::tempdir().unwrap();
    repair_loop_state(state.path());
    let (_ui, url) = serve(state.path());
    c.goto(&format!("{url}/")).await.unwrap();
    let rows = all_attrs(c, "table.runs tbody tr", "data-status").await;
    assert_eq!(rows, ["completed"], "one run, completed");
    shot(c, "runs.png").await;

    // 2. The run: six stages, the graph's five nodes by status, the loop.
    c.find(Locator::Css("table.runs tbody tr td.id a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let nodes = all_attrs(c, "svg.wf-graph g.wf-node", "data-node").await;
    assert_eq!(nodes, ["baseline", "plan", "edit", "check", "repair"]);
    let statuses = all_attrs(c, "svg.wf-graph g.wf-node", "class").await;
    assert_eq!(
        statuses,
        [
            "wf-node status-failed",
            "wf-node status-completed",
            "wf-node status-completed",
            "wf-node status-completed",
            "wf-node status-completed",
        ]
    );
    for (from, to) in [("check", "repair"), ("repair", "check")] {
        let class = attr(
            c,
            &format!("svg g.wf-edge[data-from='{from}'][data-to='{to}']"),
            "class",
        )
        .await;
        assert_eq!(class, "wf-edge taken", "{from} -> {to}");
    }
    let check_label = c
        .find(Locator::Css("svg g.wf-node[data-node='check'] + text"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        check_label.contains("×2"),
        "check ran twice: {check_label:?}"
    );
    let stages = all_attrs(c, "details.stage", "data-node").await;
    assert_eq!(
        stages,
        ["baseline", "plan", "edit", "check", "repair", "check"]
    );
    let stage_statuses = all_attrs(c, "details.stage", "data-status").await;
    assert_eq!(
        stage_statuses,
        [
            "failed",
            "completed",
            "completed",
            "failed",
            "completed",
            "completed"
        ]
    );
    assert_eq!(
        c.find_all(Locator::Css(".gantt-row")).await.unwrap().len(),
        8,
        "six stages and two workers"
    );
    shot(c, "run.png").await;
    // A stage's worker page: the delegation tree and the transcript.
    c.goto(&format!(
        "{url}{}",
        attr(c, "details.stage[data-node='edit'] .stage-body a", "href").await
    ))
    .await
    .unwrap();
    assert!(c.find(Locator::Css("ul.tree li.current")).await.is_ok());
    assert!(
        c.find_all(Locator::Css("ol.transcript li"))
            .await
            .unwrap()
            .len()
            >= 3
    );
    shot(c, "worker.png").await;

    // 3. A run in progress: its slow stage turns green without a reload.
    let live = tempfile::tempdir().unwrap();
    std::fs::write(live.path().join("live.wf"), SLOW).unwrap();
    let (_ui2, url2) = serve(&live.path().join("state"));
    let run = Guard(
        weft()
            .current_dir(live.path())
            .args(["run", "live.wf", "--state-dir", "state"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(30);
    let id = loop {
        if let Some(id) = running_slow_stage(&live.path().join("state")) {
            break id;
        }
        assert!(Instant::now() < until, "the slow stage never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    c.goto(&format!("{url2}/runs/{id}")).await.unwrap();
    let slow = "svg g.wf-node[data-node='slow']";
    assert_eq!(attr(c, slow, "class").await, "wf-node status-running");
    c.execute("window.__sameDocument = true; return 1", vec![])
        .await
        .unwrap();
    shot(c, "live-running.png").await;
    let until = Instant::now() + Duration::from_secs(30);
    while attr(c, slow, "class").await != "wf-node status-completed" {
        assert!(Instant::now() < until, "the slow stage never turned green");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let same = c
        .execute("return window.__sameDocument === true", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "the page was reloaded");
    let fill = c
        .execute(
            "return getComputedStyle(document.querySelector(\"g.wf-node[data-node='slow'] rect\")).fill",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fill, json!("rgb(200, 239, 208)"), "green");
    drop(run);
    // Wait for the whole run, then 4. the reply with <script> is text.
    let until = Instant::now() + Duration::from_secs(30);
    while attr(c, "h1 .badge", "class").await != "badge status-completed" {
        assert!(Instant::now() < until, "the run never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(c, "live-completed.png").await;
    c.refresh().await.unwrap();
    let reply = c
        .execute(
            "return document.querySelector(\"details.stage[data-node='reply'] .stage-body\").textContent",
            vec![],
        )
        .await
        .unwrap();
    let reply = reply.as_str().unwrap_or_default().to_string();
    assert!(
        reply.contains("<script>window.__pwned = 1</script> and <b>bold</b>"),
        "{reply}"
    );
    let pwned = c
        .execute("return typeof window.__pwned", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!("undefined"));
    let injected = c
        .execute(
            "return document.querySelectorAll('main script, main b').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));
}
