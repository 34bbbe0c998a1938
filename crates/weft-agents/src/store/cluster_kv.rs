//! Durable state on the cluster (the store's JetStream backend, issue 14): worker snapshots, run records and the
//! `key` index in JetStream KV buckets. Every write of an existing record
//! is a compare-and-set on the revision its writer last saw, so a host
//! that lost its claim (a zombie after a network pause) cannot overwrite
//! newer state: its write fails with [`StateWriteError::Stale`] and it must
//! stop that worker.

use std::time::Duration;

use async_nats::jetstream::kv;
use serde_json::Value;

use crate::cluster::ready::{retry_while_starting, STARTUP_GRACE};
use crate::cluster::Cluster;

/// How long a read keeps retrying while a bucket has no stream leader.
/// JetStream elects a new one within a few seconds of losing a server.
pub const ELECTION_GRACE: Duration = Duration::from_secs(15);

/// The buckets of [`ClusterState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateBucket {
    /// Worker snapshots, by worker id.
    Workers,
    /// Workflow run records, by run id.
    Runs,
    /// The `key` index: durable key → worker or run id.
    Keys,
}

impl StateBucket {
    /// The KV bucket's name on the cluster.
    pub fn bucket_name(self) -> &'static str {
        match self {
            StateBucket::Workers => "weft_workers",
            StateBucket::Runs => "weft_runs",
            StateBucket::Keys => "weft_keys",
        }
    }
}

/// A record as read, with the revision a later write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub value: Value,
    pub revision: u64,
}

/// One record of a bucket as [`ClusterState::list`] finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub key: String,
    pub value: Value,
    pub revision: u64,
    /// When this revision was written (the server's time, RFC 3339).
    pub written_at: Option<String>,
}

/// Why a write did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateWriteError {
    /// Someone else wrote the record since `expected` (or created it first):
    /// the writer's view is out of date and it must not continue.
    Stale {
        bucket: &'static str,
        key: String,
        expected: Option<u64>,
    },
    /// The cluster did not take the write (unreachable, no quorum, bad key).
    Failed(String),
}

impl std::fmt::Display for StateWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateWriteError::Stale {
                bucket,
                key,
                expected: Some(rev),
            } => write!(
                f,
                "{bucket}/{key} changed since revision {rev}: another host owns it now"
            ),
            StateWriteError::Stale {
                bucket,
                key,
                expected: None,
            } => write!(
                f,
                "{bucket}/{key} already exists: another writer created it"
            ),
            StateWriteError::Failed(why) => f.write_str(why),
        }
    }
}

/// Handles on the three state buckets.
#[derive(Clone)]
pub struct ClusterState {
    workers: kv::Store,
    runs: kv::Store,
    keys: kv::Store,
}

