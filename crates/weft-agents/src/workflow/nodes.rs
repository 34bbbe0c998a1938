//! Workflow nodes (workflows.md §2), parsed once into typed [`Node`]s:
//! the kind with its own settings, `retry`, `policy` and `execution`. The
//! keys a kind accepts are checked here (unknown ones are problems with a
//! did-you-mean); stage and subagent options are validated by the same
//! parsers `agent_loop` and `spawn_worker` use.

use std::rc::Rc;

use weft_vm::policy::{parse_policy_request, PolicyRequest};
use weft_vm::value::{dict_from, dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::graph::{hint, type_problem, unknown_key_problem, Problem};
use super::template;
use crate::agent_loop::options::{parse_loop_options, LOOP_KEYS};
use crate::llm::call::LLM_OPTION_KEYS;
use crate::profile::ExecutionProfile;
use crate::workers::options::{parse_worker_options, WORKER_KEYS};

/// The node kinds.
pub const KINDS: &[&str] = &[
    "stage",
    "subagent",
    "verify",
    "condition",
    "code",
    "map",
    "join",
    "approval",
];
/// Keys every node accepts.
pub const COMMON_KEYS: &[&str] = &["kind", "retry", "policy", "execution", "update", "budget"];
/// Keys of `retry`.
pub const RETRY_KEYS: &[&str] = &["max_attempts", "backoff_ms"];
/// Default `max_concurrent` of a map node.
pub const DEFAULT_MAP_CONCURRENCY: usize = 4;

/// `retry: {max_attempts, backoff_ms}` (default: one attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub backoff_ms: u64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 1,
            backoff_ms: 0,
        }
    }
}

/// A prompt, task or command: a template string or a function of `ctx`.
#[derive(Clone)]
pub enum Text {
    Template(String),
    Func(Value),
}

/// How a `stage` node calls the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageMode {
    /// An `agent_loop` (the default).
    Agent,
    /// One `llm_call`.
    Llm,
}

/// When a map node's join is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRule {
    All,
    First,
    Quorum(usize),
}

/// What a node runs.
#[derive(Clone)]
pub enum NodeKind {
    Stage {
        prompt: Text,
        system: Option<String>,
        mode: StageMode,
        /// The `agent_loop`/`llm_call` options of the node.
        options: DictMap,
    },
    Subagent {
        /// `None`: the run's task.
        task: Option<Text>,
        /// The worker options (policy, execution, allowed_tools, ...).
        options: DictMap,
    },
    Verify {
        command: Text,
        expect_status: i64,
        assert_text: Option<String>,
        timeout_ms: Option<u64>,
    },
    Condition {
        when: Value,
    },
    Code {
        run: Value,
    },
    Map {
        items: Value,
        each: Rc<Node>,
        max_concurrent: usize,
        join: JoinRule,
    },
    Join,
    /// A human's answer (`workflow/approval.rs`).
    Approval(super::approval::ApprovalNode),
    /// A node whose definition had problems (validation only).
    Invalid,
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Stage { .. } => "stage",
            NodeKind::Subagent { .. } => "subagent",
            NodeKind::Verify { .. } => "verify",
            NodeKind::Condition { .. } => "condition",
            NodeKind::Code { .. } => "code",
            NodeKind::Map { .. } => "map",
            NodeKind::Join => "join",
            NodeKind::Approval(_) => "approval",
            NodeKind::Invalid => "invalid",
        }
    }

    /// The branches a node of this kind can finish with.
    pub fn branches(&self) -> &'static [&'static str] {
        match self {
            NodeKind::Verify { .. } => &["passed", "failed"],
            NodeKind::Condition { .. } => &["true", "false"],
            NodeKind::Join => &["success"],
            NodeKind::Approval(_) => &["approved", "rejected", "timeout"],
            NodeKind::Invalid => &[],
            _ => &["success", "failed"],
        }
    }
}

/// One node of a graph.
#[derive(Clone)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub retry: Retry,
    /// The node's policy request (applied by the scheduler; for subagent
    /// nodes, by the worker spawn).
    pub policy: Option<PolicyRequest>,
    pub execution: ExecutionProfile,
    /// `update`: `{ out, ctx -> dict }`, the node's changes to the run
    /// state (`state.rs`).
    pub update: Option<Value>,
    /// The node's budget scope (for subagent nodes: its worker's).
    pub budget: Option<weft_vm::budget::BudgetLimits>,
    /// The definition as written.
    pub raw: DictMap,
}

