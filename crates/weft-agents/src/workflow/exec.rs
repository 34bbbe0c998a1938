//! Executing one node (workflows.md §2): each kind on its own `Vm` with
//! the node's context (policy narrowed to the node's, cwd/env/worktree of
//! its execution profile), giving a [`NodeResult`] — output, branch, error,
//! usage and the stage's recorded input. `retry` re-runs a failed node; in
//! replay mode model, tool and command nodes return their recorded result
//! after checking that their input is the recorded one.

use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use weft_vm::context::TaskContext;
use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::policy::CapabilityPolicy;
use weft_vm::value::{dict_from, dict_get, to_json, Value};
use weft_vm::vm::{Program, Vm};

use super::map::run_map;
use super::nodes::{Node, NodeKind, StageMode, Text};
use super::replay::Replay;
use super::template;
use crate::agent_loop::options::parse_loop_options;
use crate::agent_loop::{AgentStatus, NoHooks};
use crate::cache::agent::{run_loop_cached, LoopOutcome};
use crate::llm::{parse_llm_options, Message};
use crate::tools::ToolRegistry;
use crate::workers::registry::Usage;

/// What every node execution of one run shares.
pub struct RunEnv {
    pub program: Rc<Program>,
    /// The workflow's context: the caller's, with the workflow policy.
    pub ctx: TaskContext,
    pub run_id: String,
    pub task: String,
    pub replay: Option<Replay>,
    pub who: &'static str,
    /// The workflow's name (for events).
    pub workflow: String,
    /// Whether the run record is written to the state directory.
    pub persist: bool,
    /// The record as last saved (what a cancelled run leaves behind).
    pub last_saved: std::cell::RefCell<Option<serde_json::Value>>,
}

/// How one node execution ended.
#[derive(Clone)]
pub struct NodeResult {
    pub output: Value,
    pub branch: String,
    /// `{category, message}` or nil.
    pub error: Value,
    pub usage: Usage,
    pub worker_id: Option<String>,
    /// What the node was asked (its rendered prompt, task, command or
    /// items), compared on replay.
    pub input: serde_json::Value,
    pub attempts: u32,
    /// What the node's `update` returned (nil without one): folded into
    /// the run state by the scheduler.
    pub update: Value,
    /// The result came from the cache (no model call).
    pub cached: bool,
}

impl NodeResult {
    pub(super) fn ok(output: Value, branch: &str, input: serde_json::Value) -> NodeResult {
        NodeResult {
            output,
            branch: branch.to_string(),
            error: Value::Nil,
            usage: Usage::default(),
            worker_id: None,
            input,
            attempts: 1,
            update: Value::Nil,
            cached: false,
        }
    }

    pub fn failed(e: &RtError, input: serde_json::Value) -> NodeResult {
        NodeResult {
            output: Value::Nil,
            branch: "failed".to_string(),
            error: error_value(&e.category(), &e.message()),
            usage: Usage::default(),
            worker_id: None,
            input,
            attempts: 1,
            update: Value::Nil,
            cached: false,
        }
    }

    pub fn is_failed(&self) -> bool {
        self.branch == "failed"
    }
}

/// `{category, message}`.
pub fn error_value(category: &str, message: &str) -> Value {
    dict_from([
        ("category", Value::str(category)),
        ("message", Value::str(message)),
    ])
}

/// What the scheduler hands one node execution.
#[derive(Clone)]
pub struct NodeStart {
    /// Every finished node's latest output (a join: its predecessors').
    pub input: Value,
    /// `ctx.item` of a map's item.
    pub item: Option<Value>,
    /// `ctx.visits`: how many times each node has started in this run
    /// (interrupted starts not counted), this start included.
    pub visits: Value,
    /// `ctx.state`: the run state when the node started (`state.rs`).
    pub state: Value,
    /// Where this execution sits in the run (`NODE#VISIT`, a map item
    /// `NODE#VISIT/ITEM`): the same after a crash, so a subagent node's
    /// worker is found again by a key derived from it.
    pub slot: String,
}

