//! Cluster placement, the parent's side (`placement: "cluster"`): the
//! run's connection to the cluster ([`ClusterLink`] in `AgentState`), what
//! travels in a job ([`travel_options`]: options as JSON, functions as
//! references to top-level functions of the bundle; [`program_bundle`]:
//! the program's module sources), and one remote cycle of a worker
//! ([`run_remote_cycle`]): submit the job, wait for the host's terminal
//! snapshot in the `weft_workers` bucket, and turn it into the same
//! outcome a local cycle has. A cancelled remote cycle tells the host on
//! `weft.cancel.<worker>`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use weft_vm::value::{DictMap, Value};
use weft_vm::vm::{Program, Vm};

use super::job::{WorkerJob, WorkerSnapshot, FN_REF_KEY};
use super::{BundleStore, Cluster, ClusterState, ClusterUrls, JobEnvelope, JobQueue};
use super::{JobQueueOptions, ProgramBundle, StateBucket, CONNECT_TIMEOUT};
use crate::state::AgentState;
use crate::workers::registry::Worker;
use crate::workers::run::{error_value, failure_envelope, Outcome};
use crate::workers::Status;

/// Copies of the cluster's streams and buckets (a 3-node cluster).
pub const REPLICAS: usize = 3;

/// How often a waiting parent reads a remote worker's snapshot.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Everything a run (or a host) uses on the cluster.
pub struct RemoteCluster {
    pub cluster: Cluster,
    pub queue: JobQueue,
    pub bundles: BundleStore,
    pub state: ClusterState,
    /// Jobs that ask for host labels, and the hosts' presence.
    pub labeled: super::labels::LabeledQueue,
    /// The hash of this run's program bundle, once stored.
    bundle: RefCell<Option<String>>,
}

