//! Building and validating a workflow graph (workflows.md §1): the
//! definition dict is parsed once into a typed [`Graph`], collecting every
//! problem instead of stopping at the first — unknown `entry`, edges to
//! unknown nodes, unknown kinds and keys (with a did-you-mean), a
//! `condition` without both branches, branch labels a node can never take,
//! unreachable nodes, node policies above the workflow policy and a
//! workflow policy above the caller's ceiling. [`normalized`] gives the dict
//! `workflow_graph` returns (defaults filled in).

use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use indexmap::IndexMap;
use weft_syntax::suggest::did_you_mean;
use weft_vm::policy::{parse_policy_request, CapabilityPolicy, PolicyRequest};
use weft_vm::value::{dict_from, dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::nodes::{parse_node, Node, NodeKind};

/// Top-level keys of a definition.
pub const GRAPH_KEYS: &[&str] = &[
    "name", "entry", "policy", "state", "nodes", "edges", "budget",
];
/// Keys of an edge.
pub const EDGE_KEYS: &[&str] = &["from", "to", "branch"];

/// One problem of a definition: a stable `code`, a message, and the node it
/// concerns (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub node: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, node: Option<&str>, message: impl Into<String>) -> Problem {
        Problem {
            code,
            node: node.map(str::to_string),
            message: message.into(),
        }
    }

    /// `{code, node, message}`.
    pub fn to_value(&self) -> Value {
        dict_from([
            ("code", Value::str(self.code)),
            (
                "node",
                self.node.as_deref().map(Value::str).unwrap_or(Value::Nil),
            ),
            ("message", Value::str(self.message.clone())),
        ])
    }
}

/// An edge: taken when `from` finishes with `branch` (or, unlabelled, when
/// no labelled edge of `from` matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub branch: Option<String>,
}

/// A parsed workflow.
pub struct Graph {
    pub name: String,
    pub entry: String,
    /// The workflow policy as requested (`None` = the caller's ceiling).
    pub policy: Option<PolicyRequest>,
    /// The `policy` value as written (for the normalised dict).
    pub policy_value: Value,
    pub nodes: IndexMap<String, Rc<Node>>,
    pub edges: Vec<Edge>,
    /// The declared run state fields (`state.rs`).
    pub state: super::state::Schema,
    /// The run's budget scope (`budget` key).
    pub budget: Option<weft_vm::budget::BudgetLimits>,
}

impl Graph {
    /// Edges leaving `node`, in definition order.
    pub fn edges_from<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges.iter().filter(move |e| e.from == node)
    }

    /// Nodes with an edge into `node` (each once).
    pub fn predecessors(&self, node: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in self.edges.iter().filter(|e| e.to == node) {
            if !out.contains(&e.from.as_str()) {
                out.push(&e.from);
            }
        }
        out
    }

    /// The targets activated when `node` finishes with `branch`: its edges
    /// labelled `branch`, else its unlabelled edges.
    pub fn next(&self, node: &str, branch: &str) -> Vec<(String, Option<String>)> {
        let labelled: Vec<&Edge> = self
            .edges_from(node)
            .filter(|e| e.branch.as_deref() == Some(branch))
            .collect();
        let chosen: Vec<&Edge> = if labelled.is_empty() {
            self.edges_from(node)
                .filter(|e| e.branch.is_none())
                .collect()
        } else {
            labelled
        };
        chosen
            .into_iter()
            .map(|e| (e.to.clone(), e.branch.clone()))
            .collect()
    }

    /// Whether an edge of `node` is labelled `failed` (its failures are
    /// handled).
    pub fn handles_failure(&self, node: &str) -> bool {
        self.edges_from(node)
            .any(|e| e.branch.as_deref() == Some("failed"))
    }
}

