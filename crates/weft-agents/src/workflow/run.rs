//! `workflow_execute` (workflows.md §4): validates the graph, picks the
//! record to work on — a new run, the stored run of a `key`, a `resume`d
//! run, or a new run replaying a recorded one — drives it with the
//! scheduler and returns the record. A run dropped mid-way (its task
//! cancelled) leaves its record `cancelled` with its pending nodes.

use std::rc::Rc;

use serde_json::json;
use weft_vm::error::{type_error, value_error, RtResult};
use weft_vm::value::{dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::events::emit_run;
use super::exec::{PolicyAlias, RunEnv};
use super::graph::{normalized, parse_graph, problems_message, Graph};
use super::record::{Fingerprint, RunRecord};
use super::replay::Replay;
use super::schedule::{drive, Bounds};
use super::store::{index_key, load, lookup_key, save_later, save_now, store_of};
use crate::tools::keys::{opt_bool, opt_str, opt_uint, unknown_key};
use crate::workers::options::value_json;
use crate::workers::registry::now;
use crate::workers::run::registry;

/// `workflow_execute`'s option keys.
pub const EXECUTE_KEYS: &[&str] = &[
    "key",
    "max_steps",
    "max_concurrent",
    "persist",
    "resume",
    "replay",
    "artifacts",
];
/// Default `max_concurrent` of a run.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Parsed `workflow_execute` options.
#[derive(Clone, Default)]
pub struct ExecuteOptions {
    pub key: Option<String>,
    pub max_steps: Option<u64>,
    pub max_concurrent: Option<usize>,
    pub persist: Option<bool>,
    pub resume: Option<String>,
    pub replay: Option<String>,
    pub artifacts: Value,
    /// Host-internal (workflow workers): the id of a new run, and — with
    /// `resume` — a run that may not have been written yet.
    pub run_id: Option<String>,
    /// Host-internal: `resume` continues the run with the new task
    /// (`send_input` on a workflow worker).
    pub retask: bool,
}

impl ExecuteOptions {
    pub fn parse(opts: &DictMap, who: &str) -> RtResult<ExecuteOptions> {
        for k in opts.keys() {
            if !EXECUTE_KEYS.contains(&k.as_str()) {
                return Err(unknown_key(who, "", k, EXECUTE_KEYS));
            }
        }
        let nonempty = |k: &str| -> RtResult<Option<String>> {
            match opt_str(opts, who, k)? {
                Some(s) if s.is_empty() => Err(value_error(format!(
                    "{who}: option '{k}' must not be empty"
                ))),
                other => Ok(other),
            }
        };
        let o = ExecuteOptions {
            key: nonempty("key")?,
            max_steps: opt_uint(opts, who, "max_steps", 1)?,
            max_concurrent: opt_uint(opts, who, "max_concurrent", 1)?.map(|n| n as usize),
            persist: opt_bool(opts, who, "persist")?,
            resume: nonempty("resume")?,
            replay: nonempty("replay")?,
            artifacts: dict_get(opts, "artifacts").cloned().unwrap_or(Value::Nil),
            run_id: None,
            retask: false,
        };
        let set = [
            ("key", o.key.is_some()),
            ("resume", o.resume.is_some()),
            ("replay", o.replay.is_some()),
        ];
        let given: Vec<&str> = set.iter().filter(|(_, s)| *s).map(|(n, _)| *n).collect();
        if given.len() > 1 {
            return Err(value_error(format!(
                "{who}: options {} cannot be combined (give one of key, resume, replay)",
                given.join(" and ")
            )));
        }
        Ok(o)
    }
}

/// Writes a dropped run's record as `cancelled`.
struct CancelGuard {
    env: Rc<RunEnv>,
    armed: bool,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Dropped because the program is being interrupted: resumable.
        let status = if self.env.program.interrupt.is_requested() {
            "interrupted"
        } else {
            "cancelled"
        };
        let last = self.env.last_saved.borrow_mut().take();
        if let Some(mut j) = last {
            if let Some(stages) = j.get_mut("stages").and_then(|s| s.as_array_mut()) {
                for s in stages {
                    if s.get("status").and_then(|x| x.as_str()) == Some("running") {
                        s["status"] = json!(status);
                        s["finished_at"] = json!(now());
                    }
                }
            }
            j["status"] = json!(status);
            j["finished_at"] = json!(now());
            if let Ok(rec) = RunRecord::from_json(&j) {
                save_later(&self.env, &rec);
            }
        }
        emit_run(&self.env, "run_finished", json!({"status": status}));
    }
}

