//! Issue 12.7: SIGINT and SIGTERM during `weft run` stop the running work
//! at its awaits, save keyed workers and runs as `interrupted` (a re-run
//! resumes them), flush the script's output and exit 130 / 143.

mod support;
use support::weft;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A keyed worker in a slow model call and a keyed workflow run whose node
/// sleeps; output printed before (one line without a newline).
const PROGRAM: &str = r#"
let d = if len(argv) > 0 { to_int(argv[0]) } else { 30000 }
println("before")
print("partial")
llm_mock({match: "slow job", text: "done", delay_ms: d})
let h = spawn_worker({task: "slow job", key: "w1"})
let g = workflow_graph({name: "wf", entry: "a",
  nodes: {a: {kind: "code", run: { ctx -> sleep(d); "ran" }}}, edges: []})
let r = workflow_execute("t", g, {key: "r1"})
println(" after", r.status, r.outputs.a, wait_worker(h).status, len(llm_mock_calls()))
"#;

/// The `status` of every JSON file under `state/SUB`.
fn statuses(dir: &Path, sub: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("state").join(sub)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| v["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Starts the program and waits until both the worker and the run are
/// durably `running`.
fn start(dir: &Path) -> Child {
    std::fs::write(dir.join("job.wf"), PROGRAM).unwrap();
    let mut child = weft(dir, &["run", "job.wf"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while statuses(dir, "workers") != ["running"] || statuses(dir, "runs") != ["running"] {
        assert!(Instant::now() < deadline, "the run never started");
        assert!(child.try_wait().unwrap().is_none(), "weft exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Into the awaits.
    std::thread::sleep(Duration::from_millis(200));
    child
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn finish(child: Child, within: Duration) -> Output {
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < within,
        "took {:?} to stop",
        started.elapsed()
    );
    out
}

fn check_interrupted(dir: &Path, out: &Output, code: i32, name: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stdout}{stderr}");
    // Output from before the signal is flushed, also without a newline.
    assert_eq!(stdout, "before\npartial", "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {name}")),
        "{stderr}"
    );
    assert_eq!(statuses(dir, "workers"), ["interrupted"]);
    assert_eq!(statuses(dir, "runs"), ["interrupted"]);
    for list in ["workers", "runs"] {
        let o = weft(dir, &[list, "list"]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("interrupted"), "{list} list: {text}");
    }
}

#[test]
fn sigint_saves_keyed_work_as_interrupted_and_a_rerun_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let child = start(dir.path());
    signal(&child, "-INT");
    let out = finish(child, Duration::from_secs(10));
    check_interrupted(dir.path(), &out, 130, "SIGINT");

    // The same program again resumes the same worker and run.
    let again = weft(dir.path(), &["run", "job.wf", "--", "10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert_eq!(stdout, "before\npartial after completed ran completed 1\n");
    assert_eq!(statuses(dir.path(), "workers"), ["completed"]);
    assert_eq!(statuses(dir.path(), "runs"), ["completed"]);
}

#[test]
fn sigterm_exits_143_with_keyed_work_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let child = start(dir.path());
    signal(&child, "-TERM");
    let out = finish(child, Duration::from_secs(10));
    check_interrupted(dir.path(), &out, 143, "SIGTERM");
}

/// A loop that never awaits stops too (the signal is watched on its own
/// thread, and the interrupt is checked at back-edges).
#[test]
fn sigint_stops_a_busy_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("busy.wf"),
        "println(\"looping\")\nwrite_file(\"started\", \"1\")\nvar i = 0\nwhile true { i = i + 1 }\n",
    )
    .unwrap();
    let child = weft(dir.path(), &["run", "busy.wf"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.path().join("started").exists() {
        assert!(Instant::now() < deadline, "the loop never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "-INT");
    let out = finish(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "looping\n");
}
