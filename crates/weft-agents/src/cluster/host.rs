//! `weft host`'s loop: claim worker jobs from the queue (up to `slots` at
//! once), run each through the caller's runner, keep each claim alive with
//! in-progress acknowledgements while it runs, record the worker in the
//! `weft_workers` bucket by compare-and-set, and acknowledge at the end.
//!
//! - A job that cannot run here (not a job, another format, malformed
//!   payload) goes to the dead letters with the reason; the host goes on.
//! - A job whose worker already has a terminal snapshot (it finished, but
//!   its host died before acknowledging) is acknowledged without running
//!   again.
//! - A host whose final write is stale (another host took the job over
//!   after its claim lapsed) drops its result and does not acknowledge.
//! - A cancel on `weft.cancel.<worker>` stops the job within a moment.
//! - On stop (SIGTERM) the host claims nothing more and hands back the
//!   jobs it is running, so other hosts take them at once.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use weft_vm::builtins::LocalBoxFuture;

use super::checkpoints::JobCheckpoints;
use super::host_job::{JobError, JobResult};
use super::job::{cancel_subject, WorkerJob, WorkerSnapshot};
use super::remote::RemoteCluster;
use super::{ClaimedJob, StateBucket, StateWriteError};

/// A job ready to run: its worker, its job and the bundle's entry module
/// (definitions only) on this host's disk.
pub struct PreparedJob {
    pub worker_id: String,
    pub job: WorkerJob,
    pub entry: PathBuf,
    /// Where the worker's checkpoints go (and the one it resumes from).
    pub checkpoints: Rc<JobCheckpoints>,
}

/// Runs one prepared job (the CLI builds an engine per job).
pub type JobRunner =
    Rc<dyn Fn(PreparedJob) -> LocalBoxFuture<'static, Result<JobResult, JobError>>>;

/// How the host works.
pub struct HostOptions {
    /// Jobs run at once.
    pub slots: usize,
    /// The queue's ack wait (in-progress acks go out at a third of it).
    pub ack_wait: Duration,
    /// Where fetched bundles are written (definitions only).
    pub cache_dir: PathBuf,
    /// This host's name in snapshots.
    pub name: String,
    /// This host's labels (`--labels`): it also claims the labelled jobs
    /// whose labels these include.
    pub labels: super::labels::Labels,
}