impl ClusterState {
    /// Opens the buckets, creating them with `replicas` copies when missing.
    pub async fn open(cluster: &Cluster, replicas: usize) -> Result<ClusterState, String> {
        // A cluster that is still starting answers "no responders" or
        // "temporarily unavailable" for a while: retried (bounded).
        let open = |bucket: StateBucket| {
            retry_while_starting(STARTUP_GRACE, move || async move {
                let js = cluster.jetstream();
                let name = bucket.bucket_name();
                if let Ok(store) = js.get_key_value(name).await {
                    return Ok(store);
                }
                js.create_key_value(kv::Config {
                    bucket: name.to_string(),
                    history: 1,
                    num_replicas: replicas,
                    storage: async_nats::jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot create KV bucket {name} on the cluster: {e}"))
            })
        };
        Ok(ClusterState {
            workers: open(StateBucket::Workers).await?,
            runs: open(StateBucket::Runs).await?,
            keys: open(StateBucket::Keys).await?,
        })
    }

    fn store(&self, bucket: StateBucket) -> &kv::Store {
        match bucket {
            StateBucket::Workers => &self.workers,
            StateBucket::Runs => &self.runs,
            StateBucket::Keys => &self.keys,
        }
    }

    /// Reads a record; `None` when it does not exist (or was deleted).
    ///
    /// Reads are idempotent, so one that finds no stream leader (a server
    /// died and the bucket's replicas are electing a new one: "no
    /// responders", a timeout) is retried for up to [`ELECTION_GRACE`]
    /// before the error is returned.
    pub async fn read(&self, bucket: StateBucket, key: &str) -> Result<Option<Versioned>, String> {
        let name = bucket.bucket_name();
        let deadline = tokio::time::Instant::now() + ELECTION_GRACE;
        let entry = loop {
            match self.store(bucket).entry(key).await {
                Ok(entry) => break entry,
                Err(e)
                    if !matches!(e.kind(), kv::EntryErrorKind::InvalidKey)
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(format!("cannot read {name}/{key} from the cluster: {e}")),
            }
        };
        let Some(entry) = entry else { return Ok(None) };
        if !matches!(entry.operation, kv::Operation::Put) {
            return Ok(None);
        }
        let value = serde_json::from_slice(&entry.value).map_err(|e| {
            format!("{name}/{key} on the cluster is not JSON ({e}); expected a Weft record")
        })?;
        Ok(Some(Versioned {
            value,
            revision: entry.revision,
        }))
    }

    /// Writes `value` if the record is still at `expected` (`None`: only if
    /// it does not exist yet). Returns the new revision; a newer record
    /// makes it [`StateWriteError::Stale`] and changes nothing.
    pub async fn write(
        &self,
        bucket: StateBucket,
        key: &str,
        value: &Value,
        expected: Option<u64>,
    ) -> Result<u64, StateWriteError> {
        let name = bucket.bucket_name();
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StateWriteError::Failed(format!("cannot encode {name}/{key}: {e}")))?;
        let stale = || StateWriteError::Stale {
            bucket: name,
            key: key.to_string(),
            expected,
        };
        let store = self.store(bucket);
        match expected {
            None => store
                .create(key, bytes.into())
                .await
                .map_err(|e| match e.kind() {
                    kv::CreateErrorKind::AlreadyExists => stale(),
                    _ => StateWriteError::Failed(format!("cannot write {name}/{key}: {e}")),
                }),
            Some(rev) => store
                .update(key, bytes.into(), rev)
                .await
                .map_err(|e| match e.kind() {
                    kv::UpdateErrorKind::WrongLastRevision => stale(),
                    _ => StateWriteError::Failed(format!("cannot write {name}/{key}: {e}")),
                }),
        }
    }

    /// Every record of `bucket` (its latest revision; deleted ones left
    /// out), in the order they were last written, read with one ordered
    /// consumer. A record that is not JSON is an `Err` naming it; the
    /// others are still returned.
    pub async fn list(&self, bucket: StateBucket) -> Result<Vec<Result<Listed, String>>, String> {
        let name = bucket.bucket_name();
        let store = self.store(bucket);
        let filter = format!("{}>", store.prefix);
        let messages = crate::cluster::scan::scan(
            &store.stream,
            &filter,
            async_nats::jetstream::consumer::DeliverPolicy::LastPerSubject,
        )
        .await?;
        let mut out = Vec::new();
        for m in messages {
            let deleted = m
                .headers
                .as_ref()
                .and_then(|h| h.get("KV-Operation"))
                .is_some();
            if deleted {
                continue;
            }
            let key = m
                .subject
                .strip_prefix(store.prefix.as_str())
                .unwrap_or(m.subject.as_str())
                .to_string();
            let revision = m.info().map(|i| i.stream_sequence).unwrap_or(0);
            let written_at = crate::cluster::scan::published_at(&m);
            out.push(match serde_json::from_slice(&m.payload) {
                Ok(value) => Ok(Listed {
                    key,
                    value,
                    revision,
                    written_at,
                }),
                Err(e) => Err(format!(
                    "{name}/{key} on the cluster is not JSON ({e}); expected a Weft record"
                )),
            });
        }
        Ok(out)
    }

    /// Waits until `bucket/key` exists, for at most `timeout`.
    pub async fn wait_for(
        &self,
        bucket: StateBucket,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<Versioned>, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = self.read(bucket, key).await? {
                return Ok(Some(found));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
