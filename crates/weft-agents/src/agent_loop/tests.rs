//! Rust-level tests of the loop API: hooks (checkpoint points and
//! cancellation), resuming from a saved transcript, and the task's
//! effective capability policy.

use std::collections::BTreeSet;
use std::rc::Rc;

use serde_json::json;
use weft_vm::builtins::LocalBoxFuture;
use weft_vm::error::RtResult;
use weft_vm::policy::CapabilityPolicy;
use weft_vm::value::{dict_from, DictMap, Value};
use weft_vm::vm::Vm;
use weft_vm::{Runtime, RuntimeOptions};

use super::*;
use crate::llm::mock::MockResponse;
use crate::llm::{Message, Role, ToolCall};
use crate::state::AgentState;
use crate::tools::{Tool, ToolOutcome, ToolRegistry};
use crate::transcript::Transcript;

fn vm() -> Vm {
    let rt = Runtime::new(RuntimeOptions {
        extra_builtins: crate::builtins(),
        ..RuntimeOptions::default()
    });
    Vm::new(rt.program().clone())
}

/// A builtin of the program as a handler (`keys(args)`).
fn builtin(vm: &Vm, name: &str) -> Value {
    let def = vm
        .program
        .builtins
        .iter()
        .find(|d| d.name == name)
        .expect("builtin");
    Value::Builtin(def.clone())
}

fn tool(vm: &Vm, name: &str, idempotent: bool) -> Tool {
    let opts = match dict_from([
        ("handler", builtin(vm, "keys")),
        ("idempotent", Value::Bool(idempotent)),
    ]) {
        Value::Dict(ref d) => (**d).clone(),
        _ => DictMap::default(),
    };
    Tool::new(name, "test tool", &opts, "test").unwrap_or_else(|e| panic!("{}", e.message()))
}

fn mock(vm: &Vm, text: &str, calls: &[(&str, &str)]) {
    let state = vm.program.ext::<AgentState>();
    state.llm.mock.borrow_mut().push(MockResponse {
        text: Some(text.to_string()),
        tool_calls: calls
            .iter()
            .map(|(id, name)| ToolCall {
                id: id.to_string(),
                name: name.to_string(),
                arguments: json!({"k": 1}),
            })
            .collect(),
        ..MockResponse::default()
    });
}

fn config(vm: &Vm, names: &[&str]) -> AgentConfig {
    let mut c = AgentConfig::new("task");
    c.llm.provider = Some("mock".into());
    c.tools = ToolRegistry {
        tools: names.iter().map(|n| tool(vm, n, *n == "idem")).collect(),
    };
    c
}

#[derive(Default)]
struct Recorder {
    started: Vec<String>,
    finished: usize,
    turns: Vec<(u64, usize, usize)>,
    cancel_after_turns: Option<usize>,
}

impl AgentHooks for Recorder {
    fn cancelled(&self) -> bool {
        self.cancel_after_turns
            .is_some_and(|n| self.turns.len() >= n)
    }

    fn tool_started<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        call: &'a ToolCall,
        _progress: &'a AgentProgress,
        _transcript: &'a Transcript,
    ) -> LocalBoxFuture<'a, RtResult<()>> {
        self.started.push(call.id.clone());
        Box::pin(async { Ok(()) })
    }

    fn tool_finished<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        progress: &'a AgentProgress,
        transcript: &'a Transcript,
    ) -> LocalBoxFuture<'a, ()> {
        // The finished call's result is already in the transcript.
        let last = progress.tool_calls.last().expect("a record");
        assert_eq!(
            transcript
                .messages
                .last()
                .and_then(|m| m.tool_call_id.clone()),
            Some(last.id.clone())
        );
        self.finished += 1;
        Box::pin(async {})
    }

    fn after_turn<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        turn: TurnView<'a>,
    ) -> LocalBoxFuture<'a, RtResult<()>> {
        self.turns.push((
            turn.iteration,
            turn.tool_calls.len(),
            turn.transcript.messages.len(),
        ));
        Box::pin(async { Ok(()) })
    }
}

fn run(vm: &mut Vm, c: AgentConfig, hooks: &mut dyn AgentHooks) -> AgentRun {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run_agent_loop(vm, c, hooks))
        .unwrap_or_else(|e| panic!("{}", e.message()))
}

