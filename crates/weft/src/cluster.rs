//! Cluster mode (issue 14; docs/cluster.md) for hosts and tools: connecting
//! to a NATS JetStream cluster, letting an engine place workers there
//! (`placement: "cluster"`), and the pieces `weft host` is made of — its
//! claim loop ([`serve`]) and running one job on a fresh engine
//! ([`Engine::run_cluster_job`]).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use weft_agents::cluster::remote::RemoteCluster;
use weft_agents::state::AgentState;

pub use weft_agents::cluster::host::{HostOptions, JobRunner, PreparedJob};
pub use weft_agents::cluster::host_job::{JobError, JobResult};
pub use weft_agents::cluster::labels::{Labels, parse_labels, show as show_labels};
pub use weft_agents::cluster::remote::REPLICAS;
pub use weft_agents::cluster::{CONNECT_TIMEOUT, ClusterUrls};

use crate::engine::Engine;
use crate::error::{Error, Result};

/// One connection to a cluster, shared by an engine and a host loop.
#[derive(Clone)]
pub struct ClusterConnection(Rc<RemoteCluster>);

/// Connects to the cluster at `urls` (`nats://HOST:PORT[,HOST:PORT...]`)
/// and opens its queue, bundle store and buckets. `ack_wait` is the claim
/// lifetime of a new queue (default 30 s). Unreachable servers are an
/// error naming the URLs within [`CONNECT_TIMEOUT`].
pub async fn connect(urls: &str, ack_wait: Option<Duration>) -> Result<ClusterConnection> {
    let urls = ClusterUrls::parse(urls).map_err(|m| Error::new("value_error", m))?;
    let mut queue = weft_agents::cluster::JobQueueOptions {
        replicas: REPLICAS,
        ..Default::default()
    };
    if let Some(wait) = ack_wait {
        queue.ack_wait = wait;
    }
    RemoteCluster::connect(&urls, &queue)
        .await
        .map(|r| ClusterConnection(Rc::new(r)))
        .map_err(|m| Error::new("cluster_error", m))
}

/// Checks once that the cluster at `urls` can place a stream with
/// `replicas` copies (a JetStream meta leader is elected and enough peers
/// are known): connects within [`CONNECT_TIMEOUT`], then creates and deletes
/// a throwaway stream. Servers that are up may not be usable yet; scripts
/// and tests poll this after starting a cluster.
pub async fn probe_ready(urls: &str, replicas: usize) -> Result<()> {
    let urls = ClusterUrls::parse(urls).map_err(|m| Error::new("value_error", m))?;
    let cluster = weft_agents::cluster::Cluster::connect(&urls, CONNECT_TIMEOUT)
        .await
        .map_err(|m| Error::new("cluster_error", m))?;
    weft_agents::cluster::ready::probe_replicated_write(&cluster, replicas)
        .await
        .map_err(|m| Error::new("cluster_error", m))
}

/// Claims and runs jobs until `stop` is set (see
/// `weft_agents::cluster::host`); `runner` runs one job, usually on a fresh
/// engine with [`Engine::run_cluster_job`].
pub async fn serve(
    connection: &ClusterConnection,
    options: HostOptions,
    runner: JobRunner,
    stop: Rc<Cell<bool>>,
) -> Result<()> {
    weft_agents::cluster::host::serve(connection.0.clone(), options, runner, stop)
        .await
        .map_err(|m| Error::new("cluster_error", m))
}

impl Engine {
    /// Places this engine's `placement: "cluster"` workers on `connection`.
    pub fn use_cluster(&mut self, connection: &ClusterConnection) {
        let rt = self.runtime();
        rt.program()
            .ext::<AgentState>()
            .cluster
            .set(connection.0.clone());
    }

    /// Runs one cluster job on this engine: loads the bundle's entry module
    /// (definitions only, so no top-level code runs), then runs the worker
    /// as `sub_agent_run` would, under the engine's policy as the ceiling.
    pub async fn run_cluster_job(
        &mut self,
        job: PreparedJob,
    ) -> std::result::Result<JobResult, JobError> {
        let local = self.local_set();
        let outcome = self
            .in_local_with(&local, async move |engine: &mut Engine| {
                let loaded = engine.start_run().run_main(&job.entry).await;
                if let Err(d) = loaded {
                    engine.end_run().await;
                    let e = Error::from_diagnostics(d);
                    return Ok(Err((e.category().to_string(), e.to_string())));
                }
                let out = {
                    let rt: &weft_vm::runtime::Runtime = engine.runtime();
                    let mut vm = rt.new_vm();
                    let resolve = |name: &str| rt.global(name);
                    weft_agents::cluster::host_job::run_worker_job(
                        &mut vm,
                        &resolve,
                        &job.job,
                        &job.worker_id,
                        Some(job.checkpoints.clone()),
                    )
                    .await
                };
                engine.end_run().await;
                Ok(out)
            })
            .await;
        outcome.unwrap_or_else(|e| Err((e.category().to_string(), e.message().to_string())))
    }
}

/// The worker and run records of a cluster as `weft workers --cluster` /
/// `weft runs --cluster` read them (read-only).
pub struct ClusterRecords(weft_agents::cluster::listing::ClusterRecords);

/// Connects to the cluster at `urls` to read its records. Unreachable
/// servers are the same error as for [`connect`], within
/// [`CONNECT_TIMEOUT`].
pub async fn records(urls: &str) -> Result<ClusterRecords> {
    let urls = ClusterUrls::parse(urls).map_err(|m| Error::new("value_error", m))?;
    let cluster = weft_agents::cluster::Cluster::connect(&urls, CONNECT_TIMEOUT)
        .await
        .map_err(|m| Error::new("cluster_error", m))?;
    weft_agents::cluster::listing::ClusterRecords::open(cluster, REPLICAS)
        .await
        .map(ClusterRecords)
        .map_err(|m| Error::new("cluster_error", m))
}

impl ClusterRecords {
    /// `the cluster at URLS`, for messages.
    pub fn place(&self) -> String {
        self.0.place()
    }

    /// Every record of `kind`, oldest first, shaped like the records of a
    /// state directory (`crate::tooling::worker_snapshots`); an unreadable
    /// one is an `Err` naming it.
    pub async fn list(
        &self,
        kind: crate::tooling::RecordKind,
    ) -> Result<Vec<Result<serde_json::Value>>> {
        let all = self
            .0
            .list(kind)
            .await
            .map_err(|m| Error::new("cluster_error", m))?;
        Ok(all.into_iter().map(|r| r.map_err(Error::value)).collect())
    }

    /// The record `reference` names (id, unique id prefix, key, name),
    /// resolved as in a state directory; a worker's record has its
    /// `events` from the cluster. No match (or several) is a `value_error`
    /// as locally.
    pub async fn show(
        &self,
        kind: crate::tooling::RecordKind,
        reference: &str,
    ) -> Result<serde_json::Value> {
        self.0.show(kind, reference).await.map_err(Error::value)
    }
}
