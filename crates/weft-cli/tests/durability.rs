//! Regression tests of issue 12 (durability) and issue 11 item 6 (key file
//! names): each reproduces a case where a re-run repeated work, lost what a
//! script had observed, or broke on stored state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `weft run FILE ARGS` in `dir` with the state directory `dir/state`.
fn weft(dir: &Path, file: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.arg("run")
        .arg(file)
        .args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env_remove("WEFT_PERSIST");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let p = entry.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

const SECRET: &str = "sk-weft-durable-0123456789";

/// 12.5 and 11.6: a keyed worker whose task and key hold an API key
/// matches again on the next run (no "used for a different task", no model
/// call), and no file name under the state directory holds the secret.
#[test]
fn secret_in_task_and_key_still_resumes_and_never_names_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"llm_mock({text: "done"})
let k = env("DUR_TEST_API_KEY")
let h = spawn_worker({task: "call the API with ${k}", key: "job-${k}", wait: true})
let r2 = workflow_execute("use ${k}", workflow_graph({name: "wf", entry: "a",
  nodes: {a: {kind: "code", run: { ctx -> "ran" }}}, edges: []}), {key: "run-${k}"})
println(h.status, h.result.summary, r2.status, len(llm_mock_calls()))
"#,
    )
    .unwrap();
    let envs = [("DUR_TEST_API_KEY", SECRET)];
    let first = weft(dir.path(), "s.wf", &[], &envs);
    let (out, err) = text(&first);
    assert!(first.status.success(), "{out}{err}");
    assert_eq!(out, "completed done completed 1\n");
    let second = weft(dir.path(), "s.wf", &[], &envs);
    let (out, err) = text(&second);
    assert!(second.status.success(), "{out}{err}");
    assert_eq!(out, "completed done completed 0\n", "{err}");
    let mut files = Vec::new();
    all_files(&dir.path().join("state"), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        let name = f.strip_prefix(dir.path()).unwrap().to_string_lossy();
        assert!(
            !name.contains("sk-weft"),
            "a file name holds the key: {name}"
        );
        let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            !name.contains(&hex),
            "a file name holds the key in hex: {name}"
        );
        let content = std::fs::read_to_string(f).unwrap();
        assert!(!content.contains(SECRET), "{name} holds the key");
    }
}

/// Key index files of the older format (the key as the file name) are
/// still found, and moved to the hashed name.
#[test]
fn old_format_key_files_are_found_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"llm_mock({text: "done"})
let h = spawn_worker({task: "t", key: "plain-key", wait: true})
println(h.status, len(llm_mock_calls()))
"#,
    )
    .unwrap();
    let first = weft(dir.path(), "s.wf", &[], &[]);
    assert_eq!(text(&first).0, "completed 1\n", "{:?}", text(&first));
    // Turn the state into what an older build wrote.
    let keys = dir.path().join("state/keys");
    let entries: Vec<PathBuf> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let hashed = entries[0].clone();
    std::fs::rename(&hashed, keys.join("plain-key.json")).unwrap();
    let second = weft(dir.path(), "s.wf", &[], &[]);
    assert_eq!(text(&second).0, "completed 0\n", "{:?}", text(&second));
    assert!(hashed.exists(), "re-indexed under the hashed name");
    assert!(!keys.join("plain-key.json").exists(), "old file removed");
}

/// 12.6: a state directory that cannot be written is an error naming it
/// (it used to exit 0 having persisted nothing).
#[test]
fn unwritable_state_dir_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "").unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        "llm_mock({text: \"x\"})\nlet h = spawn_worker({task: \"t\", key: \"k\", wait: true})\nprintln(h.status)\n",
    )
    .unwrap();
    for bad in ["afile", "afile/sub"] {
        let o = weft(dir.path(), "s.wf", &[], &[("WEFT_STATE_DIR", bad)]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}{err}");
        assert!(
            err.contains("error[io_error]: spawn_worker: the state directory"),
            "{err}"
        );
        assert!(err.contains(&format!("{bad}' cannot be written")), "{err}");
    }
    let wf = "let g = workflow_graph({name: \"w\", entry: \"a\", nodes: {a: {kind: \"code\", run: { c -> 1 }}}, edges: []})\nprintln(workflow_execute(\"t\", g).status)\n";
    std::fs::write(dir.path().join("w.wf"), wf).unwrap();
    let o = weft(dir.path(), "w.wf", &[], &[("WEFT_STATE_DIR", "afile")]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("workflow_execute: the state directory"),
        "{err}"
    );
    // Without durable state nothing is written, so nothing fails.
    let o = weft(
        dir.path(),
        "s.wf",
        &[],
        &[("WEFT_STATE_DIR", "afile"), ("WEFT_PERSIST", "0")],
    );
    assert_eq!(text(&o).0, "completed\n");
}