impl Node {
    /// A stand-in for a node whose definition was invalid.
    pub fn placeholder(id: &str) -> Node {
        Node {
            id: id.to_string(),
            kind: NodeKind::Invalid,
            retry: Retry::default(),
            policy: None,
            execution: ExecutionProfile::default(),
            update: None,
            budget: None,
            raw: DictMap::default(),
        }
    }

    /// Node ids named by `${input.NODE}` in the node's templates.
    pub fn referenced_inputs(&self) -> Vec<String> {
        let texts: Vec<&Text> = match &self.kind {
            NodeKind::Stage { prompt, .. } => vec![prompt],
            NodeKind::Subagent { task: Some(t), .. } => vec![t],
            NodeKind::Verify { command, .. } => vec![command],
            NodeKind::Approval(a) => vec![&a.question],
            NodeKind::Map { each, .. } => return each.referenced_inputs(),
            _ => vec![],
        };
        texts
            .into_iter()
            .filter_map(|t| match t {
                Text::Template(s) => Some(template::input_refs(s)),
                Text::Func(_) => None,
            })
            .flatten()
            .collect()
    }

    /// The definition with defaults filled in.
    pub fn normalized(&self) -> Value {
        let mut d = self.raw.clone();
        let mut put = |k: &str, v: Value| {
            let key = Rc::new(k.to_string());
            if dict_get(&d, k).is_none_or(Value::is_nil) {
                d.insert(key, v);
            }
        };
        put(
            "retry",
            dict_from([
                ("max_attempts", Value::Int(self.retry.max_attempts as i64)),
                ("backoff_ms", Value::Int(self.retry.backoff_ms as i64)),
            ]),
        );
        match &self.kind {
            NodeKind::Stage { mode, .. } => put(
                "mode",
                Value::str(if *mode == StageMode::Llm {
                    "llm"
                } else {
                    "agent"
                }),
            ),
            NodeKind::Verify { expect_status, .. } => {
                put("expect_status", Value::Int(*expect_status))
            }
            NodeKind::Map {
                each,
                max_concurrent,
                join,
                ..
            } => {
                put("max_concurrent", Value::Int(*max_concurrent as i64));
                put(
                    "join",
                    Value::str(match join {
                        JoinRule::All => "all",
                        JoinRule::First => "first",
                        JoinRule::Quorum(_) => "quorum",
                    }),
                );
                d.insert(Rc::new("each".to_string()), each.normalized());
            }
            _ => {}
        }
        Value::dict(d)
    }
}

