//! Resume by re-running (workers.md §6): a keyed worker makes two tool
//! calls with side effects, then a slow model call; the process is killed
//! (SIGKILL) during that call. Running the same program again completes
//! the worker from its last checkpoint: each side effect happened exactly
//! once, and no model call of an already finished turn is made again.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
let delay = if len(argv) > 0 { to_int(argv[0]) } else { 5000 }
var tools = tool_registry()
tools = tool_define(tools, "append", "Append a line to the log", {
  parameters: {text: {type: "string"}},
  handler: { args -> append_file("side_effects.txt", args.text + "\n"); "appended ${args.text}" },
})
llm_mock({match: "Do the job", tool_calls: [{name: "append", arguments: {text: "one"}}]})
llm_mock({match: "appended one", tool_calls: [{name: "append", arguments: {text: "two"}}]})
llm_mock({match: "appended two", text: "all done", delay_ms: delay})
let h = spawn_worker({task: "Do the job", key: "job-1", tools: tools, wait: true})
println(h.status, h.result.summary, h.result.iterations, len(h.result.tool_calls))
println("model calls", len(llm_mock_calls()))
println(map(worker_events(h), { e -> e.kind }))
"#;

/// `weft run job.wf -- EXTRA` in `dir`.
fn weft(dir: &Path, extra: &[&str]) -> Command {
    let mut c = support::weft(dir, &["run", "job.wf", "--"]);
    c.args(extra);
    c
}

/// The worker's snapshot, once its checkpoint holds both tool calls.
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
        v["status"] == "running"
            && v["checkpoint"]["tool_calls"]
                .as_array()
                .is_some_and(|c| c.len() == 2)
    })
}

#[test]
fn killed_worker_resumes_from_its_checkpoint() {
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
            "no checkpoint after both tool calls"
        );
        assert!(child.try_wait().unwrap().is_none(), "weft exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Now in the slow model call.
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let effects = std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap();
    assert_eq!(effects, "one\ntwo\n");

    let out = weft(dir.path(), &["10"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "completed all done 3 2", "{stdout}");
    // Only the interrupted turn's model call was made again.
    assert_eq!(lines[1], "model calls 1", "{stdout}");
    assert!(
        lines[2].starts_with("[\"worker_resumed\", \"worker_started\""),
        "{stdout}"
    );
    let effects = std::fs::read_to_string(dir.path().join("side_effects.txt")).unwrap();
    assert_eq!(effects, "one\ntwo\n", "a side effect was repeated");

    // A third run returns the stored result without any model call.
    let out = weft(dir.path(), &["10"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "completed all done 3 2",
            "model calls 0",
            "[\"worker_resumed\"]"
        ],
        "{stdout}"
    );

    // The same key for another task is an error, unless --fresh.
    let changed = PROGRAM.replace("task: \"Do the job\"", "task: \"Do another job\"");
    std::fs::write(dir.path().join("job.wf"), &changed).unwrap();
    let out = weft(dir.path(), &["10"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("worker key 'job-1' was used for a different task"),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", "--fresh", "job.wf", "--", "10"])
        .current_dir(dir.path())
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("model calls"), "{stdout}");
}

#[test]
fn workers_list_and_show_read_the_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.wf"),
        "llm_mock({text: \"hi\"})\nlet h = spawn_worker({task: \"List me\", name: \"lister\", key: \"k-list\", wait: true})\nprintln(h.id)\n",
    )
    .unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_weft"));
    let out = run
        .args(["run", "--state-dir", "st", "--events", "w.wf"])
        .current_dir(dir.path())
        .env("WEFT_LLM_DISABLED", "1")
        .env_remove("WEFT_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // --events: JSON lines on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kinds: Vec<String> = stderr
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["worker_started", "worker_progress", "worker_completed"]
    );
    let events = std::fs::read_to_string(dir.path().join("st/events.jsonl")).unwrap();
    assert_eq!(events.lines().count(), 3);

    let workers = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("workers")
            .args(["--state-dir", "st"])
            .args(args)
            .current_dir(dir.path())
            .env_remove("WEFT_STATE_DIR")
            .output()
            .unwrap()
    };
    let list = workers(&["list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    // A header, then ID STATUS NAME KEY UPDATED TASK.
    assert!(text.starts_with("ID "), "{text}");
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..4],
        [id.as_str(), "completed", "lister", "k-list"],
        "{text}"
    );
    assert!(text.trim_end().ends_with("List me"), "{text}");
    let show = workers(&["show", &id]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["_type"], "weft.worker");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["result"]["summary"], "hi");

    std::fs::write(
        dir.path().join("st/workers/w_bad.json"),
        "{\"_type\": \"weft.worker\", \"version\": 3}",
    )
    .unwrap();
    let bad = workers(&["show", "w_bad"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("w_bad.json: unknown version 3"), "{err}");
    let list = workers(&["list"]);
    assert_eq!(list.status.code(), Some(1));
}