/// 12.6: a keyed snapshot with a corrupt `status` or `result` is a
/// `value_error` naming the file (it used to re-run the worker or return
/// the garbage); `weft workers list` / `weft runs list` report bad files
/// and list the rest.
#[test]
fn corrupt_snapshots_are_value_errors_and_lists_go_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"llm_mock({text: "x"})
let h = spawn_worker({task: "t", key: "k1", wait: true})
let g = workflow_graph({name: "w", entry: "a", nodes: {a: {kind: "code", run: { c -> 1 }}}, edges: []})
println(h.status, workflow_execute("t", g, {key: "r1"}).status)
"#,
    )
    .unwrap();
    let o = weft(dir.path(), "s.wf", &[], &[]);
    assert_eq!(text(&o).0, "completed completed\n", "{:?}", text(&o));
    let workers = dir.path().join("state/workers");
    let snap_path = std::fs::read_dir(&workers)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let good = std::fs::read_to_string(&snap_path).unwrap();
    for (field, bad) in [("status", "\"bogus\""), ("result", "42")] {
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        v[field] = serde_json::from_str(bad).unwrap();
        std::fs::write(&snap_path, v.to_string()).unwrap();
        let o = weft(dir.path(), "s.wf", &[], &[]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}{err}");
        assert!(err.contains("error[value_error]"), "{err}");
        assert!(err.contains(&snap_path.display().to_string()), "{err}");
        assert!(err.contains(&format!("field '{field}' is {bad}")), "{err}");
    }
    std::fs::write(&snap_path, &good).unwrap();
    // A second, corrupt snapshot and run record beside the good ones.
    std::fs::write(
        workers.join("w_bad.json"),
        r#"{"_type":"weft.worker","version":1,"status":5}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("state/runs/r_bad.json"), "{not json").unwrap();
    for (cmd, good_status) in [("workers", "completed"), ("runs", "completed")] {
        let o = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args([cmd, "list"])
            .current_dir(dir.path())
            .env("WEFT_STATE_DIR", dir.path().join("state"))
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {out}{err}");
        assert_eq!(out.lines().count(), 2, "{cmd}: a header and one row: {out}");
        assert!(out.contains(good_status), "{cmd}: {out}");
        assert!(err.contains("_bad.json"), "{cmd}: {err}");
    }
}

/// Starts `weft run FILE` in `dir` and SIGKILLs it once `ready` holds.
fn kill_when(dir: &Path, file: &str, ready: impl Fn() -> bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(file)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env_remove("WEFT_PERSIST")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "never got ready");
        assert!(child.try_wait().unwrap().is_none(), "weft exited early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// 12.2: a non-idempotent tool in flight at the crash — in the worker's
/// first turn, where there used to be no checkpoint at all — is not run
/// again, and the model receives the `interrupted` result.
#[test]
fn tool_in_flight_at_a_crash_is_reported_interrupted_not_rerun() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"var tools = tool_registry()
tools = tool_define(tools, "charge", "Charge the card", {
  parameters: {amount: {type: "integer"}},
  handler: { args -> append_file("charges.txt", "charged\n"); if exists("slow") { sleep(10000) }; "charged ok" },
})
llm_mock({match: "Charge the card", tool_calls: [{name: "charge", arguments: {amount: 5}}]})
llm_mock({match: "*interrupted*", text: "saw interrupted"})
llm_mock({match: "*charged ok*", text: "saw success"})
let h = spawn_worker({task: "Charge the card", key: "pay-1", tools: tools, wait: true})
println(h.status, h.result.summary, len(llm_mock_calls()))
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("slow"), "").unwrap();
    let charges = dir.path().join("charges.txt");
    kill_when(dir.path(), "s.wf", || charges.exists());
    // The killed process left its worker `running` on disk; no live process
    // holds the state directory, so `weft workers list` shows it cut short.
    let snapshots = json_files(&dir.path().join("state/workers"));
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0]["status"], "running");
    let list = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["workers", "list", "--json"])
        .current_dir(dir.path())
        .env("WEFT_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(listed[0]["status"], "interrupted", "{listed}");
    std::fs::remove_file(dir.path().join("slow")).unwrap();
    let o = weft(dir.path(), "s.wf", &[], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    // One model call in the re-run: the first turn's was not repeated.
    assert_eq!(out, "completed saw interrupted 1\n", "{err}");
    assert_eq!(std::fs::read_to_string(&charges).unwrap(), "charged\n");
}

/// The parsed JSON files of `dir`.
fn json_files(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        // Not the leftovers of a write the kill interrupted.
        if e.file_name().to_string_lossy().contains(".tmp-") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(e.path()) {
            if let Ok(v) = serde_json::from_str(&text) {
                out.push(v);
            }
        }
    }
    out
}

