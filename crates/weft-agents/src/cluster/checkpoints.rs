//! Checkpoints of a cluster job's worker in the `weft_workers` bucket
//! (issue 14 point 6): the host writes the worker's checkpoint (the same
//! transcript + progress + in-flight tool records the local store writes
//! per turn, `workers/durable.rs`) into the worker's snapshot by
//! compare-and-set at every point the local store makes one durable, and a
//! host that claims a redelivered job resumes the worker from the last one,
//! exactly like a local resume. A write the cluster refuses as stale means
//! another host took the job over (this host paused past its claim): the
//! worker stops here without further effects.
//!
//! One [`JobCheckpoints`] per job, in the job engine's `AgentState`
//! ([`JobLink`]); only the job's own worker (the first top-level worker the
//! job spawns) is checkpointed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use weft_vm::error::{RtError, RtResult};
use weft_vm::vm::Program;

use super::job::WorkerSnapshot;
use super::remote::RemoteCluster;
use super::{StateBucket, StateWriteError};
use crate::state::AgentState;
use crate::workers::registry::{Usage, Worker};

/// The error category of a worker stopped because another host took its
/// job over.
pub const TAKEN_OVER: &str = "cluster_taken_over";

/// A job's checkpoint writer on its host.
pub struct JobCheckpoints {
    remote: Rc<RemoteCluster>,
    /// The record as last written (status `running`).
    snapshot: RefCell<WorkerSnapshot>,
    /// The revision of the last write: the next write's compare-and-set.
    revision: Cell<u64>,
    /// Set once a write was refused as stale.
    lost: Cell<bool>,
    /// The checkpoint a redelivered job resumes from (taken once).
    resume: RefCell<Option<serde_json::Value>>,
    /// The id of the job's worker on this host, once spawned.
    worker: RefCell<Option<String>>,
    /// `llm_mock` responses of the job queued when the worker started.
    mock_queued_at_start: Cell<usize>,
    /// `llm_mock` responses of the job earlier deliveries consumed.
    mock_consumed_before: usize,
}

impl JobCheckpoints {
    /// A writer continuing from `snapshot` at `revision` (the host's
    /// `running` write); `snapshot.checkpoint` is where a redelivered job
    /// resumes.
    pub fn new(remote: Rc<RemoteCluster>, snapshot: WorkerSnapshot, revision: u64) -> Self {
        let resume = Some(snapshot.checkpoint.clone()).filter(|c| c.is_object());
        JobCheckpoints {
            mock_consumed_before: snapshot.mock_consumed,
            remote,
            snapshot: RefCell::new(snapshot),
            revision: Cell::new(revision),
            lost: Cell::new(false),
            resume: RefCell::new(resume),
            worker: RefCell::new(None),
            mock_queued_at_start: Cell::new(0),
        }
    }

    /// The id of the job's worker (as the parent knows it).
    pub fn worker_id(&self) -> String {
        self.snapshot.borrow().id.clone()
    }

    /// The cluster the job's records go to.
    pub fn remote(&self) -> &Rc<RemoteCluster> {
        &self.remote
    }

    /// The name of the host running the job.
    pub fn host(&self) -> String {
        self.snapshot.borrow().host.clone()
    }

    /// The worker's usage as of its last checkpoint (`{input_tokens, ...}`).
    pub fn usage(&self) -> serde_json::Value {
        self.snapshot.borrow().usage.clone()
    }

    /// The revision the job's final write must compare against.
    pub fn revision(&self) -> u64 {
        self.revision.get()
    }

    /// Whether another host took the job over.
    pub fn lost(&self) -> bool {
        self.lost.get()
    }

    /// Whether the job resumes from a checkpoint of an earlier delivery.
    pub fn resuming(&self) -> bool {
        self.resume.borrow().is_some()
    }

    /// `llm_mock` responses an earlier delivery of the job consumed.
    pub fn mock_consumed_before(&self) -> usize {
        self.mock_consumed_before
    }

    /// Notes how many of the job's mock responses wait before it starts.
    pub fn set_mock_queued_at_start(&self, n: usize) {
        self.mock_queued_at_start.set(n);
    }

    /// The job's mock responses consumed so far (all deliveries).
    pub fn mock_consumed(&self, program: &Program) -> usize {
        let queued = program.ext::<AgentState>().llm.mock.borrow().queued();
        self.mock_consumed_before() + self.mock_queued_at_start.get().saturating_sub(queued)
    }