/// Validates `def` into a graph or raises `value_error` with every problem.
pub fn build_graph(vm: &Vm, def: &Value, who: &str) -> RtResult<Graph> {
    let (graph, problems) = parse_graph(vm, def, who);
    if !problems.is_empty() {
        let name = graph
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_else(|| super::graph::name_of(def));
        return Err(value_error(problems_message(
            who,
            &format!("workflow '{name}'"),
            &problems,
        )));
    }
    graph.ok_or_else(|| value_error(format!("{who}: invalid workflow")))
}

/// Runs `def` on `task`.
pub async fn execute(
    vm: &mut Vm,
    task: String,
    def: &Value,
    opts: ExecuteOptions,
    who: &'static str,
) -> RtResult<RunRecord> {
    if task.trim().is_empty() {
        return Err(value_error(format!("{who}: the task must not be empty")));
    }
    let graph = Rc::new(build_graph(vm, def, who)?);
    let definition = value_json(&normalized(&graph));
    let state = registry(&vm.program);
    let reg = &state.workers;
    let store = reg.store();
    let persist = opts.persist.unwrap_or(true) && store.as_ref().is_some_and(|s| s.persist());
    if let (true, Some(s)) = (persist, &store) {
        s.ensure_writable()
            .map_err(|m| weft_vm::error::RtError::new("io_error", format!("{who}: {m}")))?;
    }

    // The workflow's context: the caller's, narrowed to the workflow policy.
    let mut ctx = vm.ctx.clone();
    let mut _alias = None;
    if let Some(req) = &graph.policy {
        let p = vm.ctx.policy.restrict(req, &vm.ctx.cwd).map_err(|e| {
            weft_vm::error::RtError::new(
                "permission_denied",
                format!("{who}: the workflow policy exceeds the caller's ceiling: {e}"),
            )
        })?;
        let p = Rc::new(p);
        _alias = Some(PolicyAlias::new(&vm.program, &vm.ctx, &p));
        ctx.policy = p;
    }
    // The run's budget scope, reserved from the caller's until it returns.
    let _scope = match &graph.budget {
        Some(limits) => {
            let scope =
                crate::budget::open_scope(vm, limits.clone(), Default::default(), false, who)?;
            ctx.budget = Some(scope.clone());
            Some(crate::budget::Scoped(scope))
        }
        None => None,
    };

    let mut replay = None;
    let mut resumed_from: Option<String> = None;
    // A workflow worker resumed after a crash names its run in both
    // `resume` and `run_id`: a record not written yet means a new run.
    let stored = match &opts.resume {
        None => None,
        Some(r) => match load(store.as_deref(), r) {
            Ok(rec) => Some(rec),
            Err(_) if opts.run_id.as_ref() == Some(r) => None,
            Err(e) => return Err(value_error(format!("{who}: resume: {}", e.message()))),
        },
    };
    let mut rec = if let Some(mut rec) = stored {
        check_same_workflow(&rec, &graph, who, "resume")?;
        if opts.retask {
            rec.task = task.clone();
            if let Some(f) = &mut rec.fingerprint {
                *f = Fingerprint::new(&task, &definition);
            }
        } else if !rec.same_task(&task) {
            return Err(value_error(format!(
                "{who}: resume: run {} was for a different task",
                rec.id
            )));
        }
        resumed_from = Some(rec.status.clone());
        rec
    } else if let Some(r) = &opts.replay {
        let src = load(store.as_deref(), r)
            .map_err(|e| value_error(format!("{who}: replay: {}", e.message())))?;
        check_same_workflow(&src, &graph, who, "replay")?;
        replay = Some(Replay::new(&src));
        let mut rec = new_record(&graph, &task, definition.clone());
        rec.replay_of = Some(src.id.clone());
        rec
    } else {
        let stored = match (&opts.key, &store) {
            (Some(k), Some(s)) if persist && !reg.fresh.get() => lookup_key(s, k).await?,
            _ => None,
        };
        match stored {
            Some(rec) => {
                if !rec.same_call(&task, &definition) {
                    return Err(value_error(format!(
                        "workflow key '{}' was used for a different task",
                        opts.key.as_deref().unwrap_or_default()
                    )));
                }
                resumed_from = Some(rec.status.clone());
                rec
            }
            None => new_record(&graph, &task, definition.clone()),
        }
    };
    if let (Some(id), None) = (&opts.run_id, &resumed_from) {
        rec.id = id.clone();
    }
    if let Some(k) = &opts.key {
        rec.key = Some(k.clone());
    }
    if !opts.artifacts.is_nil() {
        rec.artifacts = opts.artifacts.clone();
    }
    let env = Rc::new(RunEnv {
        program: vm.program.clone(),
        ctx,
        run_id: rec.id.clone(),
        task: task.clone(),
        replay,
        who,
        workflow: graph.name.clone(),
        persist,
        last_saved: Default::default(),
    });
    if let Some(k) = &opts.key {
        index_key(&env, k, &rec.id);
    }
    match &resumed_from {
        Some(from) => {
            emit_run(
                &env,
                "run_resumed",
                json!({"from": from, "pending": rec.pending}),
            );
            if from == "completed" && !opts.retask {
                return Ok(rec);
            }
            for p in &rec.pending {
                if !graph.nodes.contains_key(p) {
                    return Err(value_error(format!(
                        "{who}: run {} has pending node '{p}', which the workflow no longer has",
                        rec.id
                    )));
                }
            }
            for s in rec.stages.iter_mut().filter(|s| s.status == "running") {
                s.status = "interrupted".into();
            }
            // Fields declared since the run started begin at their default.
            for (k, f) in &graph.state {
                rec.state
                    .entry(k.clone())
                    .or_insert_with(|| f.default.clone());
            }
            // A run that crashed after its last stage finished (stages,
            // nothing pending, the final status not yet written) only has
            // to be finished; starting it over would repeat every stage.
            let finished_before_crash = from == "running" && !rec.stages.is_empty();
            if rec.pending.is_empty() && !finished_before_crash {
                rec.pending.push(graph.entry.clone());
            }
            rec.status = "running".into();
            rec.finished_at = None;
            rec.error = Value::Nil;
        }
        None => {
            rec.pending = vec![graph.entry.clone()];
            rec.state = super::state::initial(&graph.state);
            emit_run(
                &env,
                "run_started",
                json!({"task": task, "replay_of": rec.replay_of}),
            );
        }
    }
    let mut guard = CancelGuard {
        env: env.clone(),
        armed: true,
    };
    save_now(&env, &mut rec).await;
    let bounds = Bounds {
        max_steps: opts.max_steps.unwrap_or(4 * graph.nodes.len() as u64),
        max_concurrent: opts.max_concurrent.unwrap_or(DEFAULT_CONCURRENCY),
    };
    let outcome = drive(env.clone(), graph.clone(), &mut rec, &bounds).await;
    guard.armed = false;
    emit_run(
        &env,
        "run_finished",
        json!({"status": rec.status, "usage": rec.usage.to_json()}),
    );
    save_now(&env, &mut rec).await;
    if store_of(&env).is_none() {
        rec.path = None;
    }
    outcome.map(|_| rec)
}

fn new_record(graph: &Graph, task: &str, definition: serde_json::Value) -> RunRecord {
    let fingerprint = Fingerprint::new(task, &definition);
    let mut rec = RunRecord::new(
        format!("r_{}", uuid::Uuid::now_v7()),
        graph.name.clone(),
        task.to_string(),
        definition,
    );
    rec.fingerprint = Some(fingerprint);
    rec
}

fn check_same_workflow(rec: &RunRecord, graph: &Graph, who: &str, what: &str) -> RtResult<()> {
    if rec.workflow != graph.name {
        return Err(value_error(format!(
            "{who}: {what}: run {} is of workflow '{}', not '{}'",
            rec.id, rec.workflow, graph.name
        )));
    }
    Ok(())
}

/// The options argument (nil = none).
pub fn options_arg(v: Option<&Value>, who: &str) -> RtResult<ExecuteOptions> {
    match v {
        None | Some(Value::Nil) => Ok(ExecuteOptions::default()),
        Some(Value::Dict(d)) => ExecuteOptions::parse(d, who),
        Some(other) => Err(type_error(format!(
            "{who}: options must be a dict, got {}",
            other.type_name()
        ))),
    }
}