impl NodeStart {
    /// A start outside any run record (a stage-mode worker's node).
    pub fn detached(slot: String) -> NodeStart {
        NodeStart {
            input: Value::dict(weft_vm::value::DictMap::default()),
            item: None,
            visits: Value::dict(weft_vm::value::DictMap::default()),
            state: Value::dict(weft_vm::value::DictMap::default()),
            slot,
        }
    }
}

/// The `ctx` a node sees.
pub fn ctx_value(env: &RunEnv, start: &NodeStart, attempt: u32) -> Value {
    let mut pairs = vec![
        ("task", Value::str(env.task.clone())),
        ("input", start.input.clone()),
        ("run_id", Value::str(env.run_id.clone())),
        ("attempt", Value::Int(attempt as i64)),
        ("visits", start.visits.clone()),
        ("state", start.state.clone()),
    ];
    if let Some(it) = &start.item {
        pairs.push(("item", it.clone()));
    }
    dict_from(pairs)
}

/// Runs `node` with its retries. `Err` only for what must stop the whole
/// run (a replay mismatch); node failures are `Ok` with branch `failed`.
pub async fn run_with_retry(
    env: Rc<RunEnv>,
    node: Rc<Node>,
    start: NodeStart,
) -> RtResult<NodeResult> {
    let mut usage = Usage::default();
    let max = node.retry.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let ctx = ctx_value(&env, &start, attempt);
        let slot = format!("{}@{attempt}", start.slot);
        let mut r = run_once(env.clone(), node.clone(), ctx.clone(), &start, slot).await?;
        usage.add(&r.usage);
        let replayed = env
            .replay
            .as_ref()
            .is_some_and(|rp| rp.applies_to(&node.kind));
        if !r.is_failed() || attempt >= max || replayed {
            r.usage = usage;
            r.attempts = r.attempts.max(attempt);
            if let Some(f) = &node.update {
                let out = if r.is_failed() {
                    Value::Nil
                } else {
                    r.output.clone()
                };
                let mut vm = Vm::new(env.program.clone());
                vm.ctx = env.ctx.clone();
                match vm.call_value(f, &[out, ctx]).await {
                    Ok(u) => r.update = u,
                    Err(e) => {
                        let msg = format!("node '{}': update: {}", node.id, e.message());
                        r.branch = "failed".into();
                        r.error = error_value(&e.category(), &msg);
                    }
                }
            }
            return Ok(r);
        }
        if node.retry.backoff_ms > 0 {
            tokio::time::sleep(Duration::from_millis(node.retry.backoff_ms)).await;
        }
        attempt += 1;
    }
}

/// One attempt of `node`.
pub fn run_once<'a>(
    env: Rc<RunEnv>,
    node: Rc<Node>,
    ctx: Value,
    start: &'a NodeStart,
    slot: String,
) -> weft_vm::builtins::LocalBoxFuture<'a, RtResult<NodeResult>> {
    Box::pin(async move {
        if let Some(replay) = &env.replay {
            if replay.applies_to(&node.kind) {
                let input = replay_input(&env, &node, &ctx).await?;
                return replay.next(&node.id, input);
            }
        }
        let mut vm = Vm::new(env.program.clone());
        vm.ctx = env.ctx.clone();
        // Subagent nodes hand policy and execution to their worker.
        if matches!(node.kind, NodeKind::Subagent { .. }) {
            return Ok(super::subagent::run(&mut vm, &env, &node, &ctx, &slot).await);
        }
        let mut alias = None;
        if let Some(req) = &node.policy {
            let p = env.ctx.policy.restrict(req, &env.ctx.cwd).map_err(|e| {
                RtError::new(
                    "permission_denied",
                    format!(
                        "node '{}': its policy exceeds the workflow policy: {e}",
                        node.id
                    ),
                )
            })?;
            let p: Rc<CapabilityPolicy> = Rc::new(p);
            alias = Some(PolicyAlias::new(&env.program, &env.ctx, &p));
            vm.ctx.policy = p;
        }
        // The node's budget scope; refused as a failed node.
        let mut _scope = None;
        if let Some(limits) = &node.budget {
            let who = format!("node '{}'", node.id);
            match crate::budget::open_scope(&vm, limits.clone(), Default::default(), false, &who) {
                Ok(s) => {
                    vm.ctx.budget = Some(s.clone());
                    _scope = Some(crate::budget::Scoped(s));
                }
                Err(e) => return Ok(NodeResult::failed(&e, serde_json::Value::Null)),
            }
        }
        let label = format!("{}-{}", env.run_id, node.id.replace('.', "-"));
        let (node_ctx, worktree) = match node.execution.apply(&vm.ctx, &label).await {
            Ok(x) => x,
            Err(e) => return Ok(NodeResult::failed(&e, serde_json::Value::Null)),
        };
        vm.ctx = node_ctx;
        let result = match &node.kind {
            // A parked approval stops the run (Err), not just the node.
            NodeKind::Approval(a) => super::approval::run(&mut vm, &env, &node.id, a, &ctx).await,
            _ => Ok(run_kind(&mut vm, &env, &node, &ctx, start, &slot).await),
        };
        // A `request_approval` that parked inside the node (a code node,
        // a stage's tool handler) parks the run, like an approval node.
        let result = result.and_then(|r| match parked(&r.error) {
            Some(msg) => Err(RtError::new("awaiting_approval", msg)),
            None => Ok(r),
        });
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                if let Some(wt) = worktree {
                    wt.finish(false).await;
                }
                return Err(e);
            }
        };
        if let Some(wt) = worktree {
            wt.finish(!result.is_failed()).await;
        }
        drop(alias);
        Ok(result)
    })
}

