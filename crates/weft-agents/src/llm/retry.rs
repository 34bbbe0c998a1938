//! Retrying transient provider failures (agents.md §1): connect errors,
//! timeouts, HTTP 429 and 5xx are tried again `llm_retries` times with
//! exponential backoff from `llm_backoff_ms` plus jitter; a server's
//! `Retry-After` (seconds) is honoured instead when given (capped at
//! [`MAX_RETRY_AFTER`]).

use std::future::Future;
use std::time::Duration;

use crate::llm::ProviderError;

/// The longest `Retry-After` honoured; longer asks are clamped.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest computed backoff step.
const MAX_BACKOFF_MS: u64 = 60_000;

/// How a call is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Further attempts after the first.
    pub retries: u32,
    /// Base delay of the first retry.
    pub backoff_ms: u64,
}

/// The delay before retry number `attempt` (0-based): `backoff * 2^attempt`,
/// the upper half of it randomised ("equal jitter"), so the delay lies in
/// `[step / 2, step]`. `unit` is a random number in `[0, 1)`.
pub fn backoff_delay(backoff_ms: u64, attempt: u32, unit: f64) -> Duration {
    let step = backoff_ms
        .saturating_mul(1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX))
        .min(MAX_BACKOFF_MS);
    let half = step / 2;
    let jitter = ((step - half) as f64 * unit.clamp(0.0, 1.0)) as u64;
    Duration::from_millis(half + jitter)
}

/// The wait before the next attempt after `err`.
pub fn delay_for(err: &ProviderError, policy: RetryPolicy, attempt: u32) -> Duration {
    match err.retry_after {
        Some(d) => d.min(MAX_RETRY_AFTER),
        None => backoff_delay(policy.backoff_ms, attempt, fastrand::f64()),
    }
}

/// Runs `attempt` until it succeeds, fails non-transiently, or the retries
/// are used up; returns the last outcome. `on_retry(error, retry_number,
/// delay)` is told about each retry (numbered from 1) before its wait.
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    mut on_retry: impl FnMut(&ProviderError, u32, Duration),
    mut attempt: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut n = 0;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if e.transient && n < policy.retries => {
                let delay = delay_for(&e, policy, n);
                on_retry(&e, n + 1, delay);
                tokio::time::sleep(delay).await;
                n += 1;
            }
            Err(mut e) => {
                if n > 0 {
                    let tries = n + 1;
                    e.message = format!("{} (after {tries} attempts)", e.message);
                }
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn backoff_grows_exponentially_with_jitter() {
        assert_eq!(backoff_delay(500, 0, 0.0), Duration::from_millis(250));
        assert_eq!(backoff_delay(500, 0, 0.999_999), Duration::from_millis(499));
        assert_eq!(backoff_delay(500, 1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff_delay(500, 2, 0.5), Duration::from_millis(1500));
        assert_eq!(backoff_delay(0, 3, 0.7), Duration::ZERO);
        // Capped, and no overflow for silly attempt numbers.
        assert_eq!(
            backoff_delay(500, 40, 1.0),
            Duration::from_millis(MAX_BACKOFF_MS)
        );
        assert_eq!(
            backoff_delay(u64::MAX, 63, 1.0),
            Duration::from_millis(MAX_BACKOFF_MS)
        );
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let policy = RetryPolicy {
            retries: 2,
            backoff_ms: 500,
        };
        let mut e = ProviderError::new("provider_error", "busy").transient();
        e.retry_after = Some(Duration::from_secs(3));
        assert_eq!(delay_for(&e, policy, 0), Duration::from_secs(3));
        e.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(delay_for(&e, policy, 0), MAX_RETRY_AFTER);
    }

    #[tokio::test]
    async fn retries_only_transient_errors() {
        let policy = RetryPolicy {
            retries: 2,
            backoff_ms: 1,
        };
        let calls = Cell::new(0);
        let r: Result<(), _> = with_retries(
            policy,
            |_, _, _| {},
            || {
                calls.set(calls.get() + 1);
                async { Err(ProviderError::new("provider_error", "boom").transient()) }
            },
        )
        .await;
        assert_eq!(calls.get(), 3);
        assert_eq!(r.unwrap_err().message, "boom (after 3 attempts)");

        calls.set(0);
        let r: Result<(), _> = with_retries(
            policy,
            |_, _, _| {},
            || {
                calls.set(calls.get() + 1);
                async { Err(ProviderError::new("provider_error", "bad request")) }
            },
        )
        .await;
        assert_eq!(calls.get(), 1);
        assert_eq!(r.unwrap_err().message, "bad request");

        calls.set(0);
        let retried = Cell::new(0);
        let r = with_retries(
            policy,
            |_, n, _| retried.set(n),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 2 {
                        Err(ProviderError::new("timeout", "slow").transient())
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(r.unwrap(), 2);
        assert_eq!(retried.get(), 1);
    }
}
