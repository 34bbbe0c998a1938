//! `spawn_worker` / `sub_agent_run` options, parsed once into a typed
//! [`WorkerOptions`] (workers.md §1–§2): the worker's own keys, the carry
//! policy and execution profile, the capability policy request
//! (`policy` + the `allowed_tools` shorthand), and every `agent_loop`
//! option (parsed by `parse_loop_options`). Unknown keys are a
//! `value_error` with a did-you-mean; `task` is required and non-empty.

use weft_vm::error::{value_error, RtResult};
use weft_vm::policy::{parse_policy_request, PolicyRequest};
use weft_vm::value::{dict_get, to_json, DictMap, Value};
use weft_vm::vm::Vm;

use crate::agent_loop::options::{parse_loop_options, LOOP_KEYS};
use crate::agent_loop::AgentConfig;
use crate::cluster::remote::{travel_options, Placement};
use crate::llm::call::LLM_OPTION_KEYS;
use crate::profile::{CarryPolicy, ExecutionProfile};
use crate::tools::keys::{opt_bool, opt_str, opt_uint, str_list, unknown_key};

/// The worker's own keys (besides the agent-loop and model-call ones).
pub const WORKER_KEYS: &[&str] = &[
    "task",
    "name",
    "key",
    "system",
    "policy",
    "allowed_tools",
    "carry",
    "execution",
    "returns",
    "background",
    "timeout_ms",
    "wait",
    "node",
    "graph",
    "placement",
];

/// The keys of a stage- or workflow-mode worker.
pub const MODE_COMMON_KEYS: &[&str] = &[
    "task",
    "name",
    "key",
    "policy",
    "allowed_tools",
    "carry",
    "execution",
    "timeout_ms",
    "wait",
    "node",
    "graph",
    "budget",
];

/// What a worker runs (its mode, workers.md §2).
#[derive(Clone)]
pub enum Job {
    /// An agent loop (`sub_agent`).
    Agent,
    /// One workflow node (`stage`).
    Node(std::rc::Rc<crate::workflow::nodes::Node>),
    /// A workflow graph definition (`workflow`).
    Graph(Value),
}

/// Parsed options of one worker.
#[derive(Clone)]
pub struct WorkerOptions {
    /// `sub_agent`, `stage` (one workflow node) or `workflow`.
    pub mode: &'static str,
    pub job: Job,
    pub task: String,
    pub name: String,
    pub key: Option<String>,
    pub policy: PolicyRequest,
    pub carry: CarryPolicy,
    pub execution: ExecutionProfile,
    /// Worker timeout (whole cycle).
    pub timeout_ms: Option<u64>,
    pub wait: bool,
    pub background: bool,
    pub session_id: Option<String>,
    /// The worker's budget (reserved from the spawner's scope at spawn).
    pub budget: Option<weft_vm::budget::BudgetLimits>,
    /// The agent loop's config (task included; its `budget` is the
    /// worker's, so it is moved to [`WorkerOptions::budget`]).
    pub agent: AgentConfig,
    /// The options as JSON, closures by name (snapshot `config`).
    pub config_json: serde_json::Value,
    /// The fingerprint of the unredacted task and options (the key check,
    /// `store/keys.rs`).
    pub fingerprint: String,
    /// Where the worker runs (`placement`; `local` by default).
    pub placement: Placement,
    /// With `placement: {labels: ...}`: the host labels the job asks for.
    pub labels: crate::cluster::labels::Labels,
    /// With `placement: "cluster"`: the options as they travel in the job
    /// (functions as references; `cluster/remote.rs`).
    pub remote_options: Option<serde_json::Value>,
    /// The `cache` option of an agent worker (`cache/agent.rs`).
    pub cache: Option<crate::cache::CacheOpt>,
}

