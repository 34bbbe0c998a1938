//! Approval of calls (issue 17 §1): a model's call of a tool with
//! `requires_approval: true` (or listed as `tool:NAME` in a policy's
//! `approve`) and a builtin listed in `approve` ask the host's callback
//! first. Approved calls run once; a rejected tool call reaches the model
//! as an `approval_rejected` tool result (the handler never runs), a
//! rejected builtin call fails with category `approval_rejected`; a child
//! policy cannot drop its parent's `approve` entries.

use std::cell::RefCell;
use std::rc::Rc;

type Seen = Rc<RefCell<Vec<weft::ApprovalRequest>>>;

/// An engine whose callback records each request and answers `approved`.
fn engine(approved: bool, policy: Option<&str>) -> (weft::Engine, Seen) {
    let seen: Seen = Rc::default();
    let log = seen.clone();
    let mut b =
        weft::Engine::builder()
            .persist(false)
            .on_approval(move |req: weft::ApprovalRequest| {
                log.borrow_mut().push(req);
                async move {
                    Some(weft::Approval {
                        approved,
                        choice: None,
                        comment: Some("checked".into()),
                        by: "host".into(),
                    })
                }
            });
    if let Some(p) = policy {
        b = b.policy(weft::Policy::from_json(p).unwrap());
    }
    (b.build().unwrap(), seen)
}

/// A `deploy` tool counting its runs in `runs`, and a model that calls it
/// once and then answers "done".
const DEPLOY: &str = r#"
var runs = 0
fn deploy(args) {
  runs = runs + 1
  "deployed ${args.env}"
}
var tools = tool_registry()
tools = tool_define(tools, "deploy", "Deploy", {
  parameters: {env: {type: "string"}},
  handler: deploy,
  requires_approval: REQUIRES,
})
llm_mock({tool_calls: [{name: "deploy", arguments: {env: "prod"}}]})
llm_mock({text: "done"})
"#;

fn deploy_program(requires: bool, tail: &str) -> String {
    DEPLOY.replace("REQUIRES", &requires.to_string()) + tail
}

#[test]
fn an_approved_tool_call_runs_once() {
    let (mut e, seen) = engine(true, None);
    let src = deploy_program(
        true,
        r#"let r = agent_loop("Deploy", {tools: tools})
           "${r.status} ${runs} ${r.tool_calls[0].ok} ${r.tool_calls[0].result}""#,
    );
    let v = weft::block_on(e.eval(&src)).unwrap();
    assert_eq!(v.to_string(), "done 1 true deployed prod");
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].request.question,
        r#"allow tool 'deploy' with {"env":"prod"}?"#
    );
    assert_eq!(
        seen[0].request.data,
        serde_json::json!({"tool": "deploy", "arguments": {"env": "prod"}})
    );
}

#[test]
fn a_rejected_tool_call_is_a_denial_the_model_sees_and_never_runs() {
    let (mut e, seen) = engine(false, None);
    let src = deploy_program(
        true,
        r#"let r = agent_loop("Deploy", {tools: tools})
           let calls = llm_mock_calls()
           let last = calls[1].messages[len(calls[1].messages) - 1]
           "${r.status}|${runs}|${r.tool_calls[0].error.category}|${last.role}|${last.content}""#,
    );
    let v = weft::block_on(e.eval(&src)).unwrap();
    assert_eq!(
        v.to_string(),
        r#"done|0|approval_rejected|tool|{"error":"approval_rejected","tool":"deploy","reason":"the call was rejected by host: checked"}"#
    );
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn a_tool_without_requires_approval_asks_only_when_a_policy_lists_it() {
    let (mut e, seen) = engine(true, None);
    let src = deploy_program(false, r#"agent_loop("Deploy", {tools: tools}).status"#);
    assert_eq!(weft::block_on(e.eval(&src)).unwrap().to_string(), "done");
    assert!(seen.borrow().is_empty());

    let (mut e, seen) = engine(false, None);
    let src = deploy_program(
        false,
        r#"let r = agent_loop("Deploy", {tools: tools, policy: {approve: ["tool:deploy"]}})
           "${runs} ${r.tool_calls[0].error.category}""#,
    );
    assert_eq!(
        weft::block_on(e.eval(&src)).unwrap().to_string(),
        "0 approval_rejected"
    );
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn a_child_worker_policy_cannot_drop_the_parents_approve_entry() {
    // The root policy approves tool:deploy; the worker's policy names no
    // approvals, and its call still asks (and is rejected).
    let (mut e, seen) = engine(false, Some(r#"{"approve": ["tool:deploy"]}"#));
    let src = deploy_program(
        false,
        r#"let h = spawn_worker({task: "Deploy", tools: tools, policy: {approve: []}, wait: true})
           "${h.status} ${runs} ${h.result.tool_calls[0].error.category}""#,
    );
    assert_eq!(
        weft::block_on(e.eval(&src)).unwrap().to_string(),
        "completed 0 approval_rejected"
    );
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].worker_id.is_some());
}

#[test]
fn builtins_listed_in_approve_ask_when_script_code_calls_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let src = format!(
        r#"let e = try {{ write_file({path:?}, "hello"); "written" }} catch e {{ "${{e.category}}: ${{e.message}}" }}
           "${{e}} ${{exists({path:?})}} ${{len(list_dir({dir:?}))}}""#,
        path = file.display().to_string(),
        dir = dir.path().display().to_string(),
    );
    let policy = r#"{"approve": ["write_file"]}"#;

    let (mut e, seen) = engine(false, Some(policy));
    assert_eq!(
        weft::block_on(e.eval(&src)).unwrap().to_string(),
        "approval_rejected: write_file: the call was rejected by host: checked false 0"
    );
    {
        let seen = seen.borrow();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].request.data["builtin"],
            serde_json::json!("write_file")
        );
        assert_eq!(seen[0].request.data["args"][1], serde_json::json!("hello"));
    }

    let (mut e, seen) = engine(true, Some(policy));
    assert_eq!(
        weft::block_on(e.eval(&src)).unwrap().to_string(),
        "written true 1"
    );
    assert_eq!(seen.borrow().len(), 1);
    // Called as a value (here by map) it asks too.
    let (mut e, seen) = engine(true, Some(policy));
    let src = format!(
        r#"map([{path:?}], {{ p -> write_file(p, "x") }}).len()"#,
        path = file.display().to_string()
    );
    weft::block_on(e.eval(&src)).unwrap();
    assert_eq!(seen.borrow().len(), 1);
}

#[test]
fn the_agent_loops_own_approve_list_gates_the_builtins_its_handlers_call() {
    let (mut e, seen) = engine(false, None);
    let src = r#"
      var tools = tool_registry()
      tools = tool_define(tools, "run", "Run a command", {
        parameters: {},
        handler: { args -> try { shell("echo hi").stdout } catch e { e.category } },
      })
      llm_mock({tool_calls: [{name: "run", arguments: {}}]})
      llm_mock({text: "done"})
      let r = agent_loop("Go", {tools: tools, policy: {approve: ["shell"]}})
      let after = try { shell("echo after").stdout } catch e { e.category }
      "${r.tool_calls[0].result} ${trim(after)}"
    "#;
    assert_eq!(
        weft::block_on(e.eval(src)).unwrap().to_string(),
        "approval_rejected after"
    );
    assert_eq!(seen.borrow().len(), 1);
}