    /// Writes `checkpoint` into the job's snapshot by compare-and-set.
    /// Transient failures (no quorum while a server restarts) are retried
    /// for the election grace; a stale record marks the job lost.
    async fn save(&self, program: &Program, w: &Worker) -> Result<(), StateWriteError> {
        let mut snap = self.snapshot.borrow().clone();
        snap.checkpoint = w.checkpoint.borrow().clone();
        snap.usage = w.usage.get().to_json();
        snap.mock_consumed = self.mock_consumed(program);
        let value = serde_json::to_value(&snap)
            .map_err(|e| StateWriteError::Failed(format!("cannot encode the checkpoint: {e}")))?;
        let deadline = tokio::time::Instant::now() + crate::store::cluster_kv::ELECTION_GRACE;
        let mut retried = false;
        let state = &self.remote.state;
        let revision = loop {
            match state
                .write(
                    StateBucket::Workers,
                    &snap.id,
                    &value,
                    Some(self.revision.get()),
                )
                .await
            {
                Ok(r) => break r,
                Err(StateWriteError::Stale { .. }) if retried => {
                    // An earlier attempt may have been written after all
                    // (its reply was lost): then the record is ours.
                    match state.read(StateBucket::Workers, &snap.id).await {
                        Ok(Some(found)) if found.value == value => break found.revision,
                        _ => return Err(self.mark_lost(&snap.id)),
                    }
                }
                Err(StateWriteError::Stale { .. }) => return Err(self.mark_lost(&snap.id)),
                Err(StateWriteError::Failed(why)) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(StateWriteError::Failed(why));
                    }
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        self.revision.set(revision);
        *self.snapshot.borrow_mut() = snap;
        Ok(())
    }

    fn mark_lost(&self, id: &str) -> StateWriteError {
        self.lost.set(true);
        StateWriteError::Stale {
            bucket: StateBucket::Workers.bucket_name(),
            key: id.to_string(),
            expected: Some(self.revision.get()),
        }
    }
}

/// The job a host's engine runs, if it runs one.
#[derive(Default)]
pub struct JobLink {
    job: RefCell<Option<Rc<JobCheckpoints>>>,
}

impl JobLink {
    /// This engine runs the job `checkpoints` belongs to.
    pub fn set(&self, checkpoints: Rc<JobCheckpoints>) {
        *self.job.borrow_mut() = Some(checkpoints);
    }

    fn get(&self) -> Option<Rc<JobCheckpoints>> {
        self.job.borrow().clone()
    }
}

/// Called when a worker is spawned: the job's worker (the first top-level
/// one) is bound to the job and gets the checkpoint of an earlier delivery
/// to resume from, with the usage that checkpoint accounts for.
pub fn adopt(program: &Program, w: &Worker) -> Option<serde_json::Value> {
    if w.parent_id.is_some() {
        return None;
    }
    let job = program.ext::<AgentState>().cluster_job.get()?;
    if job.worker.borrow().is_some() {
        return None;
    }
    *job.worker.borrow_mut() = Some(w.id.clone());
    let cp = job.resume.borrow_mut().take()?;
    let (_, progress) = crate::workers::durable::progress_from_checkpoint(&cp);
    w.usage.set(Usage {
        input_tokens: progress.input_tokens,
        output_tokens: progress.output_tokens,
        iterations: progress.iterations,
        tool_calls: progress.tool_calls.len() as u64,
    });
    *w.checkpoint.borrow_mut() = cp.clone();
    Some(cp)
}

/// The job of `w`, when `w` is the worker of the job this engine runs.
fn job_of(program: &Program, w: &Worker) -> Option<Rc<JobCheckpoints>> {
    let job = program.ext::<AgentState>().cluster_job.get()?;
    let mine = job.worker.borrow().as_deref() == Some(w.id.as_str());
    mine.then_some(job)
}

/// Makes `w`'s checkpoint durable on the cluster when `w` is a cluster
/// job's worker (nothing otherwise). An error stops the worker before its
/// next effect: another host took the job over, or the cluster could not
/// take the write within the election grace.
pub async fn save(program: &Program, w: &Worker) -> RtResult<()> {
    let Some(job) = job_of(program, w) else {
        return Ok(());
    };
    if job.lost() {
        return Err(taken_over(w));
    }
    match job.save(program, w).await {
        Ok(()) => Ok(()),
        Err(StateWriteError::Stale { .. }) => Err(taken_over(w)),
        Err(StateWriteError::Failed(why)) => Err(RtError::new(
            "cluster_error",
            format!(
                "worker {}: cannot write its checkpoint to the cluster ({why}); stopped \
                 before its next step so that no effect goes unrecorded",
                w.id
            ),
        )),
    }
}

/// Whether `w` is a job's worker whose job another host took over.
pub fn lost(program: &Program, w: &Worker) -> bool {
    job_of(program, w).is_some_and(|j| j.lost())
}

fn taken_over(w: &Worker) -> Box<RtError> {
    RtError::new(
        TAKEN_OVER,
        format!(
            "worker {}: another host took this job over (its claim lapsed); stopped here \
             without further effects",
            w.id
        ),
    )
}
