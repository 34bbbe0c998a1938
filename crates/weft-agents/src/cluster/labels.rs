//! Label routing (`weft host --labels k=v,...`, `placement: {labels:
//! {...}}`): a labelled job is claimed only by a host whose labels include
//! every one the job asks for.
//!
//! How (docs/cluster.md "Labels"): labelled jobs go to their own
//! work-queue stream `WEFT_LABELED_JOBS`, on the subject
//! `weft.ljobs.<label set hash>.<worker>`, with one durable pull consumer
//! per label set (`labels_<hash>`, its label set in the consumer's
//! description), created by the first parent that queues such a job. A
//! host with labels lists the stream's consumers and claims from those
//! whose label set its labels include (and from the unlabelled queue, like
//! every host). Hosts announce their labels in the `weft_hosts` bucket
//! (a presence record refreshed every 2 s, gone 10 s after the host), so a
//! parent whose job no live host can take says so instead of waiting
//! forever.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::ready::{retry_while_starting, STARTUP_GRACE};
use super::Cluster;

/// Label name → value (values compared as text).
pub type Labels = BTreeMap<String, String>;

const LABELED_STREAM: &str = "WEFT_LABELED_JOBS";
const HOSTS_BUCKET: &str = "weft_hosts";
/// How long a host's presence record lives without a refresh.
pub const PRESENCE_TTL: Duration = Duration::from_secs(10);
/// How often a host refreshes it.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(2);

/// Parses `k=v,k2=v2` (`weft host --labels`).
pub fn parse_labels(spec: &str) -> Result<Labels, String> {
    let mut labels = Labels::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!(
                "label `{part}` has no value; expected NAME=VALUE[,NAME=VALUE...]"
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || v.is_empty() {
            return Err(format!(
                "label `{part}` has an empty name or value; expected NAME=VALUE"
            ));
        }
        labels.insert(k.to_string(), v.to_string());
    }
    Ok(labels)
}

/// Whether a host with `host` labels may run a job asking for `wanted`.
pub fn satisfies(host: &Labels, wanted: &Labels) -> bool {
    wanted.iter().all(|(k, v)| host.get(k) == Some(v))
}

/// `{k: "v", ...}` for messages.
pub fn show(labels: &Labels) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}: \"{v}\""))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// `k=v,...` for messages.
pub fn flag(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(",")
}