/// 12.1: a subagent node killed during its second model call, after its
/// write tool ran, resumes its own worker when the run continues: the
/// write happened once, no orphaned worker stays `running`, and the
/// worker's snapshot names its run and key.
#[test]
fn killed_subagent_node_resumes_its_own_worker() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"var tools = tool_registry()
tools = tool_define(tools, "write", "Write the file", {
  parameters: {text: {type: "string"}},
  handler: { args -> append_file("written.txt", args.text + "\n"); "wrote it" },
})
let delay = if exists("slow") { 10000 } else { 0 }
llm_mock({match: "Edit the code", tool_calls: [{name: "write", arguments: {text: "fix"}}]})
llm_mock({match: "*wrote it*", text: "edited", delay_ms: delay})
let g = workflow_graph({name: "edit", entry: "edit", policy: {tools: ["write"]},
  nodes: {edit: {kind: "subagent", task: "Edit the code", tools: tools, allowed_tools: ["write"]}},
  edges: []})
let r = workflow_execute("fix it", g, {key: "edit-run"})
println(r.status, r.outputs.edit.summary, len(llm_mock_calls()))
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("slow"), "").unwrap();
    let workers = dir.path().join("state/workers");
    kill_when(dir.path(), "s.wf", || {
        json_files(&workers).iter().any(|v| {
            v["status"] == "running"
                && v["checkpoint"]["tool_calls"]
                    .as_array()
                    .is_some_and(|c| c.len() == 1)
        })
    });
    std::fs::remove_file(dir.path().join("slow")).unwrap();
    let o = weft(dir.path(), "s.wf", &[], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    // Only the second model call was made again.
    assert_eq!(out, "completed edited 1\n", "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("written.txt")).unwrap(),
        "fix\n"
    );
    let snaps = json_files(&workers);
    assert_eq!(snaps.len(), 1, "one worker for the node: {snaps:?}");
    assert_eq!(snaps[0]["status"], "completed");
    assert!(snaps[0]["run_id"]
        .as_str()
        .is_some_and(|r| r.starts_with("r_")));
    assert!(snaps[0]["key"]
        .as_str()
        .is_some_and(|k| k.ends_with("/edit#1@1")));
}

/// 12.3: a loop bounded by durable workflow state makes its bound of
/// repairs across a kill and a re-run (a `var` counter used to reset and
/// the loop made twice as many).
#[test]
fn workflow_loop_bound_survives_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"let g = workflow_graph({name: "repair", entry: "check",
  state: {repairs: "add"},
  nodes: {
    check: {kind: "code", run: { ctx -> if exists("slow") && ctx.state.repairs == 1 { sleep(10000) }; "failing" }},
    bound: {kind: "condition", when: { ctx -> ctx.state.repairs < 2 }},
    repair: {kind: "code", run: { ctx -> append_file("repairs.txt", "repair ${ctx.visits.repair}\n"); "ok" },
             update: { out, ctx -> {repairs: 1} }},
    done: {kind: "code", run: { ctx -> "done" }},
  },
  edges: [{from: "check", to: "bound"}, {from: "bound", to: "repair", branch: "true"},
          {from: "repair", to: "check"}, {from: "bound", to: "done", branch: "false"}]})