#[test]
fn hooks_see_every_tool_call_and_turn() {
    let mut vm = vm();
    mock(&vm, "", &[("a", "read"), ("b", "read")]);
    mock(&vm, "", &[("c", "read")]);
    mock(&vm, "final", &[]);
    let mut rec = Recorder::default();
    let c = config(&vm, &["read"]);
    let out = run(&mut vm, c, &mut rec);
    assert_eq!(out.status, AgentStatus::Done);
    assert_eq!(rec.started, ["a", "b", "c"]);
    assert_eq!(rec.finished, 3);
    // (iteration, calls this turn, messages so far)
    assert_eq!(rec.turns, [(1, 2, 4), (2, 1, 6), (3, 0, 7)]);
    assert_eq!(out.progress.iterations, 3);
    assert_eq!(out.text, "final");
}

#[test]
fn hooks_can_cancel_between_turns() {
    let mut vm = vm();
    mock(&vm, "", &[("a", "read")]);
    mock(&vm, "never", &[]);
    let mut rec = Recorder {
        cancel_after_turns: Some(1),
        ..Recorder::default()
    };
    let c = config(&vm, &["read"]);
    let out = run(&mut vm, c, &mut rec);
    assert_eq!(out.status, AgentStatus::Cancelled);
    assert_eq!(out.progress.iterations, 1);
    assert_eq!(out.error.map(|e| e.category), Some("cancelled".to_string()));
}

#[test]
fn resumes_from_a_saved_transcript() {
    let mut vm = vm();
    // Saved state: the model asked for four calls; `a` finished (recorded
    // but its result not yet in the transcript), `b` (idempotent) and `c`
    // (not: its durable "started" record is in `in_flight`) were running,
    // `d` had not started.
    let mut t = Transcript::new();
    t.messages.push(Message::user("task"));
    let mut a = Message::assistant("");
    for (id, name) in [
        ("a", "plain"),
        ("b", "idem"),
        ("c", "plain"),
        ("d", "plain"),
    ] {
        a.tool_calls.push(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: json!({"k": 1}),
        });
    }
    t.messages.push(a);
    let progress = AgentProgress {
        iterations: 1,
        input_tokens: 7,
        output_tokens: 3,
        tool_calls: vec![ToolCallRecord {
            id: "a".into(),
            name: "plain".into(),
            arguments: json!({"k": 1}),
            outcome: ToolOutcome::Ok(Value::str("saved")),
            content: "saved a".into(),
            duration_ms: 1,
            iteration: 1,
        }],
        in_flight: vec!["c".into()],
        ..AgentProgress::default()
    };
    let mut c = config(&vm, &["plain", "idem"]);
    c.task = None;
    c.transcript = t;
    c.resume = Some(progress);
    mock(&vm, "final", &[]);
    let mut rec = Recorder::default();
    let out = run(&mut vm, c, &mut rec);
    assert_eq!(out.status, AgentStatus::Done);
    assert_eq!(
        rec.started,
        ["b", "d"],
        "the idempotent open call runs again, the one that never started runs"
    );
    assert_eq!(out.progress.iterations, 2);
    assert!(out.progress.input_tokens > 7);
    let tool_msgs: Vec<(&str, &str)> = out
        .transcript
        .messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| (m.tool_call_id.as_deref().unwrap_or(""), m.content.as_str()))
        .collect();
    assert_eq!(tool_msgs[0], ("a", "saved a"));
    assert_eq!(tool_msgs[1], ("b", "[\"k\"]"));
    assert_eq!(tool_msgs[2].0, "c");
    assert!(
        tool_msgs[2].1.contains("\"error\":\"interrupted\""),
        "{}",
        tool_msgs[2].1
    );
    assert_eq!(tool_msgs[3], ("d", "[\"k\"]"));
    // No new user message was added.
    let users = out
        .transcript
        .messages
        .iter()
        .filter(|m| m.role == Role::User)
        .count();
    assert_eq!(users, 1);
    let names: Vec<&str> = out
        .progress
        .tool_calls
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
}

#[test]
fn the_tasks_effective_policy_is_consulted() {
    let mut vm = vm();
    let mut p = CapabilityPolicy::allow_all();
    p.tools = Some(BTreeSet::from(["read".to_string()]));
    vm.ctx.policy = Rc::new(p);
    mock(&vm, "", &[("a", "read"), ("b", "write"), ("c", "invented")]);
    mock(&vm, "final", &[]);
    let c = config(&vm, &["read", "write"]);
    let out = run(&mut vm, c, &mut NoHooks);
    assert_eq!(out.progress.rejected, ["write", "invented"]);
    let state = vm.program.ext::<AgentState>();
    let offered = state.llm.mock.borrow().calls()[0].tools.clone();
    assert_eq!(offered, ["read"]);
    let err = out.progress.tool_calls[1]
        .error()
        .expect("denied")
        .message
        .clone();
    assert!(
        err.contains("not allowed by the capability policy"),
        "{err}"
    );
}