fn set_hash(labels: &Labels) -> String {
    let text = serde_json::to_string(labels).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The labelled queue and the hosts' presence records.
#[derive(Clone)]
pub struct LabeledQueue {
    js: jetstream::Context,
    stream: stream::Stream,
    hosts: kv::Store,
    ack_wait: Duration,
}

impl LabeledQueue {
    /// Opens (creating when missing) the labelled stream and the presence
    /// bucket; `ack_wait` is the claim lifetime of the consumers it creates.
    pub async fn open(
        cluster: &Cluster,
        replicas: usize,
        ack_wait: Duration,
    ) -> Result<LabeledQueue, String> {
        let js = cluster.jetstream().clone();
        let js_ref = &js;
        let stream = retry_while_starting(STARTUP_GRACE, move || async move {
            js_ref
                .get_or_create_stream(stream::Config {
                    name: LABELED_STREAM.to_string(),
                    subjects: vec!["weft.ljobs.>".to_string()],
                    retention: stream::RetentionPolicy::WorkQueue,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("cannot create stream {LABELED_STREAM} on the cluster: {e}"))
        })
        .await?;
        let hosts = retry_while_starting(STARTUP_GRACE, move || async move {
            match js_ref.get_key_value(HOSTS_BUCKET).await {
                Ok(kv) => Ok(kv),
                Err(_) => js_ref
                    .create_key_value(kv::Config {
                        bucket: HOSTS_BUCKET.to_string(),
                        history: 1,
                        max_age: PRESENCE_TTL,
                        num_replicas: replicas,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| {
                        format!("cannot create bucket {HOSTS_BUCKET} on the cluster: {e}")
                    }),
            }
        })
        .await?;
        Ok(LabeledQueue {
            js,
            stream,
            hosts,
            ack_wait,
        })
    }

    /// The consumer of label set `labels` (created when missing).
    async fn consumer(&self, labels: &Labels) -> Result<consumer::PullConsumer, String> {
        let hash = set_hash(labels);
        let name = format!("labels_{hash}");
        self.stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    description: Some(serde_json::to_string(labels).unwrap_or_default()),
                    filter_subject: format!("weft.ljobs.{hash}.>"),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| format!("cannot create consumer {name} on the cluster: {e}"))
    }

    /// Queues a job asking for `labels` (`msg_id` de-duplicates, as
    /// [`super::JobQueue::submit_once`]).
    pub async fn submit(
        &self,
        job: &super::JobEnvelope,
        labels: &Labels,
        msg_id: Option<&str>,
    ) -> Result<(), String> {
        self.consumer(labels).await?;
        let bytes = serde_json::to_vec(job).map_err(|e| format!("cannot encode job: {e}"))?;
        let mut headers = async_nats::HeaderMap::new();
        if let Some(id) = msg_id {
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        }
        let id = &job.worker_id;
        let subject = format!("weft.ljobs.{}.{id}", set_hash(labels));
        let ack = self
            .js
            .publish_with_headers(subject, headers, bytes.into())
            .await
            .map_err(|e| format!("cannot submit job for {id}: {e}"))?;
        ack.await
            .map_err(|e| format!("the cluster did not store the job for {id}: {e}"))?;
        Ok(())
    }

    /// The consumers of the label sets a host with `mine` may serve.
    pub async fn consumers_for(
        &self,
        mine: &Labels,
    ) -> Result<Vec<consumer::PullConsumer>, String> {
        let mut names = self.stream.consumer_names();
        let mut out = Vec::new();
        while let Some(name) = names.next().await {
            let name = name.map_err(|e| format!("cannot list the labelled queues: {e}"))?;
            let mut consumer: consumer::PullConsumer = self
                .stream
                .get_consumer(&name)
                .await
                .map_err(|e| format!("cannot open consumer {name}: {e}"))?;
            let wanted: Labels = consumer
                .info()
                .await
                .ok()
                .and_then(|i| i.config.description.clone())
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            if !wanted.is_empty() && satisfies(mine, &wanted) {
                out.push(consumer);
            }
        }
        Ok(out)
    }

    /// Announces (or refreshes) host `name` with `labels`.
    pub async fn announce(&self, name: &str, labels: &Labels) -> Result<(), String> {
        let key: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let value = serde_json::json!({"name": name, "labels": labels});
        self.hosts
            .put(&key, value.to_string().into())
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot announce host {name}: {e}"))
    }

    /// Whether a live host announced labels that include `wanted`.
    pub async fn served(&self, wanted: &Labels) -> Result<bool, String> {
        let mut keys = self
            .hosts
            .keys()
            .await
            .map_err(|e| format!("cannot list the hosts: {e}"))?;
        while let Some(key) = keys.next().await {
            let Ok(key) = key else { continue };
            let Ok(Some(bytes)) = self.hosts.get(&key).await else {
                continue;
            };
            let labels: Labels = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| serde_json::from_value(v.get("labels")?.clone()).ok())
                .unwrap_or_default();
            if satisfies(&labels, wanted) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_match() {
        let host = parse_labels("gpu=true, zone=a").unwrap();
        assert!(satisfies(&host, &parse_labels("gpu=true").unwrap()));
        assert!(satisfies(&host, &Labels::new()));
        assert!(!satisfies(&host, &parse_labels("gpu=false").unwrap()));
        assert!(!satisfies(
            &Labels::new(),
            &parse_labels("gpu=true").unwrap()
        ));
        assert_eq!(
            parse_labels("gpu").unwrap_err(),
            "label `gpu` has no value; expected NAME=VALUE[,NAME=VALUE...]"
        );
        assert!(parse_labels("=x").is_err());
        assert_eq!(flag(&host), "gpu=true,zone=a");
        assert_eq!(show(&host), "{gpu: \"true\", zone: \"a\"}");
    }
}
