//! Reading what a JetStream stream holds right now, once: an ordered
//! (ephemeral, unacknowledged) consumer from the first message — or the
//! last one of each subject — to the end, then stop. `weft workers list
//! --cluster` reads the `weft_workers` bucket this way (one consumer
//! instead of one request per key) and `weft workers show --cluster` a
//! worker's events.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;

/// How long one message of a scan may take to arrive.
const MESSAGE_WAIT: Duration = Duration::from_secs(5);

/// The messages of `stream` on subjects matching `filter`, from
/// `policy` (`All`, `LastPerSubject`) to the last one stored when the
/// scan began, in stream order.
pub async fn scan(
    stream: &stream::Stream,
    filter: &str,
    policy: consumer::DeliverPolicy,
) -> Result<Vec<jetstream::Message>, String> {
    let what = |e: &dyn std::fmt::Display| format!("cannot read {filter} from the cluster: {e}");
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: filter.to_string(),
            deliver_policy: policy,
            replay_policy: consumer::ReplayPolicy::Instant,
            ..Default::default()
        })
        .await
        .map_err(|e| what(&e))?;
    if consumer.cached_info().num_pending == 0 {
        return Ok(Vec::new());
    }
    let mut messages = consumer.messages().await.map_err(|e| what(&e))?;
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(MESSAGE_WAIT, messages.next())
            .await
            .map_err(|_| what(&format!("no message within {} s", MESSAGE_WAIT.as_secs())))?;
        let Some(message) = next else { break };
        let message = message.map_err(|e| what(&e))?;
        let pending = message.info().map(|i| i.pending).unwrap_or(0);
        out.push(message);
        if pending == 0 {
            break;
        }
    }
    Ok(out)
}

/// A message's server timestamp as RFC 3339 (as `now()` writes times).
pub fn published_at(message: &jetstream::Message) -> Option<String> {
    let at = message.info().ok()?.published;
    let nanos = i64::try_from(at.unix_timestamp_nanos()).ok()?;
    Some(chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339())
}