/// Parses `def`, returning the graph (when the shape allowed building one)
/// and every problem found; policies are checked against the ceiling of
/// `vm`'s task.
pub fn parse_graph(vm: &Vm, def: &Value, who: &str) -> (Option<Graph>, Vec<Problem>) {
    let mut problems = Vec::new();
    let Value::Dict(map) = def else {
        problems.push(Problem::new(
            "bad_value",
            None,
            format!("a workflow must be a dict, got {}", def.type_name()),
        ));
        return (None, problems);
    };
    for k in map.keys() {
        if !GRAPH_KEYS.contains(&k.as_str()) {
            problems.push(unknown_key_problem(None, "workflow key", k, GRAPH_KEYS));
        }
    }
    let get = |k: &str| dict_get(map, k).filter(|v| !v.is_nil());
    let name = match get("name") {
        None => "workflow".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            problems.push(type_problem(None, "'name'", "a string", other));
            "workflow".to_string()
        }
    };
    let state = super::state::parse_schema(get("state"), &mut problems);
    // Nodes.
    let mut nodes: IndexMap<String, Rc<Node>> = IndexMap::new();
    match get("nodes") {
        Some(Value::Dict(nd)) if !nd.is_empty() => {
            for (id, spec) in nd.iter() {
                if id.is_empty() {
                    problems.push(Problem::new(
                        "bad_value",
                        None,
                        "a node id must not be empty",
                    ));
                    continue;
                }
                match parse_node(vm, id, spec, who, &mut problems) {
                    Some(n) => {
                        nodes.insert(id.to_string(), Rc::new(n));
                    }
                    None => {
                        // Keep the id known so edges to it are not reported too.
                        nodes.insert(id.to_string(), Rc::new(Node::placeholder(id)));
                    }
                }
            }
        }
        Some(Value::Dict(_)) | None => problems.push(Problem::new(
            "missing_key",
            None,
            "'nodes' is required: a dict of node id -> node",
        )),
        Some(other) => problems.push(type_problem(None, "'nodes'", "a dict", other)),
    }
    let ids: Vec<&str> = nodes.keys().map(String::as_str).collect();
    // Entry.
    let entry = match get("entry") {
        None => ids.first().map(|s| s.to_string()).unwrap_or_default(),
        Some(Value::Str(s)) => {
            if !nodes.contains_key(s.as_str()) && !nodes.is_empty() {
                problems.push(Problem::new(
                    "unknown_entry",
                    None,
                    format!("entry '{s}' is not a node{}", hint(s, &ids)),
                ));
            }
            s.to_string()
        }
        Some(other) => {
            problems.push(type_problem(None, "'entry'", "a string", other));
            String::new()
        }
    };
    // Edges.
    let mut edges = Vec::new();
    match get("edges") {
        None => {}
        Some(Value::List(list)) => {
            for (i, e) in list.iter().enumerate() {
                if let Some(edge) = parse_edge(i, e, &nodes, &mut problems) {
                    edges.push(edge);
                }
            }
        }
        Some(other) => problems.push(type_problem(None, "'edges'", "a list", other)),
    }
    // Placeholders naming unknown nodes.
    for (id, node) in &nodes {
        for refd in node.referenced_inputs() {
            if !nodes.contains_key(&refd) {
                problems.push(Problem::new(
                    "unknown_node",
                    Some(id),
                    format!(
                        "node '{id}': placeholder ${{input.{refd}}} names an unknown node{}",
                        hint(&refd, &ids)
                    ),
                ));
            }
        }
    }
    // A map item's result is not a stage: only the map node updates state.
    for (id, node) in &nodes {
        if let NodeKind::Map { each, .. } = &node.kind {
            if each.update.is_some() {
                problems.push(Problem::new(
                    "bad_value",
                    Some(id),
                    format!("map '{id}': 'update' belongs on the map node, not on 'each'"),
                ));
            }
        }
    }
    // Conditions need both branches.
    for (id, node) in &nodes {
        if matches!(node.kind, NodeKind::Condition { .. }) {
            let has = |b: &str| {
                edges
                    .iter()
                    .any(|e| e.from == *id && e.branch.as_deref() == Some(b))
            };
            let missing: Vec<&str> = ["true", "false"].into_iter().filter(|b| !has(b)).collect();
            if !missing.is_empty() {
                problems.push(Problem::new(
                    "condition_branches",
                    Some(id),
                    format!(
                        "condition '{id}' needs edges for both 'true' and 'false' (missing: {})",
                        missing.join(", ")
                    ),
                ));
            }
        }
    }
    // Reachability from the entry.
    if nodes.contains_key(&entry) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([entry.as_str()]);
        while let Some(n) = queue.pop_front() {
            if !seen.insert(n) {
                continue;
            }
            for e in edges.iter().filter(|e| e.from == n) {
                queue.push_back(&e.to);
            }
        }
        for id in nodes.keys() {
            if !seen.contains(id.as_str()) {
                problems.push(Problem::new(
                    "unreachable",
                    Some(id),
                    format!("node '{id}' is not reachable from entry '{entry}'"),
                ));
            }
        }
    }
    // Policies: the workflow's within the caller's ceiling, each node's
    // within the workflow's.
    let policy_value = get("policy").cloned().unwrap_or(Value::Nil);
    let policy = match get("policy") {
        None => None,
        Some(p) => match parse_policy_request(p, who).and_then(|req| {
            crate::approval::gate::check_entries(&vm.program, req.approve.iter().flatten(), who)
                .map_err(|e| e.message())?;
            Ok(req)
        }) {
            Ok(req) => Some(req),
            Err(msg) => {
                problems.push(Problem::new("bad_value", None, format!("policy: {msg}")));
                None
            }
        },
    };
    let budget = match crate::budget::parse_budget(get("budget").unwrap_or(&Value::Nil), "budget") {
        Ok(b) => b,
        Err(e) => {
            problems.push(Problem::new("bad_value", None, e.message()));
            None
        }
    };
    let ceiling = &vm.ctx.policy;
    let workflow_policy = match &policy {
        None => Some((**ceiling).clone()),
        Some(req) => match ceiling.restrict(req, &vm.ctx.cwd) {
            Ok(p) => Some(p),
            Err(excess) => {
                problems.push(Problem::new(
                    "policy_exceeds_ceiling",
                    None,
                    format!("the workflow policy exceeds the caller's ceiling: {excess}"),
                ));
                None
            }
        },
    };
    if let Some(wp) = &workflow_policy {
        for (id, node) in &nodes {
            check_node_policy(wp, id, node, &vm.ctx.cwd, &mut problems);
        }
    }
    if !problems.is_empty() && nodes.is_empty() {
        return (None, problems);
    }
    let graph = Graph {
        name,
        entry,
        policy,
        policy_value,
        nodes,
        edges,
        state,
        budget,
    };
    (Some(graph), problems)
}