/// The keys a node of `kind` accepts.
pub fn kind_keys(kind: &str) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = COMMON_KEYS.to_vec();
    match kind {
        "stage" => {
            keys.extend(["prompt", "system", "mode"]);
            keys.extend(LOOP_KEYS.iter().filter(|k| **k != "policy"));
            keys.extend(LLM_OPTION_KEYS.iter());
        }
        "subagent" => {
            keys.extend(["task"]);
            keys.extend(WORKER_KEYS.iter().filter(|k| {
                !["task", "key", "background", "wait", "policy", "execution"].contains(*k)
            }));
            keys.extend(LOOP_KEYS.iter().filter(|k| **k != "policy"));
            keys.extend(LLM_OPTION_KEYS.iter().filter(|k| **k != "timeout_ms"));
        }
        "verify" => keys.extend(["command", "expect_status", "assert_text", "timeout_ms"]),
        "condition" => keys.push("when"),
        "code" => keys.push("run"),
        "approval" => keys.extend(super::approval::KEYS),
        "map" => keys.extend(["items", "each", "max_concurrent", "join", "min_completed"]),
        _ => {}
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Parses node `id`, adding its problems; `None` when it cannot be built.
pub fn parse_node(
    vm: &Vm,
    id: &str,
    spec: &Value,
    who: &str,
    problems: &mut Vec<Problem>,
) -> Option<Node> {
    let Value::Dict(d) = spec else {
        problems.push(type_problem(Some(id), "the node", "a dict", spec));
        return None;
    };
    let kind_name = match dict_get(d, "kind") {
        Some(Value::Str(s)) if KINDS.contains(&s.as_str()) => s.to_string(),
        Some(Value::Str(s)) => {
            problems.push(Problem::new(
                "unknown_kind",
                Some(id),
                format!(
                    "node '{id}': unknown kind '{s}'{}",
                    match hint(s, KINDS).as_str() {
                        "" => format!(" (kinds: {})", KINDS.join(", ")),
                        h => h.to_string(),
                    }
                ),
            ));
            return None;
        }
        None | Some(Value::Nil) => {
            problems.push(Problem::new(
                "missing_key",
                Some(id),
                format!(
                    "node '{id}': 'kind' is required (kinds: {})",
                    KINDS.join(", ")
                ),
            ));
            return None;
        }
        Some(other) => {
            problems.push(type_problem(Some(id), "'kind'", "a string", other));
            return None;
        }
    };
    let known = kind_keys(&kind_name);
    for k in d.keys() {
        if !known.contains(&k.as_str()) {
            problems.push(unknown_key_problem(
                Some(id),
                &format!("{kind_name} node key"),
                k,
                &known,
            ));
        }
    }
    let get = |k: &str| dict_get(d, k).filter(|v| !v.is_nil());
    let retry = parse_retry(id, get("retry"), problems);
    let policy = match get("policy") {
        None => None,
        Some(p) => match parse_policy_request(p, who).and_then(|req| {
            crate::approval::gate::check_entries(&vm.program, req.approve.iter().flatten(), who)
                .map_err(|e| e.message())?;
            Ok(req)
        }) {
            Ok(r) => Some(r),
            Err(m) => {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("node '{id}': policy: {m}"),
                ));
                None
            }
        },
    };
    let execution = match ExecutionProfile::parse(get("execution").unwrap_or(&Value::Nil), who) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::new(
                "bad_value",
                Some(id),
                format!("node '{id}': {}", e.message()),
            ));
            ExecutionProfile::default()
        }
    };
    let update = match get("update") {
        None => None,
        Some(f) if f.is_callable() => Some(f.clone()),
        Some(other) => {
            problems.push(type_problem(
                Some(id),
                "'update'",
                "a function { out, ctx -> dict }",
                other,
            ));
            None
        }
    };
    let budget = match crate::budget::parse_budget(get("budget").unwrap_or(&Value::Nil), "budget") {
        Ok(b) => b,
        Err(e) => {
            problems.push(Problem::new(
                "bad_value",
                Some(id),
                format!("node '{id}': {}", e.message()),
            ));
            None
        }
    };
    let mut rest = DictMap::default();
    for (k, v) in d.iter() {
        if !COMMON_KEYS.contains(&k.as_str()) {
            rest.insert(k.clone(), v.clone());
        }
    }
    let kind = match kind_name.as_str() {
        "stage" => parse_stage(vm, id, &rest, who, problems),
        "subagent" => parse_subagent(vm, id, d, who, problems),
        "verify" => parse_verify(id, &rest, problems),
        "condition" => {
            required_fn(id, &rest, "when", problems).map(|when| NodeKind::Condition { when })
        }
        "code" => required_fn(id, &rest, "run", problems).map(|run| NodeKind::Code { run }),
        "map" => parse_map(vm, id, &rest, who, problems),
        "approval" => super::approval::parse(id, &rest, problems).map(NodeKind::Approval),
        _ => Some(NodeKind::Join),
    };
    let kind = kind?;
    if budget.is_some() && matches!(kind, NodeKind::Map { .. }) {
        problems.push(Problem::new(
            "bad_value",
            Some(id),
            format!(
                "node '{id}': 'budget' does not apply to a map node (set it on 'each', for every item, or on the workflow, for all of them)"
            ),
        ));
    }
    Some(Node {
        id: id.to_string(),
        kind,
        retry,
        policy,
        execution,
        update,
        budget,
        raw: (**d).clone(),
    })
}

/// An optional int option of at least 1.
fn positive_int(id: &str, rest: &DictMap, key: &str, problems: &mut Vec<Problem>) -> Option<u64> {
    match dict_get(rest, key) {
        None | Some(Value::Nil) => None,
        Some(Value::Int(n)) if *n >= 1 => Some(*n as u64),
        Some(other) => {
            problems.push(type_problem(
                Some(id),
                &format!("'{key}'"),
                "a positive int",
                other,
            ));
            None
        }
    }
}

fn parse_retry(id: &str, v: Option<&Value>, problems: &mut Vec<Problem>) -> Retry {
    let mut r = Retry::default();
    let Some(v) = v else { return r };
    let Value::Dict(d) = v else {
        problems.push(type_problem(
            Some(id),
            "'retry'",
            "a dict {max_attempts, backoff_ms}",
            v,
        ));
        return r;
    };
    for k in d.keys() {
        if !RETRY_KEYS.contains(&k.as_str()) {
            problems.push(unknown_key_problem(Some(id), "retry key", k, RETRY_KEYS));
        }
    }
    match dict_get(d, "max_attempts") {
        None | Some(Value::Nil) => {}
        Some(Value::Int(n)) if (1..=1000).contains(n) => r.max_attempts = *n as u32,
        Some(other) => problems.push(type_problem(
            Some(id),
            "retry.max_attempts",
            "an int from 1 to 1000",
            other,
        )),
    }
    match dict_get(d, "backoff_ms") {
        None | Some(Value::Nil) => {}
        Some(Value::Int(n)) if *n >= 0 => r.backoff_ms = *n as u64,
        Some(other) => problems.push(type_problem(
            Some(id),
            "retry.backoff_ms",
            "a non-negative int",
            other,
        )),
    }
    r
}