/// Parses the options dict (`task` may come from `task_arg`).
pub fn parse_worker_options(
    vm: &Vm,
    task_arg: Option<String>,
    opts: &DictMap,
    who: &str,
) -> RtResult<WorkerOptions> {
    for k in opts.keys() {
        let k = k.as_str();
        if !WORKER_KEYS.contains(&k) && !LOOP_KEYS.contains(&k) && !LLM_OPTION_KEYS.contains(&k) {
            let mut known: Vec<&str> = WORKER_KEYS.to_vec();
            known.extend(LOOP_KEYS.iter().filter(|k| **k != "policy"));
            known.extend(LLM_OPTION_KEYS.iter().filter(|k| **k != "timeout_ms"));
            return Err(unknown_key(who, "", k, &known));
        }
    }
    let get = |k: &str| dict_get(opts, k).filter(|v| !v.is_nil());
    let task = match task_arg {
        Some(t) => t,
        None => match get("task") {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => {
                return Err(weft_vm::error::type_error(format!(
                    "{who}: option 'task' must be a string, got {}",
                    other.type_name()
                )));
            }
            None => return Err(value_error(format!("{who}: option 'task' is required"))),
        },
    };
    if task.trim().is_empty() {
        return Err(value_error(format!("{who}: the task must not be empty")));
    }
    let name = opt_str(opts, who, "name")?.unwrap_or_else(|| "worker".to_string());
    let job = parse_job(vm, opts, &name, who)?;
    if !matches!(job, Job::Agent) {
        for k in opts.keys() {
            if !MODE_COMMON_KEYS.contains(&k.as_str()) {
                return Err(value_error(format!(
                    "{who}: option '{k}' does not apply to a {} worker (set it on the node; worker options here: {})",
                    if matches!(job, Job::Node(_)) { "stage-mode" } else { "workflow-mode" },
                    MODE_COMMON_KEYS.join(", ")
                )));
            }
        }
    }
    let key = opt_str(opts, who, "key")?;
    if key.as_deref() == Some("") {
        return Err(value_error(format!(
            "{who}: option 'key' must not be empty"
        )));
    }
    let mut policy = match get("policy") {
        Some(p) => parse_policy_request(p, who).map_err(value_error)?,
        None => PolicyRequest::default(),
    };
    crate::approval::gate::check_entries(&vm.program, policy.approve.iter().flatten(), who)?;
    if let Some(t) = get("allowed_tools") {
        let names = str_list(t, who, "allowed_tools")?;
        let set: std::collections::BTreeSet<String> = names.into_iter().collect();
        policy.tools = Some(match policy.tools.take() {
            Some(p) => p.intersection(&set).cloned().collect(),
            None => set,
        });
    }
    let carry = CarryPolicy::parse(get("carry").unwrap_or(&Value::Nil), who)?;
    let execution = ExecutionProfile::parse(get("execution").unwrap_or(&Value::Nil), who)?;
    let timeout_ms = opt_uint(opts, who, "timeout_ms", 1)?;
    let wait = opt_bool(opts, who, "wait")?.unwrap_or(false);
    let background = opt_bool(opts, who, "background")?.unwrap_or(false);
    let system = opt_str(opts, who, "system")?;

    // The agent loop's options: its own keys and the model-call ones.
    let mut loop_opts = DictMap::default();
    for (k, v) in opts.iter() {
        let ks = k.as_str();
        if ks == "policy" || ks == "timeout_ms" || WORKER_KEYS.contains(&ks) {
            continue;
        }
        loop_opts.insert(k.clone(), v.clone());
    }
    if let Some(r) = get("returns") {
        let Value::Dict(rd) = r else {
            return Err(weft_vm::error::type_error(format!(
                "{who}: option 'returns' must be a dict, got {}",
                r.type_name()
            )));
        };
        crate::tools::keys::check_keys(rd, who, "returns", &["schema"])?;
        if let Some(s) = dict_get(rd, "schema").filter(|v| !v.is_nil()) {
            loop_opts.insert(std::rc::Rc::new("schema".to_string()), s.clone());
        }
    }
    let (placement, labels) =
        crate::cluster::remote::parse_placement(dict_get(opts, "placement"), who)?;
    let remote_options = match placement {
        Placement::Local => None,
        Placement::Cluster => Some(cluster_options(vm, opts, &job, carry.persistent, who)?),
    };
    let mut call = parse_loop_options(vm, task.clone(), system, &loop_opts, who)?;
    if call.cache.is_some() {
        let why = if carry.persistent {
            Some("a persistent worker (carry: {persistent: true}): its later cycles continue a conversation")
        } else if placement == Placement::Cluster {
            Some("a worker with placement \"cluster\" yet")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(value_error(format!(
                "{who}: option 'cache' does not apply to {why}; leave out 'cache'"
            )));
        }
    }
    let budget = call.config.budget.take();
    let config = config_json(opts);
    let fingerprint = crate::store::fingerprint(&[&serde_json::json!(task), &config]);
    Ok(WorkerOptions {
        mode: match job {
            Job::Agent => "sub_agent",
            Job::Node(_) => "stage",
            Job::Graph(_) => "workflow",
        },
        job,
        task,
        name,
        key,
        policy,
        carry,
        execution,
        timeout_ms,
        wait,
        background,
        session_id: call.session_id,
        budget,
        agent: call.config,
        fingerprint,
        config_json: config,
        placement,
        labels,
        remote_options,
        cache: call.cache,
    })
}

/// Checks that a `placement: "cluster"` worker can run on the cluster and
/// returns its travelling options: the run has a cluster, the worker is a
/// one-shot agent loop, and every function in its options travels.
fn cluster_options(
    vm: &Vm,
    opts: &DictMap,
    job: &Job,
    persistent: bool,
    who: &str,
) -> RtResult<serde_json::Value> {
    let state = vm.program.ext::<crate::state::AgentState>();
    if state.cluster.get().is_none() {
        return Err(value_error(format!(
            "{who}: placement \"cluster\" needs a cluster, and this run has none; run with \
             --cluster nats://HOST:PORT[,HOST:PORT...] (or set WEFT_CLUSTER), or use \
             placement: \"local\""
        )));
    }
    if !matches!(job, Job::Agent) {
        return Err(value_error(format!(
            "{who}: placement \"cluster\" runs agent-loop workers only in this version; \
             stage- and workflow-mode workers run locally (leave out 'placement')"
        )));
    }
    if persistent {
        return Err(value_error(format!(
            "{who}: placement \"cluster\" does not run persistent workers yet (carry: \
             {{persistent: true}}); use placement: \"local\""
        )));
    }
    travel_options(vm, opts, who).map_err(value_error)
}