/// The message of an `awaiting_approval` node error.
fn parked(error: &Value) -> Option<String> {
    let Value::Dict(d) = error else { return None };
    if dict_get(d, "category").and_then(Value::as_str) != Some("awaiting_approval") {
        return None;
    }
    Some(
        dict_get(d, "message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

/// Registers a node's narrowed policy as belonging to the worker the
/// workflow runs in (so workers spawned by the node are its children);
/// removed again when the node ends.
pub(crate) struct PolicyAlias {
    program: Rc<Program>,
    addr: usize,
}

impl PolicyAlias {
    pub(crate) fn new(
        program: &Rc<Program>,
        parent: &TaskContext,
        p: &Rc<CapabilityPolicy>,
    ) -> PolicyAlias {
        let state = crate::workers::run::registry(program);
        let addr = Rc::as_ptr(p) as usize;
        if let Some(w) = state.workers.current(parent) {
            state
                .workers
                .by_policy
                .borrow_mut()
                .insert(addr, w.id.clone());
        }
        PolicyAlias {
            program: program.clone(),
            addr,
        }
    }
}

impl Drop for PolicyAlias {
    fn drop(&mut self) {
        let state = crate::workers::run::registry(&self.program);
        state.workers.by_policy.borrow_mut().remove(&self.addr);
    }
}

/// Renders a prompt, task or command.
pub async fn render(
    vm: &mut Vm,
    text: &Text,
    ctx: &Value,
    node: &str,
    what: &str,
) -> RtResult<String> {
    match text {
        Text::Template(s) => {
            template::render(s, ctx).map_err(|m| value_error(format!("node '{node}': {what}: {m}")))
        }
        Text::Func(f) => match &vm.call_value(f, std::slice::from_ref(ctx)).await? {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(weft_vm::error::type_error(format!(
                "node '{node}': the {what} function must return a string, got {}",
                other.type_name()
            ))),
        },
    }
}

/// The recorded input of a node whose result a replay takes from the
/// recording.
async fn replay_input(env: &RunEnv, node: &Node, ctx: &Value) -> RtResult<serde_json::Value> {
    let mut vm = Vm::new(env.program.clone());
    vm.ctx = env.ctx.clone();
    Ok(match &node.kind {
        NodeKind::Stage { prompt, system, .. } => {
            let p = render(&mut vm, prompt, ctx, &node.id, "prompt").await?;
            json!({"prompt": p, "system": system})
        }
        NodeKind::Subagent { task, .. } => {
            let t = match task {
                Some(t) => render(&mut vm, t, ctx, &node.id, "task").await?,
                None => env.task.clone(),
            };
            json!({"task": t})
        }
        NodeKind::Verify { command, .. } => {
            json!({"command": render(&mut vm, command, ctx, &node.id, "command").await?})
        }
        NodeKind::Map { items, .. } => {
            let list = super::map::items_of(&mut vm, items, ctx, &node.id).await?;
            json!({"items": to_json(&Value::list(list)).unwrap_or_default()})
        }
        _ => serde_json::Value::Null,
    })
}

async fn run_kind(
    vm: &mut Vm,
    env: &Rc<RunEnv>,
    node: &Rc<Node>,
    ctx: &Value,
    start: &NodeStart,
    slot: &str,
) -> NodeResult {
    match &node.kind {
        NodeKind::Stage {
            prompt,
            system,
            mode,
            options,
        } => {
            let p = match render(vm, prompt, ctx, &node.id, "prompt").await {
                Ok(p) => p,
                Err(e) => return NodeResult::failed(&e, serde_json::Value::Null),
            };
            let input = json!({"prompt": p, "system": system});
            let r = match mode {
                StageMode::Agent => stage_agent(vm, env, p, system.clone(), options).await,
                StageMode::Llm => stage_llm(vm, env, p, system.clone(), options).await,
            };
            match r {
                Ok(mut r) => {
                    r.input = input;
                    r
                }
                Err(e) => NodeResult::failed(&e, input),
            }
        }
        NodeKind::Verify {
            command,
            expect_status,
            assert_text,
            timeout_ms,
        } => {
            let cmd = match render(vm, command, ctx, &node.id, "command").await {
                Ok(c) => c,
                Err(e) => return NodeResult::failed(&e, serde_json::Value::Null),
            };
            let input = json!({"command": cmd});
            verify(
                vm,
                &cmd,
                *expect_status,
                assert_text.as_deref(),
                *timeout_ms,
                input,
            )
            .await
        }
        NodeKind::Condition { when } => {
            match vm.call_value(when, std::slice::from_ref(ctx)).await {
                Ok(Value::Bool(b)) => NodeResult::ok(
                    Value::Bool(b),
                    if b { "true" } else { "false" },
                    serde_json::Value::Null,
                ),
                Ok(other) => NodeResult::failed(
                    &weft_vm::error::type_error(format!(
                        "condition '{}': 'when' must return a bool, got {}",
                        node.id,
                        other.type_name()
                    )),
                    serde_json::Value::Null,
                ),
                Err(e) => NodeResult::failed(&e, serde_json::Value::Null),
            }
        }
        NodeKind::Code { run } => match vm.call_value(run, std::slice::from_ref(ctx)).await {
            Ok(v) => NodeResult::ok(v, "success", serde_json::Value::Null),
            Err(e) => NodeResult::failed(&e, serde_json::Value::Null),
        },
        NodeKind::Map { .. } => run_map(vm, env, node, ctx, start, slot).await,
        NodeKind::Join => {
            // The scheduler passes the predecessors' outputs as `input`.
            let out = match ctx {
                Value::Dict(d) => dict_get(d, "input").cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            };
            NodeResult::ok(out, "success", serde_json::Value::Null)
        }
        NodeKind::Subagent { .. } | NodeKind::Approval(_) | NodeKind::Invalid => {
            NodeResult::failed(
                &value_error(format!("node '{}' cannot run here", node.id)),
                serde_json::Value::Null,
            )
        }
    }
}

/// A `stage` node as an agent loop.
async fn stage_agent(
    vm: &mut Vm,
    env: &RunEnv,
    prompt: String,
    system: Option<String>,
    options: &weft_vm::value::DictMap,
) -> RtResult<NodeResult> {
    let call = parse_loop_options(vm, prompt, system, options, env.who)?;
    let structured = call.config.llm.json;
    let run = match run_loop_cached(vm, call.config, call.cache.as_ref(), &mut NoHooks).await? {
        LoopOutcome::Ran(run) => run,
        LoopOutcome::Hit(stored) => {
            let field = |k: &str| match &stored {
                Value::Dict(d) => dict_get(d, k).cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            };
            let output = if structured {
                field("data")
            } else {
                field("visible_text")
            };
            let mut r = NodeResult::ok(output, "success", serde_json::Value::Null);
            r.cached = true;
            return Ok(r);
        }
    };
    let p = &run.progress;
    let usage = Usage {
        input_tokens: p.input_tokens,
        output_tokens: p.output_tokens,
        iterations: p.iterations,
        tool_calls: p.tool_calls.len() as u64,
    };
    let output = if structured {
        run.data.clone()
    } else {
        Value::str(run.visible_text.clone())
    };
    let mut r = NodeResult::ok(output, "success", serde_json::Value::Null);
    r.usage = usage;
    if run.status != AgentStatus::Done {
        r.branch = "failed".to_string();
        r.error = match &run.error {
            Some(e) => error_value(&e.category, &e.message),
            None => error_value(
                run.status.as_str(),
                &format!("the agent loop ended with status {}", run.status.as_str()),
            ),
        };
    }
    Ok(r)
}

/// A `stage` node with `mode: "llm"`: one model call.
async fn stage_llm(
    vm: &mut Vm,
    env: &RunEnv,
    prompt: String,
    system: Option<String>,
    options: &weft_vm::value::DictMap,
) -> RtResult<NodeResult> {
    let (llm, extra) = parse_llm_options(options, env.who, &["tools", "messages", "cache"])?;
    let cache = crate::cache::parse_cache(dict_get(&extra, "cache"), env.who)?;
    let mut messages = match dict_get(&extra, "messages") {
        None | Some(Value::Nil) => Vec::new(),
        Some(m) => crate::transcript::convert::messages_from_value(m, env.who)?,
    };
    let tools = match dict_get(&extra, "tools") {
        None | Some(Value::Nil) => Vec::new(),
        Some(t) => ToolRegistry::from_value(t, env.who)?.to_specs(),
    };
    messages.push(Message::user(prompt));
    let (resp, data, cached) =
        crate::cache::complete_cached(vm, &llm, cache.as_ref(), system, messages, tools, env.who)
            .await?;
    let output = if llm.json {
        data
    } else {
        Value::str(crate::llm::extract::visible_text(&resp.text))
    };
    let mut r = NodeResult::ok(output, "success", serde_json::Value::Null);
    r.usage = Usage {
        input_tokens: resp.input_tokens,
        output_tokens: resp.output_tokens,
        iterations: u64::from(!cached),
        tool_calls: 0,
    };
    r.cached = cached;
    Ok(r)
}

/// A `verify` node: the command through `/bin/sh -c` (the `shell`
/// builtin, so the node's policy, cwd and env apply).
async fn verify(
    vm: &mut Vm,
    cmd: &str,
    expect_status: i64,
    assert_text: Option<&str>,
    timeout_ms: Option<u64>,
    input: serde_json::Value,
) -> NodeResult {
    let Some(shell) = vm
        .program
        .builtins
        .iter()
        .find(|b| b.name == "shell")
        .cloned()
    else {
        return NodeResult::failed(&value_error("the shell builtin is not available"), input);
    };
    let mut opts = vec![];
    if let Some(ms) = timeout_ms {
        opts.push(("timeout_ms", Value::Int(ms as i64)));
    }
    let args = [Value::str(cmd), dict_from(opts)];
    let out = match vm.call_value(&Value::Builtin(shell), &args).await {
        Ok(v) => v,
        Err(e) => return NodeResult::failed(&e, input),
    };
    let field = |k: &str| match &out {
        Value::Dict(d) => dict_get(d, k).cloned().unwrap_or(Value::Nil),
        _ => Value::Nil,
    };
    let status = field("status");
    let stdout = field("stdout");
    let status_ok = matches!(status, Value::Int(n) if n == expect_status);
    let text_ok = match (assert_text, &stdout) {
        (None, _) => true,
        (Some(t), Value::Str(s)) => s.contains(t),
        _ => false,
    };
    let passed = status_ok && text_ok;
    let output = dict_from([
        ("status", status.clone()),
        ("stdout", stdout),
        ("stderr", field("stderr")),
        ("passed", Value::Bool(passed)),
    ]);
    let mut r = NodeResult::ok(output, if passed { "passed" } else { "failed" }, input);
    if !passed {
        let why = if !status_ok {
            format!(
                "exit status {} (expected {expect_status})",
                status.to_display()
            )
        } else {
            format!("stdout does not contain {:?}", assert_text.unwrap_or(""))
        };
        r.error = error_value("verify_failed", &format!("'{cmd}' failed: {why}"));
    }
    r
}