fn text(id: &str, rest: &DictMap, key: &str, problems: &mut Vec<Problem>) -> Option<Option<Text>> {
    match dict_get(rest, key) {
        None | Some(Value::Nil) => Some(None),
        Some(Value::Str(s)) => {
            if let Err(m) = template::check(s) {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("node '{id}': {key}: {m}"),
                ));
            }
            Some(Some(Text::Template(s.to_string())))
        }
        Some(f) if f.is_callable() => Some(Some(Text::Func(f.clone()))),
        Some(other) => {
            problems.push(type_problem(
                Some(id),
                &format!("'{key}'"),
                "a string or a function of ctx",
                other,
            ));
            None
        }
    }
}

pub(super) fn required_text(
    id: &str,
    rest: &DictMap,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<Text> {
    match text(id, rest, key, problems)? {
        Some(t) => Some(t),
        None => {
            problems.push(Problem::new(
                "missing_key",
                Some(id),
                format!("node '{id}': '{key}' is required"),
            ));
            None
        }
    }
}

fn required_fn(id: &str, rest: &DictMap, key: &str, problems: &mut Vec<Problem>) -> Option<Value> {
    match dict_get(rest, key) {
        Some(f) if f.is_callable() => Some(f.clone()),
        None | Some(Value::Nil) => {
            problems.push(Problem::new(
                "missing_key",
                Some(id),
                format!("node '{id}': '{key}' is required (a function of ctx)"),
            ));
            None
        }
        Some(other) => {
            problems.push(type_problem(
                Some(id),
                &format!("'{key}'"),
                "a function of ctx",
                other,
            ));
            None
        }
    }
}

fn parse_stage(
    vm: &Vm,
    id: &str,
    rest: &DictMap,
    who: &str,
    problems: &mut Vec<Problem>,
) -> Option<NodeKind> {
    let prompt = required_text(id, rest, "prompt", problems);
    let system = match dict_get(rest, "system") {
        None | Some(Value::Nil) => None,
        Some(Value::Str(s)) => Some(s.to_string()),
        Some(other) => {
            problems.push(type_problem(Some(id), "'system'", "a string", other));
            None
        }
    };
    let mode = match dict_get(rest, "mode") {
        None | Some(Value::Nil) => StageMode::Agent,
        Some(Value::Str(s)) if s.as_str() == "agent" => StageMode::Agent,
        Some(Value::Str(s)) if s.as_str() == "llm" => StageMode::Llm,
        Some(other) => {
            problems.push(Problem::new(
                "bad_value",
                Some(id),
                format!(
                    "node '{id}': 'mode' must be \"agent\" or \"llm\", got {}",
                    other.to_repr()
                ),
            ));
            StageMode::Agent
        }
    };
    if mode == StageMode::Llm {
        for k in rest.keys() {
            let k = k.as_str();
            if LOOP_KEYS.contains(&k) && !["tools", "messages", "policy", "cache"].contains(&k) {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("node '{id}': '{k}' is an agent-loop option; it does not apply to mode \"llm\""),
                ));
            }
        }
    }
    let known = kind_keys("stage");
    let mut options = DictMap::default();
    for (k, v) in rest.iter() {
        // Unknown keys are reported once, by parse_node.
        if !["prompt", "system", "mode"].contains(&k.as_str()) && known.contains(&k.as_str()) {
            options.insert(k.clone(), v.clone());
        }
    }
    // `cache` (on both modes) is checked here: an agent-mode stage's
    // tools must be idempotent unless it has a key; the rest are
    // agent-loop or model-call options.
    let mut checked = options.clone();
    let cache = match checked.shift_remove(&std::rc::Rc::new("cache".to_string())) {
        Some(c) => match crate::cache::parse_cache(Some(&c), "cache") {
            Err(e) => {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("node '{id}': {}", e.message()),
                ));
                None
            }
            Ok(c) => c,
        },
        None => None,
    };
    match parse_loop_options(vm, "check".into(), None, &checked, who) {
        Err(e) => problems.push(Problem::new(
            "bad_value",
            Some(id),
            format!("node '{id}': {}", e.message()),
        )),
        Ok(call) if mode == StageMode::Agent => {
            if let Err(e) =
                crate::cache::agent::check_cacheable(cache.as_ref(), &call.config.tools, who)
            {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("node '{id}': {}", e.message()),
                ));
            }
        }
        Ok(_) => {}
    }
    Some(NodeKind::Stage {
        prompt: prompt?,
        system,
        mode,
        options,
    })
}

