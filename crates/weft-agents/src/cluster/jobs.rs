//! The cluster's job queue: worker jobs on the JetStream work-queue stream
//! `WEFT_JOBS`, claimed by hosts through the durable pull consumer `hosts`.
//!
//! A claimed job stays claimed while its host sends in-progress
//! acknowledgements ([`ClaimedJob::progress`]); it leaves the queue on
//! [`ClaimedJob::ack`]; [`ClaimedJob::hand_back`] returns it at once, and a
//! host that dies simply stops acknowledging, so the server redelivers the
//! job to another host after the ack wait. A job a host cannot accept (not
//! JSON, not a job, made by an incompatible Weft) goes to the dead-letter
//! stream `WEFT_DEAD` with the reason ([`ClaimedJob::dead_letter`]) and is
//! removed from the queue; the host keeps running.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ready::{retry_while_starting, STARTUP_GRACE};
use super::Cluster;

/// The job format this build writes and accepts; a job with another
/// version is refused (dead-lettered) with a reason naming both.
pub const JOB_FORMAT_VERSION: u32 = 1;

const JOBS_STREAM: &str = "WEFT_JOBS";
const DEAD_STREAM: &str = "WEFT_DEAD";
const HOSTS_CONSUMER: &str = "hosts";
/// Header carrying a dead letter's reason.
pub const DEAD_REASON_HEADER: &str = "Weft-Dead-Reason";

/// One worker job as it travels: who it is for and what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobEnvelope {
    /// [`JOB_FORMAT_VERSION`] of the Weft that wrote it.
    pub format: u32,
    /// The Weft version that wrote it, for messages.
    pub weft_version: String,
    /// The worker the job runs.
    pub worker_id: String,
    /// The job's content (task, options, bundle hash, mock responses).
    pub payload: Value,
}

impl JobEnvelope {
    /// A job of this build's format for `worker_id`.
    pub fn new(worker_id: impl Into<String>, payload: Value) -> JobEnvelope {
        JobEnvelope {
            format: JOB_FORMAT_VERSION,
            weft_version: env!("CARGO_PKG_VERSION").to_string(),
            worker_id: worker_id.into(),
            payload,
        }
    }

    /// Decodes a job message, or says why it is not one this host can run.
    pub fn decode(bytes: &[u8]) -> Result<JobEnvelope, String> {
        let raw: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("job message is not JSON ({e}); expected a Weft job"))?;
        if let Some(format) = raw.get("format").and_then(Value::as_u64) {
            if format != u64::from(JOB_FORMAT_VERSION) {
                let writer = raw
                    .get("weft_version")
                    .and_then(Value::as_str)
                    .unwrap_or("an unknown version");
                return Err(format!(
                    "job format {format} (written by Weft {writer}) is not supported by this \
                     host (Weft {}, job format {JOB_FORMAT_VERSION}); run hosts and `weft run` \
                     of the same Weft version",
                    env!("CARGO_PKG_VERSION")
                ));
            }
        }
        serde_json::from_value(raw).map_err(|e| {
            format!(
                "job message is not a Weft job ({e}); expected fields format, weft_version, \
                 worker_id, payload"
            )
        })
    }
}

/// Settings of the queue.
#[derive(Debug, Clone)]
pub struct JobQueueOptions {
    /// Copies of the streams (3 on a 3-node cluster).
    pub replicas: usize,
    /// How long a claim lasts without an in-progress acknowledgement
    /// before the server hands the job to another host.
    pub ack_wait: Duration,
}

impl Default for JobQueueOptions {
    fn default() -> Self {
        JobQueueOptions {
            replicas: 3,
            ack_wait: Duration::from_secs(30),
        }
    }
}

/// Submitting and claiming jobs.
#[derive(Clone)]
pub struct JobQueue {
    js: jetstream::Context,
    consumer: consumer::PullConsumer,
}