fn check_node_policy(
    wp: &CapabilityPolicy,
    id: &str,
    node: &Node,
    cwd: &std::path::Path,
    problems: &mut Vec<Problem>,
) {
    if let Some(req) = &node.policy {
        if let Err(excess) = wp.restrict(req, cwd) {
            problems.push(Problem::new(
                "policy_exceeds_workflow",
                Some(id),
                format!("node '{id}': its policy exceeds the workflow policy: {excess}"),
            ));
        }
    }
    if let NodeKind::Map { each, .. } = &node.kind {
        check_node_policy(wp, id, each, cwd, problems);
    }
}

fn parse_edge(
    i: usize,
    e: &Value,
    nodes: &IndexMap<String, Rc<Node>>,
    problems: &mut Vec<Problem>,
) -> Option<Edge> {
    let what = format!("edges[{i}]");
    let Value::Dict(d) = e else {
        problems.push(type_problem(None, &what, "a dict {from, to, branch?}", e));
        return None;
    };
    for k in d.keys() {
        if !EDGE_KEYS.contains(&k.as_str()) {
            problems.push(unknown_key_problem(
                None,
                &format!("key of {what}"),
                k,
                EDGE_KEYS,
            ));
        }
    }
    let ids: Vec<&str> = nodes.keys().map(String::as_str).collect();
    let mut end = |k: &str| -> Option<String> {
        match dict_get(d, k) {
            Some(Value::Str(s)) => {
                if !nodes.contains_key(s.as_str()) {
                    problems.push(Problem::new(
                        "unknown_node",
                        None,
                        format!("{what}: '{k}' names unknown node '{s}'{}", hint(s, &ids)),
                    ));
                    return None;
                }
                Some(s.to_string())
            }
            None | Some(Value::Nil) => {
                problems.push(Problem::new(
                    "missing_key",
                    None,
                    format!("{what}: '{k}' is required"),
                ));
                None
            }
            Some(other) => {
                problems.push(type_problem(
                    None,
                    &format!("{what}.{k}"),
                    "a node id string",
                    other,
                ));
                None
            }
        }
    };
    let from = end("from");
    let to = end("to");
    let branch = match dict_get(d, "branch") {
        None | Some(Value::Nil) => None,
        Some(Value::Str(s)) => Some(s.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => {
            problems.push(type_problem(
                None,
                &format!("{what}.branch"),
                "a string",
                other,
            ));
            None
        }
    };
    let (from, to) = (from?, to?);
    if let (Some(b), Some(node)) = (&branch, nodes.get(&from)) {
        let allowed = node.kind.branches();
        if !allowed.is_empty() && !allowed.contains(&b.as_str()) {
            problems.push(Problem::new(
                "bad_branch",
                Some(&from),
                format!(
                    "{what}: {} {} node never takes branch '{b}' (branches: {}){}",
                    if node.kind.name().starts_with('a') {
                        "an"
                    } else {
                        "a"
                    },
                    node.kind.name(),
                    allowed.join(", "),
                    did_you_mean(b, allowed.iter().copied())
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    Some(Edge { from, to, branch })
}

/// ` (did you mean 'x'?)` or nothing.
pub fn hint(name: &str, known: &[&str]) -> String {
    did_you_mean(name, known.iter().copied())
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

pub fn unknown_key_problem(node: Option<&str>, what: &str, key: &str, known: &[&str]) -> Problem {
    let prefix = node.map(|n| format!("node '{n}': ")).unwrap_or_default();
    let tail = match did_you_mean(key, known.iter().copied()) {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => format!(" (known: {})", known.join(", ")),
    };
    Problem::new(
        "unknown_key",
        node,
        format!("{prefix}unknown {what} '{key}'{tail}"),
    )
}

pub fn type_problem(node: Option<&str>, what: &str, expected: &str, got: &Value) -> Problem {
    let prefix = node.map(|n| format!("node '{n}': ")).unwrap_or_default();
    let got = match got {
        Value::Int(_) | Value::Float(_) => format!("{} {}", got.type_name(), got.to_repr()),
        _ => got.type_name().to_string(),
    };
    Problem::new(
        "bad_value",
        node,
        format!("{prefix}{what} must be {expected}, got {got}"),
    )
}

/// The normalised definition `workflow_graph` returns: every node with its
/// defaults, every edge with its `branch` (nil when unlabelled).
pub fn normalized(g: &Graph) -> Value {
    let mut nodes = DictMap::default();
    for (id, n) in &g.nodes {
        nodes.insert(Rc::new(id.clone()), n.normalized());
    }
    let edges: Vec<Value> = g
        .edges
        .iter()
        .map(|e| {
            dict_from([
                ("from", Value::str(e.from.clone())),
                ("to", Value::str(e.to.clone())),
                (
                    "branch",
                    e.branch.as_deref().map(Value::str).unwrap_or(Value::Nil),
                ),
            ])
        })
        .collect();
    let mut pairs = vec![
        ("name", Value::str(g.name.clone())),
        ("entry", Value::str(g.entry.clone())),
        ("policy", g.policy_value.clone()),
    ];
    // Only when declared: definitions without state normalise as before.
    if !g.state.is_empty() {
        pairs.push(("state", super::state::normalized(&g.state)));
    }
    pairs.push(("nodes", Value::dict(nodes)));
    pairs.push(("edges", Value::list(edges)));
    dict_from(pairs)
}

/// Every problem as one message: `WHO: invalid WHAT: N problem(s):` and
/// a line per problem (`what` is e.g. `workflow 'fix_bug'`).
pub fn problems_message(who: &str, what: &str, problems: &[Problem]) -> String {
    let mut msg = format!(
        "{who}: invalid {what}: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        msg.push_str("\n  - ");
        msg.push_str(&p.message);
    }
    msg
}

/// The name a definition gives itself (for messages about it).
pub fn name_of(def: &Value) -> String {
    match def {
        Value::Dict(d) => match dict_get(d, "name") {
            Some(Value::Str(s)) => s.to_string(),
            _ => "workflow".to_string(),
        },
        _ => "workflow".to_string(),
    }
}