let r = workflow_execute("t", g, {key: "loop-1", max_steps: 50})
println(r.status, r.state.repairs, r.visits.repair)
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("slow"), "").unwrap();
    let repairs = dir.path().join("repairs.txt");
    let runs = dir.path().join("state/runs");
    kill_when(dir.path(), "s.wf", || {
        repairs.exists()
            && json_files(&runs)
                .iter()
                .any(|v| v["state"]["repairs"] == 1 && v["pending"] == serde_json::json!(["check"]))
    });
    std::fs::remove_file(dir.path().join("slow")).unwrap();
    let o = weft(dir.path(), "s.wf", &[], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(out, "completed 2 2\n", "{err}");
    assert_eq!(
        std::fs::read_to_string(&repairs).unwrap(),
        "repair 1\nrepair 2\n"
    );
}

/// A keyed persistent worker given more input replays its recorded cycles
/// on a re-run: each `send_input` with the recorded text returns that
/// cycle's result (transcript as it was then) without a model call, also
/// when the input holds a secret the snapshot stores redacted; a new input
/// after the recorded ones runs; a different input is an error.
#[test]
fn keyed_persistent_worker_replays_its_cycles_on_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.wf"),
        r#"for t in ["one", "two", "three", "four"] { llm_mock({text: t}) }
let k = env("DUR_TEST_API_KEY")
let h = spawn_worker({task: "open", key: "sess", carry: {persistent: true}, wait: true})
println(h.status, h.result.summary, len(h.result.transcript.messages))
for input in split(env("INPUTS"), ",") {
  let r = wait_worker(send_input(h, "${input} ${k}"))
  println(r.status, r.result.summary, len(r.result.transcript.messages))
}
println(len(llm_mock_calls()))
"#,
    )
    .unwrap();
    let run = |inputs: &str| {
        let o = weft(
            dir.path(),
            "p.wf",
            &[],
            &[("DUR_TEST_API_KEY", SECRET), ("INPUTS", inputs)],
        );
        let (out, err) = text(&o);
        (o.status.success(), out, err)
    };
    let (ok, out, err) = run("go,more");
    assert!(ok, "{out}{err}");
    let cycles = "awaiting one 2\nawaiting two 4\nawaiting three 6\n";
    assert_eq!(out, format!("{cycles}3\n"), "{err}");
    let (ok, out, err) = run("go,more");
    assert!(ok, "{out}{err}");
    assert_eq!(
        out,
        format!("{cycles}0\n"),
        "replayed, no model call: {err}"
    );
    let (ok, out, err) = run("go,more,again");
    assert!(ok, "{out}{err}");
    assert_eq!(out, format!("{cycles}awaiting one 8\n1\n"), "{err}");
    let (ok, out, err) = run("go,other");
    assert!(!ok, "{out}");
    assert!(
        err.contains("recorded a different input for cycle 3") && err.contains("--fresh"),
        "{err}"
    );
    assert!(out.starts_with("awaiting one 2\nawaiting two 4\n"), "{out}");
}

/// Issue 13: a program stopped by `--time-limit-ms` with thousands of
/// queued workers ends promptly: workers cancelled before they ever
/// started, unkeyed, are not written at the end (the program used to
/// spend seconds past its limit writing their `cancelled` snapshots);
/// keyed ones still are.
#[test]
fn time_limit_with_many_queued_workers_does_not_write_the_never_started() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("q.wf"),
        r#"llm_mock({match: "*", text: "ok"})
worker_limits({max_concurrent: 1})
let first = spawn_worker({task: "keyed first", key: "k1"})
let second = spawn_worker({task: "keyed queued", key: "k2"})
let hs = map(range(1000000), { i -> spawn_worker({task: "t ${i}"}) })
wait_worker(hs)
"#,
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let o = weft(dir.path(), "q.wf", &["--time-limit-ms", "1000"], &[]);
    let took = t0.elapsed();
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(err.contains("time limit exceeded"), "{err}");
    let files = json_files(&dir.path().join("state/workers"));
    let cancelled: Vec<&str> = files
        .iter()
        .filter(|f| f["status"] == "cancelled")
        .filter_map(|f| f["task"].as_str())
        .collect();
    assert!(cancelled.contains(&"keyed queued"), "{cancelled:?}");
    assert!(
        cancelled.len() <= 10,
        "{} snapshots written as cancelled: {:?}",
        cancelled.len(),
        &cancelled[..cancelled.len().min(5)]
    );
    assert!(
        took < std::time::Duration::from_secs(6),
        "took {took:?}: {err}"
    );
}
