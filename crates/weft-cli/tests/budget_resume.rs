//! A crash-resumed keyed worker keeps its spent budget (issue 17): the
//! worker spends 80 of its 200 tokens, then the process is killed (SIGKILL)
//! during its next model call. Re-running the program resumes the worker
//! from its checkpoint with 120 tokens left, not a fresh 200.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
let delay = if len(argv) > 0 { to_int(argv[0]) } else { 5000 }
var tools = tool_registry()
tools = tool_define(tools, "note", "Write a note", {
  parameters: {},
  handler: { args -> append_file("notes.txt", "noted\n"); "noted" },
})
tools = tool_define(tools, "left", "Record the budget left", {
  parameters: {},
  handler: { args -> write_file("left.txt", "${budget_remaining().tokens}"); "recorded" },
})
llm_mock({match: "Do the job", tool_calls: [{name: "note", arguments: {}}], input_tokens: 50, output_tokens: 30})
llm_mock({match: "noted", tool_calls: [{name: "left", arguments: {}}], input_tokens: 10, output_tokens: 5, delay_ms: delay})
llm_mock({match: "recorded", text: "all done", input_tokens: 1, output_tokens: 1})
let h = spawn_worker({task: "Do the job", key: "budgeted", tools: tools, wait: true, budget: {tokens: 200}})
println(h.status, h.result.summary)
"#;

/// `weft run job.wf -- EXTRA` in `dir`.
fn weft(dir: &Path, extra: &[&str]) -> Command {
    let mut c = support::weft(dir, &["run", "job.wf", "--"]);
    c.args(extra);
    c
}

/// The worker's snapshot records its first turn and the 80 tokens spent.
fn checkpointed(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir.join("state/workers")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        v["status"] == "running" && v["budget"]["spent"]["tokens"] == 80
    })
}

#[test]
fn a_resumed_keyed_worker_keeps_its_spent_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.wf"), PROGRAM).unwrap();
    let mut child = weft(dir.path(), &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !checkpointed(dir.path()) {
        assert!(
            Instant::now() < deadline,
            "no checkpoint after the first turn"
        );
        assert!(child.try_wait().unwrap().is_none(), "weft exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Now in the slow second model call.
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!dir.path().join("left.txt").exists());

    let out = weft(dir.path(), &["10"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "completed all done");
    // 200 - 80 (before the crash) - 15 (the second call, made again).
    let left = std::fs::read_to_string(dir.path().join("left.txt")).unwrap();
    assert_eq!(left, "105");
    let notes = std::fs::read_to_string(dir.path().join("notes.txt")).unwrap();
    assert_eq!(notes, "noted\n", "the first turn's tool ran once");
}