impl JobQueue {
    /// Opens the queue, creating the streams and the `hosts` consumer when
    /// missing (an existing consumer keeps its settings).
    pub async fn open(cluster: &Cluster, options: &JobQueueOptions) -> Result<JobQueue, String> {
        let js = cluster.jetstream().clone();
        // The first creations on a cluster that is still electing its meta
        // leader fail with "no responders" / "temporarily unavailable":
        // retried for a bounded time (`ready.rs`).
        let js_ref = &js;
        let replicas = options.replicas;
        let jobs = retry_while_starting(STARTUP_GRACE, move || async move {
            js_ref
                .get_or_create_stream(stream::Config {
                    name: JOBS_STREAM.to_string(),
                    subjects: vec!["weft.jobs.>".to_string()],
                    retention: stream::RetentionPolicy::WorkQueue,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot create stream {JOBS_STREAM} on the cluster: {e}"))
        })
        .await?;
        retry_while_starting(STARTUP_GRACE, move || async move {
            js_ref
                .get_or_create_stream(stream::Config {
                    name: DEAD_STREAM.to_string(),
                    subjects: vec!["weft.dead.>".to_string()],
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot create stream {DEAD_STREAM} on the cluster: {e}"))
        })
        .await?;
        let jobs_ref = &jobs;
        let ack_wait = options.ack_wait;
        let consumer = retry_while_starting(STARTUP_GRACE, move || async move {
            jobs_ref
                .get_or_create_consumer(
                    HOSTS_CONSUMER,
                    consumer::pull::Config {
                        durable_name: Some(HOSTS_CONSUMER.to_string()),
                        ack_policy: consumer::AckPolicy::Explicit,
                        ack_wait,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| format!("cannot create consumer {HOSTS_CONSUMER} on the cluster: {e}"))
        })
        .await?;
        Ok(JobQueue { js, consumer })
    }

    /// Puts a job on the queue; returns once the stream stored it.
    pub async fn submit(&self, job: &JobEnvelope) -> Result<(), String> {
        let bytes = serde_json::to_vec(job).map_err(|e| format!("cannot encode job: {e}"))?;
        self.submit_raw(&job.worker_id, bytes).await
    }

    /// Puts a job on the queue under the message id `msg_id`: the stream
    /// drops a second job with the same id within its duplicate window
    /// (2 minutes), so a parent that re-submits after a crash does not
    /// queue the job twice.
    pub async fn submit_once(&self, job: &JobEnvelope, msg_id: &str) -> Result<(), String> {
        let bytes = serde_json::to_vec(job).map_err(|e| format!("cannot encode job: {e}"))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, msg_id);
        let id = &job.worker_id;
        let ack = self
            .js
            .publish_with_headers(format!("weft.jobs.{id}"), headers, bytes.into())
            .await
            .map_err(|e| format!("cannot submit job for {id}: {e}"))?;
        ack.await
            .map_err(|e| format!("the cluster did not store the job for {id}: {e}"))?;
        Ok(())
    }

    /// Puts raw bytes on the queue under `weft.jobs.<worker>` (tests use it
    /// for malformed jobs).
    pub async fn submit_raw(&self, worker_id: &str, bytes: Vec<u8>) -> Result<(), String> {
        let ack = self
            .js
            .publish(format!("weft.jobs.{worker_id}"), bytes.into())
            .await
            .map_err(|e| format!("cannot submit job for {worker_id}: {e}"))?;
        ack.await
            .map_err(|e| format!("the cluster did not store the job for {worker_id}: {e}"))?;
        Ok(())
    }

    /// Claims the next job, waiting up to `wait`; `None` if none came.
    pub async fn claim(&self, wait: Duration) -> Result<Option<ClaimedJob>, String> {
        self.claim_from(&self.consumer, wait).await
    }

    /// Claims the next job of `consumer` (a labelled queue's), waiting up
    /// to `wait`.
    pub async fn claim_from(
        &self,
        consumer: &consumer::PullConsumer,
        wait: Duration,
    ) -> Result<Option<ClaimedJob>, String> {
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(wait)
            .messages()
            .await
            .map_err(|e| format!("cannot claim a job: {e}"))?;
        match batch.next().await {
            None => Ok(None),
            Some(Err(e)) => Err(format!("cannot claim a job: {e}")),
            Some(Ok(message)) => {
                let deliveries = message.info().map(|i| i.delivered).unwrap_or(1);
                Ok(Some(ClaimedJob {
                    job: JobEnvelope::decode(&message.payload),
                    deliveries,
                    message,
                    js: self.js.clone(),
                }))
            }
        }
    }

    /// Jobs in the dead-letter stream so far, oldest first, as
    /// `(payload, reason)`.
    pub async fn dead_letters(&self) -> Result<Vec<(Vec<u8>, String)>, String> {
        let dead = self
            .js
            .get_stream(DEAD_STREAM)
            .await
            .map_err(|e| format!("cannot open stream {DEAD_STREAM}: {e}"))?;
        let last = dead
            .get_info()
            .await
            .map_err(|e| format!("cannot read stream {DEAD_STREAM}: {e}"))?
            .state
            .last_sequence;
        let mut out = Vec::new();
        for seq in 1..=last {
            let Ok(msg) = dead.get_raw_message(seq).await else {
                continue;
            };
            let reason = msg
                .headers
                .get(DEAD_REASON_HEADER)
                .map(|v| v.to_string())
                .unwrap_or_default();
            out.push((msg.payload.to_vec(), reason));
        }
        Ok(out)
    }
}

/// A job this host holds the claim of.
pub struct ClaimedJob {
    /// The decoded job, or why it cannot run here (then: [`Self::dead_letter`]).
    pub job: Result<JobEnvelope, String>,
    /// How often the server has delivered it (2+ means a host lost it).
    pub deliveries: i64,
    message: jetstream::Message,
    js: jetstream::Context,
}

impl ClaimedJob {
    /// Extends the claim by another ack wait (call while the job runs).
    pub async fn progress(&self) -> Result<(), String> {
        self.message
            .ack_with(jetstream::AckKind::Progress)
            .await
            .map_err(|e| format!("cannot extend the claim: {e}"))
    }

    /// The job is done: it leaves the queue (waits for the server's word).
    pub async fn ack(&self) -> Result<(), String> {
        self.message
            .double_ack()
            .await
            .map_err(|e| format!("cannot acknowledge the job: {e}"))
    }

    /// Gives the job back for another host to claim now.
    pub async fn hand_back(&self) -> Result<(), String> {
        self.message
            .ack_with(jetstream::AckKind::Nak(None))
            .await
            .map_err(|e| format!("cannot hand the job back: {e}"))
    }

    /// Moves the job to `WEFT_DEAD` with `reason` and removes it from the queue.
    pub async fn dead_letter(&self, reason: &str) -> Result<(), String> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(DEAD_REASON_HEADER, one_line(reason).as_str());
        let subject = self.message.subject.replace("weft.jobs.", "weft.dead.");
        let ack = self
            .js
            .publish_with_headers(subject, headers, self.message.payload.clone())
            .await
            .map_err(|e| format!("cannot dead-letter the job: {e}"))?;
        ack.await
            .map_err(|e| format!("the cluster did not store the dead letter: {e}"))?;
        self.message
            .ack_with(jetstream::AckKind::Term)
            .await
            .map_err(|e| format!("cannot remove the dead job from the queue: {e}"))
    }
}

/// Header values are one line.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}