/// The options as JSON: closures by name, tool registries as their tool
/// names and handler names; `task` left out (it is stored separately).
pub fn config_json(opts: &DictMap) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in opts.iter() {
        if k.as_str() == "task" {
            continue;
        }
        m.insert(k.to_string(), value_json(v));
    }
    serde_json::Value::Object(m)
}

/// How deep a value is written into a snapshot or run record. Deeper
/// parts are replaced by a marker string, so a record stays linear in the
/// value's size to write (pretty-printing is O(depth) per line) and loads
/// back within the JSON reader's nesting limit.
pub const MAX_RECORD_DEPTH: usize = 100;

/// A value as JSON with closures by name (`"<fn name>"`), for records;
/// nesting deeper than [`MAX_RECORD_DEPTH`] is cut.
pub fn value_json(v: &Value) -> serde_json::Value {
    value_json_at(v, 0)
}

fn value_json_at(v: &Value, depth: usize) -> serde_json::Value {
    match v {
        v if v.is_callable() => serde_json::Value::String(format!("<fn {}>", fn_name(v))),
        Value::List(_) | Value::Dict(_) if depth >= MAX_RECORD_DEPTH => serde_json::Value::String(
            format!("<nested deeper than {MAX_RECORD_DEPTH} levels: not recorded>"),
        ),
        Value::List(items) => {
            serde_json::Value::Array(items.iter().map(|x| value_json_at(x, depth + 1)).collect())
        }
        Value::Dict(d) => serde_json::Value::Object(
            d.iter()
                .map(|(k, v)| (k.to_string(), value_json_at(v, depth + 1)))
                .collect(),
        ),
        Value::Cell(c) => value_json_at(&c.borrow(), depth),
        other => to_json(other).unwrap_or(serde_json::Value::Null),
    }
}

fn fn_name(v: &Value) -> String {
    let r = v.to_repr();
    r.trim_start_matches("<fn ")
        .trim_start_matches("<builtin ")
        .trim_end_matches('>')
        .to_string()
}

/// The `node` / `graph` keys: a stage-mode worker runs one workflow node,
/// a workflow-mode worker a whole graph (validated here, at spawn).
fn parse_job(vm: &Vm, opts: &DictMap, name: &str, who: &str) -> RtResult<Job> {
    let node = dict_get(opts, "node").filter(|v| !v.is_nil());
    let graph = dict_get(opts, "graph").filter(|v| !v.is_nil());
    match (node, graph) {
        (Some(_), Some(_)) => Err(value_error(format!(
            "{who}: give either 'node' (stage mode) or 'graph' (workflow mode), not both"
        ))),
        (Some(spec), None) => {
            let mut problems = Vec::new();
            let node = crate::workflow::nodes::parse_node(vm, name, spec, who, &mut problems);
            match (node, problems.is_empty()) {
                (Some(n), true) => Ok(Job::Node(std::rc::Rc::new(n))),
                _ => Err(value_error(crate::workflow::graph::problems_message(
                    who,
                    &format!("node '{name}'"),
                    &problems,
                ))),
            }
        }
        (None, Some(def)) => {
            crate::workflow::run::build_graph(vm, def, who)?;
            Ok(Job::Graph(def.clone()))
        }
        (None, None) => Ok(Job::Agent),
    }
}

#[cfg(test)]
mod record_depth_tests {
    use super::*;

    fn nested(n: usize) -> Value {
        let mut v = Value::Int(1);
        for _ in 0..n {
            v = Value::list(vec![v]);
        }
        v
    }

    fn depth_of(mut j: &serde_json::Value) -> usize {
        let mut d = 0;
        while let Some(inner) = j.as_array().and_then(|a| a.first()) {
            j = inner;
            d += 1;
        }
        d
    }

    #[test]
    fn deep_values_are_cut_at_the_record_depth() {
        let shallow = value_json(&nested(5));
        assert_eq!(shallow.to_string(), "[[[[[1]]]]]");
        let deep = value_json(&nested(10_000));
        assert_eq!(depth_of(&deep), MAX_RECORD_DEPTH);
        let text = serde_json::to_string_pretty(&deep).unwrap();
        assert!(text.len() < 100_000, "{} bytes", text.len());
        assert!(text.contains("nested deeper than 100 levels"));
        // It loads back within serde_json's nesting limit, wrapped in a record.
        let record = serde_json::json!({"stages": [{"output": deep}]});
        let back: serde_json::Value = serde_json::from_str(&record.to_string()).unwrap();
        assert_eq!(back, record);
    }
}
