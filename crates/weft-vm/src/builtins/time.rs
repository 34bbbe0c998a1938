//! Time builtins (stdlib.md "Time"): `now`, `now_ms`, `monotonic_ms`.
//! (`sleep` is async and lives with the concurrency builtins.)

use std::sync::OnceLock;
use std::time::Instant;

use chrono::{SecondsFormat, Utc};

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::Value;
use crate::vm::Vm;

/// When the program started: the reference point of `monotonic_ms`. It is
/// process-wide (every task measures from the same start), not per-task
/// state, so a static is right here.
static START: OnceLock<Instant> = OnceLock::new();

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