/// Serves jobs until `stop` is set; then hands back running jobs.
pub async fn serve(
    remote: Rc<RemoteCluster>,
    options: HostOptions,
    runner: JobRunner,
    stop: Rc<Cell<bool>>,
) -> Result<(), String> {
    let running = Rc::new(Cell::new(0usize));
    let options = Rc::new(options);
    let mut tasks = Vec::new();
    let announcer = tokio::task::spawn_local(announce(remote.clone(), options.clone()));
    let mut labeled = Vec::new();
    let mut labeled_at = tokio::time::Instant::now();
    let mut turn = 0usize;
    while !stop.get() {
        if running.get() >= options.slots {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        // Labelled queues this host may serve (new label sets appear as
        // parents queue them): looked up every second.
        if !options.labels.is_empty() && tokio::time::Instant::now() >= labeled_at {
            labeled_at = tokio::time::Instant::now() + Duration::from_secs(1);
            match remote.labeled.consumers_for(&options.labels).await {
                Ok(c) => labeled = c,
                Err(e) => log(&e),
            }
        }
        // The unlabelled queue and each labelled one in turn.
        turn = (turn + 1) % (labeled.len() + 1);
        let claimed = if turn == 0 {
            let wait = if labeled.is_empty() { 500 } else { 100 };
            remote.queue.claim(Duration::from_millis(wait)).await?
        } else {
            remote
                .queue
                .claim_from(&labeled[turn - 1], Duration::from_millis(100))
                .await?
        };
        let Some(claimed) = claimed else {
            continue;
        };
        running.set(running.get() + 1);
        let (remote, options, runner, running2, stop) = (
            remote.clone(),
            options.clone(),
            runner.clone(),
            running.clone(),
            stop.clone(),
        );
        tasks.push(tokio::task::spawn_local(async move {
            handle(&remote, &options, &runner, claimed, &stop).await;
            running2.set(running2.get() - 1);
        }));
        tasks.retain(|t| !t.is_finished());
    }
    announcer.abort();
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Keeps this host's presence record (name, labels) alive, so parents can
/// tell whether any host may take a labelled job.
async fn announce(remote: Rc<RemoteCluster>, options: Rc<HostOptions>) {
    loop {
        if let Err(e) = remote
            .labeled
            .announce(&options.name, &options.labels)
            .await
        {
            log(&e);
        }
        tokio::time::sleep(super::labels::PRESENCE_EVERY).await;
    }
}

fn log(msg: &str) {
    eprintln!("weft host: {msg}");
}

async fn handle(
    remote: &Rc<RemoteCluster>,
    options: &HostOptions,
    runner: &JobRunner,
    claimed: ClaimedJob,
    stop: &Rc<Cell<bool>>,
) {
    let envelope = match &claimed.job {
        Ok(e) => e.clone(),
        Err(reason) => return dead_letter(&claimed, reason).await,
    };
    let job: WorkerJob = match serde_json::from_value(envelope.payload.clone()) {
        Ok(j) => j,
        Err(e) => {
            let reason = format!("job payload is not a worker job ({e})");
            return dead_letter(&claimed, &reason).await;
        }
    };
    let id = envelope.worker_id.clone();
    if !super::labels::satisfies(&options.labels, &job.labels) {
        log(&format!(
            "job {id} asks for labels {} this host does not have; handed back",
            super::labels::show(&job.labels)
        ));
        let _ = claimed.hand_back().await;
        return;
    }
    let existing = match remote.state.read(StateBucket::Workers, &id).await {
        Ok(e) => e,
        Err(e) => return log(&format!("job {id}: {e}; left for redelivery")),
    };
    let mut snapshot = WorkerSnapshot {
        id: id.clone(),
        status: "running".into(),
        host: options.name.clone(),
        deliveries: claimed.deliveries,
        envelope: serde_json::Value::Null,
        error: serde_json::Value::Null,
        mock_consumed: 0,
        checkpoint: serde_json::Value::Null,
        usage: serde_json::Value::Null,
        about: job.about.clone(),
    };
    if let Some(found) = &existing {
        match serde_json::from_value::<WorkerSnapshot>(found.value.clone()) {
            Ok(s) if s.is_terminal() => {
                // Finished before its host could acknowledge: never run twice.
                let _ = claimed.ack().await;
                return;
            }
            Ok(s) => {
                // An earlier delivery's host died (or paused): go on from
                // its last checkpoint.
                snapshot.checkpoint = s.checkpoint;
                snapshot.usage = s.usage;
                snapshot.mock_consumed = s.mock_consumed;
            }
            Err(_) => {}
        }
    }
    let revision = match write(remote, &snapshot, existing.map(|e| e.revision)).await {
        Ok(r) => r,
        Err(e) => return log(&format!("job {id}: {e}; not run here")),
    };
    let checkpoints = Rc::new(JobCheckpoints::new(
        remote.clone(),
        snapshot.clone(),
        revision,
    ));
    let resuming = if checkpoints.resuming() {
        ", resuming from its checkpoint"
    } else {
        ""
    };
    log(&format!(
        "running job {id} (delivery {}){resuming}",
        claimed.deliveries
    ));
    let outcome = run_claimed(
        remote,
        options,
        runner,
        &claimed,
        job,
        checkpoints.clone(),
        stop,
    )
    .await;
    let outcome = match outcome {
        Some(o) => o,
        None => {
            // Stopping: hand the job back for another host.
            let _ = claimed.hand_back().await;
            return;
        }
    };
    if checkpoints.lost() {
        return log(&format!(
            "job {id}: another host took this worker over; stopped here without further \
             effects and without acknowledging"
        ));
    }
    snapshot.checkpoint = serde_json::Value::Null;
    // The usage of its last checkpoint (after its last turn) stays.
    snapshot.usage = checkpoints.usage();
    match outcome {
        Ok(r) => {
            snapshot.status = r.status;
            snapshot.envelope = r.envelope;
            snapshot.error = r.error;
            snapshot.mock_consumed = r.mock_consumed;
        }
        Err((category, message)) => {
            snapshot.status = "failed".into();
            snapshot.error = serde_json::json!({"category": category, "message": message});
        }
    }
    match write(remote, &snapshot, Some(checkpoints.revision())).await {
        Ok(_) => {
            if let Err(e) = claimed.ack().await {
                log(&format!("job {id}: {e}"));
            }
        }
        Err(StateWriteError::Stale { .. }) => log(&format!(
            "job {id}: another host took this worker over; this host's result is dropped"
        )),
        Err(e) => log(&format!("job {id}: cannot record the result: {e}")),
    }
}

/// Runs the job while extending the claim and listening for a cancel.
/// `None` when the host is stopping (the job is handed back).
async fn run_claimed(
    remote: &RemoteCluster,
    options: &HostOptions,
    runner: &JobRunner,
    claimed: &ClaimedJob,
    job: WorkerJob,
    checkpoints: Rc<JobCheckpoints>,
    stop: &Rc<Cell<bool>>,
) -> Option<Result<JobResult, JobError>> {
    let id = checkpoints.worker_id();
    let id = id.as_str();
    let entry = match materialize(remote, &options.cache_dir, &job.bundle).await {
        Ok(e) => e,
        Err(e) => return Some(Err(("cluster_error".into(), e))),
    };
    let mut cancels = match remote.cluster.client().subscribe(cancel_subject(id)).await {
        Ok(s) => Some(s),
        Err(e) => {
            log(&format!("job {id}: cannot listen for cancels: {e}"));
            None
        }
    };
    let prepared = PreparedJob {
        worker_id: id.to_string(),
        job,
        entry,
        checkpoints,
    };
    let run = runner(prepared);
    tokio::pin!(run);
    let beat = (options.ack_wait / 3).max(Duration::from_millis(100));
    let mut ticker = tokio::time::interval(beat);
    ticker.tick().await;
    let mut stop_check = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            out = &mut run => return Some(out),
            _ = ticker.tick() => {
                if let Err(e) = claimed.progress().await {
                    log(&format!("job {id}: {e}"));
                }
            }
            Some(_) = async { match cancels.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                log(&format!("job {id} cancelled by its parent"));
                return Some(Ok(JobResult {
                    status: "cancelled".into(),
                    envelope: serde_json::Value::Null,
                    error: serde_json::json!({
                        "category": "cancelled",
                        "message": format!("worker {id} was cancelled"),
                    }),
                    mock_consumed: 0,
                }));
            }
            _ = stop_check.tick() => {
                if stop.get() {
                    return None;
                }
            }
        }
    }
}

