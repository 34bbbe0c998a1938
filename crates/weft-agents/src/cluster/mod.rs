//! Cluster mode's connection to NATS JetStream (issue 14): parsing the
//! `--cluster` URL list, connecting with a bounded wait and an error that
//! names the URL, and creating the streams and buckets the cluster uses.
//!
//! What lives where on the cluster (all names are fixed, so every host and
//! every `weft run` of one cluster agree without configuration):
//!
//! | resource | kind | job |
//! |---|---|---|
//! | `WEFT_JOBS` (subjects `weft.jobs.>`) | work-queue stream | worker jobs; hosts claim them through the durable pull consumer `hosts` ([`jobs`]) |
//! | `weft_bundles` | object store | program bundles by content hash ([`bundle`]) |
//! | `WEFT_DEAD` (subjects `weft.dead.>`) | stream | jobs a host could not accept, with the reason ([`jobs`]) |
//! | `WEFT_LABELED_JOBS` (subjects `weft.ljobs.<label set>.>`) | work-queue stream | jobs asking for host labels, one consumer per label set ([`labels`]) |
//! | `weft_hosts` | KV bucket (10 s TTL) | hosts' presence and labels ([`labels`]) |
//! | `WEFT_EVENTS` (subjects `weft.events.<run-or-root>.<worker>`) | stream (24 h, 1 GiB) | worker events published by hosts, relayed into the parent run ([`events`]) |
//! | `weft_workers`, `weft_runs`, `weft_keys` | KV buckets | worker snapshots, run records, the `key` index; every write is a compare-and-set (`store/cluster_kv.rs`, the store module's cluster backend) |
//!
//! Streams and buckets are created with `replicas` copies (3 on a 3-node
//! cluster), so the loss of one server loses nothing.

pub mod bundle;
pub mod checkpoints;
pub mod definitions;
pub mod events;
pub mod host;
pub mod host_job;
pub mod job;
pub mod jobs;
pub mod keyed;
pub mod labels;
pub mod listing;
pub mod ready;
pub mod remote;
pub mod run_mirror;
pub mod scan;

use std::time::Duration;

use async_nats::jetstream;

pub use crate::store::cluster_kv::{ClusterState, StateBucket, StateWriteError, Versioned};
pub use bundle::{BundleStore, ProgramBundle};
pub use jobs::{ClaimedJob, JobEnvelope, JobQueue, JobQueueOptions, JOB_FORMAT_VERSION};

/// How long connecting (and the JetStream check after it) may take before
/// the cluster counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The servers of one `--cluster` / `WEFT_CLUSTER` value, as written
/// (`nats://HOST:PORT`, or `HOST:PORT` which means the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterUrls {
    urls: Vec<String>,
}

impl ClusterUrls {
    /// Parses `nats://HOST:PORT[,HOST:PORT...]`. Errors say which entry is
    /// wrong and what was expected.
    pub fn parse(spec: &str) -> Result<ClusterUrls, String> {
        let mut urls = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "cluster URL list `{spec}` has an empty entry; expected \
                     nats://HOST:PORT[,HOST:PORT...]"
                ));
            }
            let url = if part.contains("://") {
                part.to_string()
            } else {
                format!("nats://{part}")
            };
            let addr: async_nats::ServerAddr = url.parse().map_err(|e| {
                format!("cluster URL `{part}` is not valid ({e}); expected nats://HOST:PORT")
            })?;
            if !matches!(addr.into_inner().scheme(), "nats" | "tls") {
                return Err(format!(
                    "cluster URL `{part}` has an unsupported scheme; expected nats://HOST:PORT"
                ));
            }
            urls.push(url);
        }
        Ok(ClusterUrls { urls })
    }

    /// The URLs, normalised to `nats://…`.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The list as one string, for messages.
    pub fn display(&self) -> String {
        self.urls.join(",")
    }
}

/// One connection to the cluster and its JetStream context.
#[derive(Clone)]
pub struct Cluster {
    client: async_nats::Client,
    js: jetstream::Context,
    urls: ClusterUrls,
}

impl Cluster {
    /// Connects and checks that JetStream answers, within `timeout`
    /// ([`CONNECT_TIMEOUT`] for users). An unreachable cluster is an error
    /// naming the URLs; nothing waits longer than `timeout`.
    pub async fn connect(urls: &ClusterUrls, timeout: Duration) -> Result<Cluster, String> {
        let unreachable = |why: String| {
            format!(
                "cannot reach the cluster at {}: {why}; expected running NATS servers with \
                 JetStream enabled (scripts/nats/cluster.sh start DIR starts a local one)",
                urls.display()
            )
        };
        let addrs: Vec<async_nats::ServerAddr> = urls
            .urls
            .iter()
            .map(|u| u.parse().expect("validated by ClusterUrls::parse"))
            .collect();
        let attempt = async {
            let client = async_nats::ConnectOptions::new()
                .connection_timeout(timeout)
                .name("weft")
                .connect(addrs)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            let js = jetstream::new(client.clone());
            js.query_account().await.map_err(|e| {
                unreachable(format!("the servers answered but JetStream did not ({e})"))
            })?;
            Ok(Cluster {
                client,
                js,
                urls: urls.clone(),
            })
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(unreachable(format!(
                "no answer within {} s",
                timeout.as_secs_f64()
            ))),
        }
    }

    /// The JetStream context (streams, consumers, buckets).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// The plain NATS client (publish/subscribe).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The URLs this connection was made to.
    pub fn urls(&self) -> &ClusterUrls {
        &self.urls
    }
}
