//! Time builtins (stdlib.md "Time"): `now`, `now_ms`, `monotonic_ms`.
//! (`sleep` is async and lives with the concurrency builtins.)

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::Value;
use crate::vm::Vm;

/// When the program started: the reference point of `monotonic_ms`. It is
/// process-wide (every task measures from the same start), not per-task
/// state, so a static is right here.
static START: OnceLock<Instant> = OnceLock::new();

/// The longest wait a script can ask for (about 30 years): longer ones
/// (`sleep(1e308)`) wait this long instead of overflowing a `Duration`.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// A non-negative, finite number of milliseconds as a `Duration`,
/// saturating at [`LONGEST_WAIT`].
pub(crate) fn duration_from_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0)
        .unwrap_or(LONGEST_WAIT)
        .min(LONGEST_WAIT)
}

fn start() -> Instant {
    *START.get_or_init(Instant::now)
}

pub(super) fn defs() -> Vec<BuiltinDef> {
    // The registry is built when a runtime starts, so this fixes the start
    // instant at program start rather than at the first `monotonic_ms()`.
    start();
    vec![
        sync("now", &[], 0, 0, "time", "The current UTC time as an RFC 3339 string with milliseconds (`2024-05-01T12:00:00.123Z`).", now),
        sync("now_ms", &[], 0, 0, "time", "Milliseconds since the Unix epoch (wall clock), as an int.", now_ms),
        sync("monotonic_ms", &[], 0, 0, "time", "Milliseconds since the program started, from a monotonic clock (never goes backwards).", monotonic_ms),
    ]
}

fn now(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Value::str(
        Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    ))
}

fn now_ms(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Value::Int(Utc::now().timestamp_millis()))
}

fn monotonic_ms(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    let ms = start().elapsed().as_millis();
    Ok(Value::Int(i64::try_from(ms).unwrap_or(i64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_waits_saturate_instead_of_panicking() {
        assert_eq!(duration_from_ms(1e308), LONGEST_WAIT);
        assert_eq!(duration_from_ms(f64::MAX), LONGEST_WAIT);
        assert_eq!(duration_from_ms(1500.0), Duration::from_millis(1500));
        assert_eq!(duration_from_ms(0.0), Duration::ZERO);
    }
}