async fn write(
    remote: &RemoteCluster,
    snapshot: &WorkerSnapshot,
    expected: Option<u64>,
) -> Result<u64, StateWriteError> {
    let value = serde_json::to_value(snapshot)
        .map_err(|e| StateWriteError::Failed(format!("cannot encode the snapshot: {e}")))?;
    remote
        .state
        .write(StateBucket::Workers, &snapshot.id, &value, expected)
        .await
}

async fn dead_letter(claimed: &ClaimedJob, reason: &str) {
    log(&format!("dead letter: {reason}"));
    if let Err(e) = claimed.dead_letter(reason).await {
        log(&e);
    }
}

/// Fetches bundle `hash` (cached) and writes its modules, definitions only,
/// under `cache_dir/hash/`; returns the entry module's path.
async fn materialize(
    remote: &RemoteCluster,
    cache_dir: &Path,
    hash: &str,
) -> Result<PathBuf, String> {
    let bundle = remote.bundles.get(hash).await?;
    let dir = cache_dir.join(hash);
    let entry = dir.join(&bundle.entry);
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(entry);
    }
    for (rel, source) in &bundle.modules {
        let rel_path = Path::new(rel);
        if rel_path.is_absolute()
            || rel_path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "program bundle {hash} has a module outside its directory ({rel}); refused"
            ));
        }
        let text = super::definitions::definitions_only(rel, source)?;
        let path = dir.join(rel_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    std::fs::write(&done, b"").map_err(|e| format!("cannot write {}: {e}", done.display()))?;
    Ok(entry)
}
