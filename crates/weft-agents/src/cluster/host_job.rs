//! Running one worker job on a host, inside a program that has loaded the
//! bundle's definitions (`definitions.rs`): the options come back from
//! JSON with function references resolved to the bundle's top-level
//! functions, the parent's `llm_mock` responses are queued, and the worker
//! runs exactly as `sub_agent_run` runs it locally — under the job's
//! policy narrowed by the host's own ceiling (the program's root policy),
//! so a job asking more than the host allows is refused.

use std::rc::Rc;

use weft_vm::policy::parse_policy_request;
use weft_vm::value::{from_json, DictMap, Value};
use weft_vm::vm::Vm;

use super::checkpoints::JobCheckpoints;
use super::events::HostEvents;
use super::job::{WorkerJob, FN_REF_KEY};
use crate::state::AgentState;
use crate::workers::options::value_json;

/// What a finished job reports back (it becomes the worker's snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct JobResult {
    /// `completed`, `failed` or `cancelled`.
    pub status: String,
    pub envelope: serde_json::Value,
    pub error: serde_json::Value,
    pub mock_consumed: usize,
}

/// Why a job could not run: `(category, message)`.
pub type JobError = (String, String);

/// Runs `job` as worker `worker_id` on `vm`; `resolve` finds a top-level
/// function of the bundle by name. With `checkpoints` (a host's job) the
/// worker's checkpoints go to the cluster and a redelivered job resumes
/// from the last one (`checkpoints.rs`).
pub async fn run_worker_job(
    vm: &mut Vm,
    resolve: &dyn Fn(&str) -> Option<Value>,
    job: &WorkerJob,
    worker_id: &str,
    checkpoints: Option<Rc<JobCheckpoints>>,
) -> Result<JobResult, JobError> {
    const WHO: &str = "sub_agent_run";
    let serde_json::Value::Object(options) = &job.options else {
        return Err(bad_job("the job's options are not a dict"));
    };
    let mut opts = DictMap::default();
    for (k, v) in options {
        if matches!(
            k.as_str(),
            "policy" | "allowed_tools" | "placement" | "task"
        ) {
            continue;
        }
        opts.insert(Rc::new(k.clone()), rebuild(v, resolve)?);
    }
    let cwd = std::path::PathBuf::from(&job.cwd);
    if !cwd.is_dir() {
        return Err((
            "io_error".into(),
            format!(
                "the worker's working directory {} does not exist on this host",
                cwd.display()
            ),
        ));
    }
    // The job's policy (the parent's narrowing) cut down by this host's
    // ceiling (the program's root policy); the delegation depth is the job's.
    let request = parse_policy_request(&from_json(job.policy.clone()), "cluster job")
        .map_err(|e| bad_job(&e))?;
    let mut ceiling = (*vm.ctx.policy).clone();
    ceiling.max_depth = u32::MAX;
    let (mut narrowed, _cut) = ceiling.narrow(&request, &cwd);
    opts.insert(Rc::new("policy".to_string()), narrowed.to_value());
    narrowed.max_depth = narrowed.max_depth.saturating_add(1);
    vm.ctx.policy = Rc::new(narrowed);
    vm.ctx.cwd = cwd;
    let state = vm.program.ext::<AgentState>();
    {
        let mut mock = state.llm.mock.borrow_mut();
        for source in &job.llm_mock {
            let serde_json::Value::Object(_) = source else {
                return Err(bad_job("an llm_mock response of the job is not a dict"));
            };
            let value = from_json(source.clone());
            let Value::Dict(d) = &value else {
                return Err(bad_job("an llm_mock response of the job is not a dict"));
            };
            let r = crate::mock_builtins::parse_mock_response(d)
                .map_err(|e| bad_job(&format!("llm_mock response: {}", e.message())))?;
            mock.scripted = true;
            mock.push(r);
        }
    }
    if let Some(cp) = &checkpoints {
        // The responses an earlier delivery consumed are not answered again.
        state
            .llm
            .mock
            .borrow_mut()
            .drop_queued(cp.mock_consumed_before());
        cp.set_mock_queued_at_start(state.llm.mock.borrow().queued());
        state.cluster_job.set(cp.clone());
    }
    let queued = state.llm.mock.borrow().queued();
    let parsed =
        crate::workers::options::parse_worker_options(vm, Some(job.task.clone()), &opts, WHO)
            .map_err(|e| (e.category().to_string(), e.message().to_string()))?;
    // A host's job publishes its workers' events for the parent (`events.rs`).
    let events = checkpoints.as_ref().map(|cp| {
        let js = cp.remote().cluster.jetstream().clone();
        HostEvents::install(&vm.program, js, worker_id, job.about.as_ref(), &cp.host())
    });
    let ran = crate::workers::builtins::run_foreground(vm, parsed, WHO).await;
    if let Some(events) = events {
        events.finish().await;
    }
    let (worker, envelope) =
        ran.map_err(|e| (e.category().to_string(), e.message().to_string()))?;
    let mock_consumed = match &checkpoints {
        Some(cp) => cp.mock_consumed(&vm.program),
        None => queued.saturating_sub(state.llm.mock.borrow().queued()),
    };
    let mut envelope = value_json(&envelope);
    if let Some(obj) = envelope.as_object_mut() {
        obj.insert("worker_id".into(), worker_id.into());
    }
    let error = value_json(&worker.error.borrow());
    Ok(JobResult {
        status: worker.status().name().to_string(),
        envelope,
        error,
        mock_consumed,
    })
}

fn bad_job(why: &str) -> JobError {
    ("value_error".into(), format!("malformed job: {why}"))
}

/// A travelling JSON value back as a Weft value, `{"$weft_fn": NAME}`
/// resolved to the bundle's function.
fn rebuild(
    v: &serde_json::Value,
    resolve: &dyn Fn(&str) -> Option<Value>,
) -> Result<Value, JobError> {
    match v {
        serde_json::Value::Object(m) => {
            if let (1, Some(serde_json::Value::String(name))) = (m.len(), m.get(FN_REF_KEY)) {
                return match resolve(name) {
                    Some(f) if f.is_callable() => Ok(f),
                    _ => Err((
                        "value_error".into(),
                        format!(
                            "the job refers to function {name}, which is not a top-level \
                             function of its program bundle"
                        ),
                    )),
                };
            }
            let mut d = DictMap::default();
            for (k, x) in m {
                d.insert(Rc::new(k.clone()), rebuild(x, resolve)?);
            }
            Ok(Value::dict(d))
        }
        serde_json::Value::Array(items) => Ok(Value::list(
            items
                .iter()
                .map(|x| rebuild(x, resolve))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        other => Ok(from_json(other.clone())),
    }
}
