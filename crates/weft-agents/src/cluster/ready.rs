//! Waiting for a cluster that is not ready yet: a freshly started (or
//! recovering) JetStream cluster answers stream and bucket creation with
//! "no responders", timeouts or "JetStream system temporarily unavailable"
//! until its meta group has elected a leader and knows its peers.
//! [`retry_while_starting`] retries such an operation for a bounded time;
//! [`probe_replicated_write`] proves the cluster can place a replicated
//! stream (what tests wait for before they start).

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::stream;

use super::Cluster;

/// How long the first creation of a stream or bucket keeps retrying while
/// the cluster is still electing its meta leader.
pub const STARTUP_GRACE: Duration = Duration::from_secs(15);

/// Whether `error` (an async-nats error as text) means "the cluster is not
/// ready yet, ask again" rather than a real refusal.
pub fn is_transient(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    [
        "no responders",
        "timed out",
        "timeout",
        "temporarily unavailable",
        "not ready",
        "no suitable peers",
        "no leader",
        "leader not known",
    ]
    .iter()
    .any(|needle| e.contains(needle))
}

/// Runs `attempt` until it succeeds, fails with a non-transient error, or
/// `grace` has passed (then the last error is returned).
pub async fn retry_while_starting<T, F, Fut>(grace: Duration, mut attempt: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + grace;
    let mut pause = Duration::from_millis(50);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if is_transient(&e) && tokio::time::Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Creates and deletes a throwaway memory stream with `replicas` copies:
/// succeeds only once the cluster has a meta leader and `replicas` peers
/// that can host a stream. One attempt; the caller decides how long to wait.
pub async fn probe_replicated_write(cluster: &Cluster, replicas: usize) -> Result<(), String> {
    let js = cluster.jetstream();
    let name = format!(
        "WEFT_READY_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![format!("weft.ready.{name}")],
        num_replicas: replicas,
        storage: stream::StorageType::Memory,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("cannot create a stream with {replicas} replicas: {e}"))?;
    js.delete_stream(&name)
        .await
        .map_err(|e| format!("cannot delete the probe stream {name}: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn startup_errors_are_transient_and_refusals_are_not() {
        assert!(is_transient("jetstream error: no responders"));
        assert!(is_transient(
            "JetStream system temporarily unavailable (code 503, error code 10008)"
        ));
        assert!(is_transient("request timed out: deadline has elapsed"));
        assert!(is_transient("no suitable peers for placement"));
        assert!(!is_transient(
            "stream name already in use with a different configuration"
        ));
        assert!(!is_transient("insufficient resources"));
    }

    #[tokio::test]
    async fn retries_transient_errors_until_success() {
        let calls = Cell::new(0);
        let got = retry_while_starting(Duration::from_secs(5), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                if n < 3 {
                    Err("no responders".to_string())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test]
    async fn a_real_refusal_is_returned_at_once() {
        let calls = Cell::new(0);
        let got: Result<(), String> = retry_while_starting(Duration::from_secs(5), || {
            calls.set(calls.get() + 1);
            async { Err("invalid stream name".to_string()) }
        })
        .await;
        assert_eq!(got, Err("invalid stream name".to_string()));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn gives_up_after_the_grace_with_the_last_error() {
        let start = std::time::Instant::now();
        let got: Result<(), String> = retry_while_starting(Duration::from_millis(300), || async {
            Err("no responders available for request".to_string())
        })
        .await;
        assert_eq!(got, Err("no responders available for request".to_string()));
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