fn parse_subagent(
    vm: &Vm,
    id: &str,
    d: &DictMap,
    who: &str,
    problems: &mut Vec<Problem>,
) -> Option<NodeKind> {
    let task = text(id, d, "task", problems)?;
    let known = kind_keys("subagent");
    let mut options = DictMap::default();
    for (k, v) in d.iter() {
        if !["kind", "retry", "task", "update"].contains(&k.as_str()) && known.contains(&k.as_str())
        {
            options.insert(k.clone(), v.clone());
        }
    }
    if let Err(e) = parse_worker_options(vm, Some("check".into()), &options, who) {
        problems.push(Problem::new(
            "bad_value",
            Some(id),
            format!("node '{id}': {}", e.message()),
        ));
    }
    Some(NodeKind::Subagent { task, options })
}

fn parse_verify(id: &str, rest: &DictMap, problems: &mut Vec<Problem>) -> Option<NodeKind> {
    let command = required_text(id, rest, "command", problems);
    let expect_status = match dict_get(rest, "expect_status") {
        None | Some(Value::Nil) => 0,
        Some(Value::Int(n)) => *n,
        Some(other) => {
            problems.push(type_problem(Some(id), "'expect_status'", "an int", other));
            0
        }
    };
    let assert_text = match dict_get(rest, "assert_text") {
        None | Some(Value::Nil) => None,
        Some(Value::Str(s)) => Some(s.to_string()),
        Some(other) => {
            problems.push(type_problem(Some(id), "'assert_text'", "a string", other));
            None
        }
    };
    let timeout_ms = positive_int(id, rest, "timeout_ms", problems);
    Some(NodeKind::Verify {
        command: command?,
        expect_status,
        assert_text,
        timeout_ms,
    })
}

fn parse_map(
    vm: &Vm,
    id: &str,
    rest: &DictMap,
    who: &str,
    problems: &mut Vec<Problem>,
) -> Option<NodeKind> {
    let items = match dict_get(rest, "items") {
        Some(v @ Value::List(_)) => Some(v.clone()),
        Some(f) if f.is_callable() => Some(f.clone()),
        None | Some(Value::Nil) => {
            problems.push(Problem::new(
                "missing_key",
                Some(id),
                format!("node '{id}': 'items' is required (a list or a function of ctx)"),
            ));
            None
        }
        Some(other) => {
            problems.push(type_problem(
                Some(id),
                "'items'",
                "a list or a function of ctx",
                other,
            ));
            None
        }
    };
    let each = match dict_get(rest, "each") {
        None | Some(Value::Nil) => {
            problems.push(Problem::new(
                "missing_key",
                Some(id),
                format!("node '{id}': 'each' is required (the node template run for every item)"),
            ));
            None
        }
        Some(spec) => parse_node(vm, &format!("{id}.each"), spec, who, problems),
    };
    let max_concurrent = positive_int(id, rest, "max_concurrent", problems)
        .map_or(DEFAULT_MAP_CONCURRENCY, |n| n as usize);
    let min_completed = positive_int(id, rest, "min_completed", problems).map(|n| n as usize);
    let join = match dict_get(rest, "join") {
        None | Some(Value::Nil) => JoinRule::All,
        Some(Value::Str(s)) => match s.as_str() {
            "all" => JoinRule::All,
            "first" => JoinRule::First,
            "quorum" => match min_completed {
                Some(n) => JoinRule::Quorum(n),
                None => {
                    problems.push(Problem::new(
                        "missing_key",
                        Some(id),
                        format!("node '{id}': join \"quorum\" needs 'min_completed'"),
                    ));
                    JoinRule::Quorum(1)
                }
            },
            other => {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!(
                        "node '{id}': 'join' must be one of all, first, quorum, got '{other}'{}",
                        hint(other, &["all", "first", "quorum"])
                    ),
                ));
                JoinRule::All
            }
        },
        Some(other) => {
            problems.push(type_problem(Some(id), "'join'", "a string", other));
            JoinRule::All
        }
    };
    if min_completed.is_some() && !matches!(join, JoinRule::Quorum(_)) {
        problems.push(Problem::new(
            "bad_value",
            Some(id),
            format!("node '{id}': 'min_completed' only applies to join \"quorum\""),
        ));
    }
    Some(NodeKind::Map {
        items: items?,
        each: Rc::new(each?),
        max_concurrent,
        join,
    })
}
