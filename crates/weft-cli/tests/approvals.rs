//! Approval gates across processes (issue 17 §1): a program parks on
//! `request_approval` (no terminal, no host callback), exits with
//! `awaiting_approval`; `weft approvals list --json` shows the request;
//! `weft approve` answers it; running the program again continues after
//! the gate without repeating the keyed worker before it (zero model
//! calls) and without asking again.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PROGRAM: &str = r#"
llm_mock({text: "drafted"})
let h = spawn_worker({task: "Draft the release notes", key: "draft", wait: true})
println("draft", h.status, h.result.summary)
let a = request_approval("publish the release?", {data: {version: "1.2"}})
println("answer", a.approved, a.comment, a.by)
let env = request_approval("where to?", {choices: ["staging", "prod"]})
println("env", env.choice)
println("model calls", len(llm_mock_calls()))
"#;

fn weft(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env("USER", "tester")
        .env_remove("WEFT_PERSIST")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pending(dir: &Path) -> Vec<serde_json::Value> {
    let out = weft(dir, &["approvals", "list", "--json", "--pending"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}

#[test]
fn parked_request_is_approved_and_the_program_continues_after_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("release.wf"), PROGRAM).unwrap();

    let first = weft(d, &["run", "release.wf"]);
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(text(&first.stdout), "draft completed drafted\n");
    let err = text(&first.stderr);
    assert!(err.contains("error[awaiting_approval]"), "{err}");
    assert!(err.contains("publish the release?"), "{err}");

    let requests = pending(d);
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    let id = req["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("a_"));
    assert_eq!(req["question"], "publish the release?");
    assert_eq!(req["data"]["version"], "1.2");
    assert!(req["requested_at"].is_string());
    assert!(req.get("worker_id").is_some());
    assert!(err.contains(&format!("weft approve {id}")), "{err}");

    // Not answered yet: running again parks at the same gate, same id.
    let again = weft(d, &["run", "release.wf"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(pending(d).len(), 1);

    let ok = weft(d, &["approve", &id, "--comment", "ship it"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), format!("{id} approved\n"));
    let twice = weft(d, &["approve", &id, "--reject"]);
    assert_eq!(twice.status.code(), Some(1));
    assert!(text(&twice.stderr).contains("already approved"));

    // Past the first gate, parked at the second (choices).
    let second = weft(d, &["run", "release.wf"]);
    assert_eq!(second.status.code(), Some(1));
    assert_eq!(
        text(&second.stdout),
        "draft completed drafted\nanswer true ship it cli:tester\n"
    );
    let env = pending(d)[0]["id"].as_str().unwrap().to_string();
    let bad = weft(d, &["approve", &env, "--choice", "qa"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("choice 'qa' is not one of staging, prod"));
    let no_choice = weft(d, &["approve", &env]);
    assert_eq!(no_choice.status.code(), Some(1));
    assert!(text(&no_choice.stderr).contains("approving needs a choice"));
    assert_eq!(
        weft(d, &["approve", &env, "--choice", "prod"])
            .status
            .code(),
        Some(0)
    );

    // The keyed worker is not run again: no model call in the last run.
    let last = weft(d, &["run", "release.wf"]);
    assert_eq!(last.status.code(), Some(0), "{}", text(&last.stderr));
    assert_eq!(
        text(&last.stdout),
        "draft completed drafted\nanswer true ship it cli:tester\nenv prod\nmodel calls 0\n"
    );
    assert!(pending(d).is_empty());

    let events = std::fs::read_to_string(d.join("state/events.jsonl")).unwrap();
    assert!(events.contains("\"approval_requested\""));
    assert!(events.contains("\"approval_resolved\""));
}

#[test]
fn rejection_is_an_answer_and_unknown_ids_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("gate.wf"),
        "let a = request_approval(\"drop the table?\")\nprintln(a.approved, a.comment)\n",
    )
    .unwrap();
    assert_eq!(weft(d, &["run", "gate.wf"]).status.code(), Some(1));
    let id = pending(d)[0]["id"].as_str().unwrap().to_string();
    let out = weft(d, &["approve", &id, "--reject", "--comment", "no"]);
    assert_eq!(text(&out.stdout), format!("{id} rejected\n"));
    let run = weft(d, &["run", "gate.wf"]);
    assert_eq!(text(&run.stdout), "false no\n");
    let list = weft(d, &["approvals", "list"]);
    assert!(text(&list.stdout).contains(&format!("{id}  rejected")));
    let missing = weft(d, &["approve", "a_0000000000000000"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no approval request a_0000000000000000"));
}

/// A keyed worker whose model calls a tool with `requires_approval`.
const DEPLOYER: &str = r#"
fn deploy(args) {
  append_file("deploys.log", "deployed ${args.env}\n")
  "deployed ${args.env}"
}
var tools = tool_registry()
tools = tool_define(tools, "deploy", "Deploy", {
  parameters: {env: {type: "string"}},
  handler: deploy,
  requires_approval: true,
})
llm_mock({match: "Deploy it", tool_calls: [{name: "deploy", arguments: {env: "prod"}}]})
llm_mock({match: "deployed prod", text: "done"})
let h = spawn_worker({task: "Deploy it", key: "deployer", tools: tools, wait: true})
println(h.status, h.result.ok, h.result.error?.category)
println("model calls", len(llm_mock_calls()))
"#;

#[test]
fn a_parked_tool_call_of_a_keyed_worker_resumes_at_the_call_after_weft_approve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("deploy.wf"), DEPLOYER).unwrap();

    // The worker parks at the call: persisted as awaiting_approval, the
    // tool has not run.
    let first = weft(d, &["run", "deploy.wf"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "awaiting_approval false awaiting_approval\nmodel calls 1\n"
    );
    assert!(!d.join("deploys.log").exists());
    let list = weft(d, &["workers", "list"]);
    assert!(
        text(&list.stdout).contains("awaiting_approval"),
        "{}",
        text(&list.stdout)
    );
    let requests = pending(d);
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0]["question"],
        r#"allow tool 'deploy' with {"env":"prod"}?"#
    );
    let id = requests[0]["id"].as_str().unwrap().to_string();

    // Running again before an answer parks again (same request, no new
    // model call, still not run).
    let again = weft(d, &["run", "deploy.wf"]);
    assert_eq!(
        text(&again.stdout),
        "awaiting_approval false awaiting_approval\nmodel calls 0\n"
    );
    assert_eq!(pending(d).len(), 1);

    let ok = weft(d, &["approve", &id]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    // The re-run resumes at the call: it runs once, and only the model
    // call after it is made.
    let resumed = weft(d, &["run", "deploy.wf"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(text(&resumed.stdout), "completed true nil\nmodel calls 1\n");
    assert_eq!(
        std::fs::read_to_string(d.join("deploys.log")).unwrap(),
        "deployed prod\n"
    );
    let done = weft(d, &["run", "deploy.wf"]);
    assert_eq!(text(&done.stdout), "completed true nil\nmodel calls 0\n");
    assert_eq!(
        std::fs::read_to_string(d.join("deploys.log")).unwrap(),
        "deployed prod\n"
    );
}

#[test]
fn a_rejected_tool_call_reaches_the_resumed_model_as_a_denial() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let program = DEPLOYER.replace(
        r#"llm_mock({match: "deployed prod", text: "done"})"#,
        r#"llm_mock({match: "*approval_rejected*", text: "understood"})"#,
    );
    std::fs::write(d.join("deploy.wf"), program).unwrap();
    let first = weft(d, &["run", "deploy.wf"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let id = pending(d)[0]["id"].as_str().unwrap().to_string();
    let no = weft(
        d,
        &["approve", &id, "--reject", "--comment", "not on a Friday"],
    );
    assert_eq!(no.status.code(), Some(0), "{}", text(&no.stderr));
    let resumed = weft(d, &["run", "deploy.wf"]);
    assert_eq!(text(&resumed.stdout), "completed true nil\nmodel calls 1\n");
    assert!(!d.join("deploys.log").exists());
}

/// A keyed workflow: a model stage, an approval gate templated from its
/// output, then a branch per answer.
const RELEASE_FLOW: &str = r#"
llm_mock({match: "Draft*", text: "notes v1"})
let g = {
  name: "release",
  entry: "draft",
  nodes: {
    draft: {kind: "stage", prompt: "Draft notes for \${task}"},
    gate: {kind: "approval", question: "publish '\${input.draft}' for \${task}?"},
    publish: {kind: "code", run: { c -> "published" }},
    shelve: {kind: "code", run: { c -> "shelved" }},
  },
  edges: [
    {from: "draft", to: "gate"},
    {from: "gate", to: "publish", branch: "approved"},
    {from: "gate", to: "shelve", branch: "rejected"},
  ],
}
let run = try { workflow_execute("v1.2", g, {key: "rel"}) } catch e { println("stopped", e.category); nil }
if run != nil { println(run.status, run.outputs.publish, run.outputs.shelve, run.outputs.gate.comment) }
println("model calls", len(llm_mock_calls()))
"#;

#[test]
fn an_approval_node_parks_the_run_and_a_rerun_continues_after_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("release.wf"), RELEASE_FLOW).unwrap();

    let first = weft(d, &["run", "release.wf"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "stopped awaiting_approval\nmodel calls 1\n"
    );
    let runs = weft(d, &["runs", "list"]);
    let listed = text(&runs.stdout);
    assert!(listed.contains("awaiting_approval"), "{listed}");
    let show = text(&weft(d, &["runs", "show", "rel"]).stdout);
    assert!(
        show.contains("gate   approval  awaiting_approval"),
        "{show}"
    );
    let requests = pending(d);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["question"], "publish 'notes v1' for v1.2?");
    assert_eq!(requests[0]["data"]["node"], "gate");
    let id = requests[0]["id"].as_str().unwrap().to_string();

    let ok = weft(d, &["approve", &id, "--comment", "ship it"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    // The draft stage is not run again: no model call.
    let second = weft(d, &["run", "release.wf"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(
        text(&second.stdout),
        "completed published nil ship it\nmodel calls 0\n"
    );
    let graph = text(&weft(d, &["runs", "graph", "rel"]).stdout);
    assert!(graph.contains("gate<br/>approval"), "{graph}");
    assert!(
        graph.contains(r#"-->|"rejected"|"#) || graph.contains(r#"==>|"approved"|"#),
        "{graph}"
    );
}

#[test]
fn a_rejected_approval_node_takes_the_rejected_branch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("release.wf"), RELEASE_FLOW).unwrap();
    weft(d, &["run", "release.wf"]);
    let id = pending(d)[0]["id"].as_str().unwrap().to_string();
    let no = weft(d, &["approve", &id, "--reject", "--comment", "typos"]);
    assert_eq!(no.status.code(), Some(0), "{}", text(&no.stderr));
    let second = weft(d, &["run", "release.wf"]);
    assert_eq!(
        text(&second.stdout),
        "completed nil shelved typos\nmodel calls 0\n"
    );
}

#[test]
fn a_keyed_workflow_worker_parks_at_an_approval_node_and_resumes_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let program = RELEASE_FLOW
        .replace(
            r#"let run = try { workflow_execute("v1.2", g, {key: "rel"}) } catch e { println("stopped", e.category); nil }"#,
            r#"let h = spawn_worker({task: "v1.2", graph: g, key: "relw", wait: true})
               println(h.status, h.error?.category)
               let run = h.result"#,
        );
    std::fs::write(d.join("release.wf"), program).unwrap();
    let first = weft(d, &["run", "release.wf"]);
    assert_eq!(
        text(&first.stdout),
        "awaiting_approval awaiting_approval\nmodel calls 1\n",
        "{}",
        text(&first.stderr)
    );
    let workers = text(&weft(d, &["workers", "list", "--status", "awaiting_approval"]).stdout);
    assert!(workers.contains("relw"), "{workers}");
    let id = pending(d)[0]["id"].as_str().unwrap().to_string();
    weft(d, &["approve", &id]);
    let second = weft(d, &["run", "release.wf"]);
    assert_eq!(
        text(&second.stdout),
        "completed nil\ncompleted published nil nil\nmodel calls 0\n",
        "{}",
        text(&second.stderr)
    );
}

/// `request_approval` inside a tool handler of a keyed worker, and inside
/// a `code` node of a keyed workflow.
const INNER_GATES: &str = r#"
fn deploy(args) {
  let a = request_approval("really deploy ${args.env}?")
  append_file("deploys.log", "deployed ${args.env} ${a.approved}\n")
  "deployed ${args.env}"
}
var tools = tool_registry()
tools = tool_define(tools, "deploy", "Deploy", {parameters: {env: {type: "string"}}, handler: deploy})
llm_mock({match: "Deploy it", tool_calls: [{name: "deploy", arguments: {env: "prod"}}]})
llm_mock({match: "deployed prod", text: "done"})
let h = spawn_worker({task: "Deploy it", key: "d", tools: tools, wait: true})
println(h.status, h.error?.category)
println("model calls", len(llm_mock_calls()))
let flow = {entry: "c", nodes: {c: {kind: "code", run: { c -> request_approval("code gate?").approved }}}}
println(try { workflow_execute("t", flow, {key: "k"}).outputs.c } catch e { e.category })
"#;

#[test]
fn request_approval_inside_a_handler_or_a_code_node_parks_the_worker_or_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("inner.wf"), INNER_GATES).unwrap();
    let first = weft(d, &["run", "inner.wf"]);
    assert_eq!(
        text(&first.stdout),
        "awaiting_approval awaiting_approval\nmodel calls 1\nawaiting_approval\n",
        "{}",
        text(&first.stderr)
    );
    assert!(!d.join("deploys.log").exists());
    let runs = text(&weft(d, &["runs", "list", "--status", "awaiting_approval"]).stdout);
    assert!(runs.contains(" k "), "{runs}");
    for r in pending(d) {
        let ok = weft(d, &["approve", r["id"].as_str().unwrap()]);
        assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    }
    let second = weft(d, &["run", "inner.wf"]);
    assert_eq!(
        text(&second.stdout),
        "completed nil\nmodel calls 1\ntrue\n",
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("deploys.log")).unwrap(),
        "deployed prod true\n"
    );
}