impl RemoteCluster {
    /// Connects (an unreachable cluster is an error naming the URLs within
    /// [`CONNECT_TIMEOUT`]) and opens the queue, bundle store and buckets.
    pub async fn connect(
        urls: &ClusterUrls,
        queue: &JobQueueOptions,
    ) -> Result<RemoteCluster, String> {
        let cluster = Cluster::connect(urls, CONNECT_TIMEOUT).await?;
        // A cluster that just started may still be electing its JetStream
        // leader: creating the streams and buckets is retried for a while.
        let deadline = tokio::time::Instant::now() + crate::store::cluster_kv::ELECTION_GRACE;
        let (jobs, bundles, state, labeled) = loop {
            let opened = async {
                let jobs = JobQueue::open(&cluster, queue).await?;
                let bundles = BundleStore::open(&cluster, queue.replicas).await?;
                let state = ClusterState::open(&cluster, queue.replicas).await?;
                let labeled =
                    super::labels::LabeledQueue::open(&cluster, queue.replicas, queue.ack_wait)
                        .await?;
                super::events::open_stream(&cluster, queue.replicas).await?;
                Ok::<_, String>((jobs, bundles, state, labeled))
            }
            .await;
            match opened {
                Ok(all) => break all,
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(RemoteCluster {
            cluster,
            queue: jobs,
            bundles,
            state,
            labeled,
            bundle: RefCell::new(None),
        })
    }

    /// Stores this program's bundle (once per run) and returns its hash.
    async fn bundle_hash(&self, program: &Program) -> Result<String, String> {
        if let Some(hash) = self.bundle.borrow().clone() {
            return Ok(hash);
        }
        let bundle = program_bundle(program)?;
        let hash = self.bundles.put(&bundle).await?;
        *self.bundle.borrow_mut() = Some(hash.clone());
        Ok(hash)
    }
}

/// The run's cluster, when `--cluster` / `WEFT_CLUSTER` (or the embedding
/// host) configured one.
#[derive(Default)]
pub struct ClusterLink {
    remote: RefCell<Option<Rc<RemoteCluster>>>,
}

impl ClusterLink {
    /// Uses `remote` for this run's `placement: "cluster"` workers.
    pub fn set(&self, remote: Rc<RemoteCluster>) {
        *self.remote.borrow_mut() = Some(remote);
    }

    /// The configured cluster, if any.
    pub fn get(&self) -> Option<Rc<RemoteCluster>> {
        self.remote.borrow().clone()
    }
}

/// Where a worker runs (`placement` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// In this process (the default).
    #[default]
    Local,
    /// On a `weft host` of the run's cluster.
    Cluster,
}

impl Placement {
    /// Parses the option's value.
    pub fn parse(v: &str, who: &str) -> Result<Placement, String> {
        match v {
            "local" => Ok(Placement::Local),
            "cluster" => Ok(Placement::Cluster),
            other => {
                let mut msg = format!(
                    "{who}: option 'placement' must be \"local\" or \"cluster\", got \"{other}\""
                );
                if let Some(s) = weft_syntax::suggest::did_you_mean(other, ["local", "cluster"]) {
                    msg.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                Err(msg)
            }
        }
    }
}

/// Parses the `placement` option: `"local"`, `"cluster"`, or
/// `{labels: {NAME: VALUE, ...}}` (the cluster, on a host with those
/// labels; values are compared as text).
pub fn parse_placement(
    v: Option<&Value>,
    who: &str,
) -> weft_vm::error::RtResult<(Placement, super::labels::Labels)> {
    use weft_vm::error::{type_error, value_error};
    let mut labels = super::labels::Labels::new();
    match v {
        None | Some(Value::Nil) => Ok((Placement::Local, labels)),
        Some(Value::Str(s)) => Ok((Placement::parse(s, who).map_err(value_error)?, labels)),
        Some(Value::Dict(d)) => {
            crate::tools::keys::check_keys(d, who, "placement", &["labels"])?;
            let Some(Value::Dict(ls)) = weft_vm::value::dict_get(d, "labels") else {
                return Err(type_error(format!(
                    "{who}: option 'placement' as a dict needs 'labels', a dict of label \
                     values, e.g. {{labels: {{gpu: \"true\"}}}}"
                )));
            };
            for (k, x) in ls.iter() {
                let text = match x {
                    Value::Str(s) => s.to_string(),
                    Value::Bool(_) | Value::Int(_) => x.to_display(),
                    other => {
                        return Err(type_error(format!(
                            "{who}: label '{k}' of option 'placement' must be a string, bool \
                             or int, got {}",
                            other.type_name()
                        )))
                    }
                };
                labels.insert(k.to_string(), text);
            }
            if labels.is_empty() {
                return Err(value_error(format!(
                    "{who}: option 'placement' has no labels; give at least one, or use \
                     placement: \"cluster\""
                )));
            }
            Ok((Placement::Cluster, labels))
        }
        Some(other) => Err(type_error(format!(
            "{who}: option 'placement' must be \"local\", \"cluster\" or {{labels: {{...}}}}, \
             got {}",
            other.type_name()
        ))),
    }
}

/// The options of a cluster worker as they travel: JSON, with each
/// function replaced by `{"$weft_fn": NAME}`, a reference to a top-level
/// function of the program. `placement` and `task` are left out. A
/// function that cannot travel is an error naming it and its option.
pub fn travel_options(vm: &Vm, opts: &DictMap, who: &str) -> Result<serde_json::Value, String> {
    let globals = vm.program.globals.borrow();
    let mut out = serde_json::Map::new();
    for (k, v) in opts.iter() {
        if matches!(k.as_str(), "task" | "placement") {
            continue;
        }
        out.insert(k.to_string(), travel_value(v, &globals, who, k)?);
    }
    Ok(serde_json::Value::Object(out))
}

fn travel_value(
    v: &Value,
    globals: &[Value],
    who: &str,
    path: &str,
) -> Result<serde_json::Value, String> {
    match v {
        Value::Func(f) => {
            let top_level = f.upvalues.is_empty()
                && globals
                    .iter()
                    .any(|g| matches!(g, Value::Func(h) if Rc::ptr_eq(f, h)));
            if top_level {
                return Ok(json!({ FN_REF_KEY: f.proto.name }));
            }
            let why = if f.upvalues.is_empty() {
                "it is not a top-level function of the program"
            } else {
                "it is a closure that captures variables of the scope it was made in"
            };
            Err(format!(
                "{who}: the function {} at option '{path}' cannot run on the cluster: {why}; \
                 only top-level functions travel (by name). Define it with `fn NAME(...)` at \
                 the top level of the script and pass its data in the task or tool arguments, \
                 or use placement: \"local\"",
                v.to_repr()
            ))
        }
        Value::Builtin(_) | Value::Task(_) | Value::Channel(_) => Err(format!(
            "{who}: the {} {} at option '{path}' cannot run on the cluster: live values and \
             builtins do not travel; wrap it in a top-level `fn`, or use placement: \"local\"",
            v.type_name(),
            v.to_repr()
        )),
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| travel_value(x, globals, who, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array),
        Value::Dict(d) => {
            let mut m = serde_json::Map::new();
            for (k, x) in d.iter() {
                m.insert(
                    k.to_string(),
                    travel_value(x, globals, who, &format!("{path}.{k}"))?,
                );
            }
            Ok(serde_json::Value::Object(m))
        }
        Value::Cell(c) => travel_value(&c.borrow(), globals, who, path),
        other => weft_vm::value::to_json(other)
            .map_err(|e| format!("{who}: option '{path}' cannot travel to the cluster: {e}")),
    }
}

/// The program's module sources: the main module (the last one loaded)
/// and every script module it imported, by their paths relative to the
/// main module's directory. Standard modules are not bundled (every host
/// has them).
pub fn program_bundle(program: &Program) -> Result<ProgramBundle, String> {
    let modules = program.modules.borrow();
    let files: Vec<_> = modules
        .iter()
        .map(|m| m.main.file.clone())
        .filter(|f| !f.name.starts_with("std/"))
        .collect();
    let entry = files
        .last()
        .ok_or_else(|| "the program has no main module to bundle".to_string())?;
    let entry_path = canonical(Path::new(&entry.name));
    let dir = entry_path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut sources = BTreeMap::new();
    for f in &files {
        let path = canonical(Path::new(&f.name));
        let rel = path.strip_prefix(&dir).map_err(|_| {
            format!(
                "module {} is outside the main module's directory {}: a cluster job bundles \
                 only modules under it",
                f.name,
                dir.display()
            )
        })?;
        sources.insert(rel.to_string_lossy().into_owned(), f.text.clone());
    }
    let entry_rel = entry_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "main.wf".to_string());
    Ok(ProgramBundle {
        entry: entry_rel,
        modules: sources,
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Tells the host running the worker to cancel it, when the parent's
/// cycle ends without the host's result (cancel_worker, shutdown).
struct CancelOnDrop {
    client: async_nats::Client,
    worker_id: String,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.client.clone();
        let subject = super::job::cancel_subject(&self.worker_id);
        handle.spawn(async move {
            let _ = client.publish(subject, "cancel".into()).await;
            let _ = client.flush().await;
        });
    }
}

/// One cycle of a cluster worker: the job goes to the queue, a host runs
/// it, and its terminal snapshot becomes this cycle's outcome.
pub async fn run_remote_cycle(program: &Rc<Program>, w: &Rc<Worker>) -> Outcome {
    match remote_cycle(program, w).await {
        Ok(o) => o,
        Err(message) => {
            let err = error_value("cluster_error", &message, None);
            Outcome::failed(failure_envelope(w, err.clone()), err)
        }
    }
}

async fn remote_cycle(program: &Rc<Program>, w: &Rc<Worker>) -> Result<Outcome, String> {
    let state = program.ext::<AgentState>();
    let remote = state.cluster.get().ok_or_else(|| {
        format!(
            "worker {} has placement \"cluster\" but the run has no cluster",
            w.id
        )
    })?;
    let opts = w.options.borrow().clone();
    let options = opts
        .remote_options
        .clone()
        .ok_or_else(|| format!("worker {} was not prepared for the cluster", w.id))?;
    let bundle = remote.bundle_hash(program).await?;
    let llm_mock = state.llm.mock.borrow().queued_sources();
    let cwd = w.ctx.borrow().cwd.display().to_string();
    let policy = weft_vm::value::to_json(&w.policy_value)
        .map_err(|e| format!("cannot encode the worker's policy: {e}"))?;
    let about = super::events::about(&state.workers, w);
    let job = WorkerJob {
        bundle,
        task: w.task.borrow().clone(),
        options,
        policy,
        cwd,
        llm_mock,
        labels: opts.labels.clone(),
        about: Some(about.clone()),
    };
    let payload = serde_json::to_value(&job).map_err(|e| format!("cannot encode the job: {e}"))?;
    let envelope = JobEnvelope::new(w.id.clone(), payload);
    // A keyed worker may already be on the cluster (its parent ran before).
    let labels = opts.labels.clone();
    // The host's events of the worker, relayed into this run as they come.
    let relay = super::events::Relay::start(&remote.cluster, program, w).await?;
    let attached = if w.key.is_some() {
        super::keyed::submit_or_attach(&remote, &envelope, &labels).await?
    } else {
        queue_job(&remote, &envelope, &labels, None).await?;
        None
    };
    let submitted = tokio::time::Instant::now();
    let mut next_check = submitted + UNMATCHED_GRACE;
    let mut cancel = CancelOnDrop {
        client: remote.cluster.client().clone(),
        worker_id: w.id.clone(),
        armed: attached.is_none(),
    };
    let snapshot = loop {
        if let Some(done) = &attached {
            break done.clone();
        }
        if let Some(found) = remote.state.read(StateBucket::Workers, &w.id).await? {
            let snap: WorkerSnapshot = serde_json::from_value(found.value).map_err(|e| {
                format!(
                    "weft_workers/{} on the cluster is not a worker snapshot ({e})",
                    w.id
                )
            })?;
            if snap.is_terminal() {
                break snap;
            }
        } else if !labels.is_empty() && tokio::time::Instant::now() >= next_check {
            // Not claimed yet: is there any host that could take it?
            next_check += Duration::from_secs(1);
            if !remote.labeled.served(&labels).await? {
                if let Some(snap) = refuse_unmatched(&remote, &w.id, &labels, &about).await? {
                    break snap;
                }
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    cancel.armed = false;
    relay.finish().await;
    record_host(w, &snapshot.host);
    state
        .llm
        .mock
        .borrow_mut()
        .drop_queued(snapshot.mock_consumed);
    let result = if snapshot.envelope.is_null() {
        Value::Nil
    } else {
        weft_vm::value::from_json(snapshot.envelope.clone())
    };
    let error = if snapshot.error.is_null() {
        Value::Nil
    } else {
        weft_vm::value::from_json(snapshot.error.clone())
    };
    let status = match snapshot.status.as_str() {
        "completed" => Status::Completed,
        "cancelled" => Status::Cancelled,
        _ => Status::Failed,
    };
    let result = if result.is_nil() && status != Status::Completed {
        failure_envelope(w, error.clone())
    } else {
        result
    };
    Ok(Outcome {
        status,
        result,
        error,
    })
}

/// Records the host that ran `w` in its `execution` (`worker_status(w)
/// .execution.host`, the snapshot's `execution`).
fn record_host(w: &Worker, host: &str) {
    let mut exec = match &*w.execution.borrow() {
        Value::Dict(d) => (**d).clone(),
        _ => DictMap::default(),
    };
    exec.insert(Rc::new("host".to_string()), Value::str(host));
    *w.execution.borrow_mut() = Value::Dict(Rc::new(exec));
}

/// How long a labelled job may wait for a host with its labels to appear.
const UNMATCHED_GRACE: Duration = Duration::from_secs(5);

/// Queues `envelope`: on the labelled queue when it asks for labels.
pub(crate) async fn queue_job(
    remote: &RemoteCluster,
    envelope: &JobEnvelope,
    labels: &super::labels::Labels,
    msg_id: Option<&str>,
) -> Result<(), String> {
    match (labels.is_empty(), msg_id) {
        (true, Some(id)) => remote.queue.submit_once(envelope, id).await,
        (true, None) => remote.queue.submit(envelope).await,
        (false, id) => remote.labeled.submit(envelope, labels, id).await,
    }
}

/// No live host has the labels worker `id`'s job asks for: record it as
/// failed (so a host that turns up later does not run it) and return that
/// record; `None` when a host claimed the job meanwhile.
async fn refuse_unmatched(
    remote: &RemoteCluster,
    id: &str,
    labels: &super::labels::Labels,
    about: &super::job::WorkerAbout,
) -> Result<Option<WorkerSnapshot>, String> {
    let found = remote.state.read(StateBucket::Workers, id).await?;
    let expected = match &found {
        Some(f) if f.value.get("status").and_then(|s| s.as_str()) != Some("queued") => {
            return Ok(None)
        }
        Some(f) => Some(f.revision),
        None => None,
    };
    let message = format!(
        "no host of the cluster has the labels {} this worker asks for (placement); start \
         one with `weft host --labels {}`, or change the worker's placement",
        super::labels::show(labels),
        super::labels::flag(labels)
    );
    let snap = WorkerSnapshot {
        id: id.to_string(),
        status: "failed".into(),
        host: String::new(),
        deliveries: 0,
        envelope: serde_json::Value::Null,
        error: json!({"category": "cluster_error", "message": message}),
        mock_consumed: 0,
        checkpoint: serde_json::Value::Null,
        usage: serde_json::Value::Null,
        about: Some(about.clone()),
    };
    let value = serde_json::to_value(&snap).map_err(|e| e.to_string())?;
    match remote
        .state
        .write(StateBucket::Workers, id, &value, expected)
        .await
    {
        Ok(_) => Ok(Some(snap)),
        Err(super::StateWriteError::Stale { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
