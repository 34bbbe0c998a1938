//! Durable workflow runs (workflows.md §4): a keyed run of three stages is
//! killed (SIGKILL) while its second stage waits on a slow model call.
//! Running the same program again continues the stored run from its pending
//! node: the first stage's side effect happened exactly once and the run
//! completes. `weft runs list` / `weft runs show` then read the record.

mod support;
use support::weft;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
let delay = if len(argv) > 0 { to_int(argv[0]) } else { 5000 }
llm_mock({match: "Summarise*", text: "a summary", delay_ms: delay})
let g = {
  name: "three",
  entry: "effect",
  nodes: {
    effect: {kind: "code", run: { ctx -> append_file("side_effects.txt", "effect\n"); "wrote" }},
    slow: {kind: "stage", prompt: "Summarise \${task}"},
    finish: {kind: "code", run: { ctx -> "done: " + ctx.input.slow }},
  },
  edges: [{from: "effect", to: "slow"}, {from: "slow", to: "finish"}],
}
let run = workflow_execute("the report", g, {key: "nightly"})
println(run.status, run.outputs.finish)
println(map(run.stages, { s -> "${s.node}:${s.status}" }))
println("model calls", len(llm_mock_calls()))
if len(argv) > 0 { println("cut short:", map(run.interrupted_stages, { s -> "${s.node}:${s.status}" })) }
"#;

/// The stored record, once its second stage is running.
fn in_second_stage(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir.join("state/runs")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        v["stages"][0]["status"] == "completed" && v["stages"][1]["status"] == "running"
    })
}

/// Runs `flow.wf` and kills it (SIGKILL) while its second stage runs.
fn kill_in_second_stage(dir: &Path) {
    let mut child = weft(dir, &["run", "flow.wf"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !in_second_stage(dir) {
        assert!(Instant::now() < deadline, "the second stage never started");
        assert!(child.try_wait().unwrap().is_none(), "weft exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn killed_run_continues_from_its_pending_node() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.wf"), PROGRAM).unwrap();
    let out = weft(dir.path(), &["runs", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no runs in "));

    kill_in_second_stage(dir.path());
    let effects = std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap();
    assert_eq!(effects, "effect\n");

    let out = weft(dir.path(), &["run", "flow.wf", "--", "10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "completed done: a summary",
            "[\"effect:completed\", \"slow:completed\", \"finish:completed\"]",
            "model calls 1",
            "cut short: [\"slow:interrupted\"]",
        ],
        "{stdout}"
    );
    let effects = std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap();
    assert_eq!(effects, "effect\n", "the first stage ran again");

    // A third run returns the completed run without running anything.
    let out = weft(dir.path(), &["run", "flow.wf", "--", "10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with("model calls 0\ncut short: [\"slow:interrupted\"]\n"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap(),
        "effect\n"
    );

    // weft runs list / show.
    let out = weft(dir.path(), &["runs", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    // A header, then ID STATUS WORKFLOW KEY STAGES CREATED TASK.
    assert!(list.starts_with("ID "), "{list}");
    let row: Vec<&str> = list.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[1..5], ["completed", "three", "nightly", "4"], "{list}");
    let id = row[0].to_string();
    let out = weft(dir.path(), &["runs", "show", &id]).output().unwrap();
    let show = String::from_utf8_lossy(&out.stdout);
    assert!(
        show.starts_with(&format!("run {id}  workflow three  status completed")),
        "{show}"
    );
    for needle in [
        "key: nightly",
        "stages (4):",
        "slow    stage  interrupted",
        "effect -> slow",
        "pending: (none)",
    ] {
        assert!(show.contains(needle), "{needle:?} missing in\n{show}");
    }
    let out = weft(dir.path(), &["runs", "show", &id, "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["_type"], "weft.run");
    assert_eq!(v["outputs"]["finish"], "done: a summary");

    // Unknown and corrupt records are errors, not panics.
    let out = weft(dir.path(), &["runs", "show", "r_nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(dir.path().join("state/runs/r_bad.json"), "{not json").unwrap();
    let out = weft(dir.path(), &["runs", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("r_bad.json"));
}

const WORKER_PROGRAM: &str = r#"
let delay = if len(argv) > 0 { to_int(argv[0]) } else { 5000 }
llm_mock({match: "Summarise*", text: "a summary", delay_ms: delay})
let g = {
  name: "in_a_worker",
  entry: "effect",
  nodes: {
    effect: {kind: "code", run: { ctx -> append_file("side_effects.txt", "effect\n"); "wrote" }},
    slow: {kind: "stage", prompt: "Summarise \${task}"},
  },
  edges: [{from: "effect", to: "slow"}],
}
let w = spawn_worker({task: "the report", graph: g, key: "flow-worker", wait: true})
println(w.mode, w.status, w.result.outputs.slow)
println(map(w.result.stages, { s -> "${s.node}:${s.status}" }))
println(map(w.result.interrupted_stages, { s -> "${s.node}:${s.status}" }))
"#;

#[test]
fn killed_workflow_worker_continues_its_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.wf"), WORKER_PROGRAM).unwrap();
    kill_in_second_stage(dir.path());

    let out = weft(dir.path(), &["run", "flow.wf", "--", "10"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "workflow completed a summary",
            "[\"effect:completed\", \"slow:completed\"]",
            "[\"slow:interrupted\"]",
        ],
        "{stdout}"
    );
    let effects = std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap();
    assert_eq!(effects, "effect\n", "the first stage ran again");
}

#[test]
fn run_events_go_to_stderr_with_events() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ev.wf"),
        "let r = workflow_execute(\"t\", {name: \"ev\", nodes: {a: {kind: \"code\", run: { c -> 1 }}, b: {kind: \"join\"}}, edges: [{from: \"a\", to: \"b\"}]})\nprintln(r.status)\n",
    )
    .unwrap();
    let out = weft(dir.path(), &["run", "--events", "ev.wf"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "completed\n");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "stage_started",
            "stage_finished",
            "stage_started",
            "stage_finished",
            "run_finished"
        ]
    );
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(events[0]["workflow"], "ev");
    assert_eq!(events[2]["data"]["node"], "a");
    assert_eq!(events[2]["data"]["branch"], "success");
    assert_eq!(events[5]["data"]["status"], "completed");
}
