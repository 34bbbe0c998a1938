//! The crash-point test hook (issue 12, docs/testing.md "Crash points"):
//! fault injection for the crash-point enumeration of
//! `crates/weft-cli/tests/crash_points.rs`. Inert unless one of its
//! environment variables is set:
//!
//! - `WEFT_CRASH_AFTER_WRITE=N` — `std::process::abort()` right after the
//!   N-th durable write is in place (after the temporary file's sync, the
//!   rename and the directory `fsync`, before any waiter is woken), so the
//!   state directory is exactly what a kill at that moment leaves.
//! - `WEFT_CRASH_AFTER_EFFECT=N` — abort right after the N-th side-effecting
//!   await completes (a tool handler returned, a model reply arrived) and
//!   before anything records it: the "in flight" crash.
//! - `WEFT_CRASH_POINTS_FILE=PATH` — after every crash point, `PATH` holds
//!   `{"writes": W, "effects": E}`, the points passed so far (so an
//!   uncrashed run leaves its totals K there).
//!
//! While any of them is set, the committer makes every write its own batch
//! (no group commit), so the N-th write is the same write on every run of a
//! deterministic program. The counters are process state (one process is
//! one crash experiment), not per-task state. Values are parsed strictly:
//! [`check_env`] reports a bad one (the CLI calls it at start).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Abort after the N-th durable write.
pub const CRASH_AFTER_WRITE_ENV: &str = "WEFT_CRASH_AFTER_WRITE";
/// Abort after the N-th completed side-effecting await.
pub const CRASH_AFTER_EFFECT_ENV: &str = "WEFT_CRASH_AFTER_EFFECT";
/// Where to report the crash points passed.
pub const CRASH_POINTS_FILE_ENV: &str = "WEFT_CRASH_POINTS_FILE";

/// The hook's configuration, from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrashConfig {
    pub after_write: Option<u64>,
    pub after_effect: Option<u64>,
    pub points_file: Option<PathBuf>,
}

impl CrashConfig {
    /// Whether any part of the hook is on.
    pub fn active(&self) -> bool {
        self.after_write.is_some() || self.after_effect.is_some() || self.points_file.is_some()
    }

    /// Parses the three variables (`get` looks one up); an error names the
    /// variable, the value and what is expected.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<CrashConfig, String> {
        let count = |name: &str| -> Result<Option<u64>, String> {
            match get(name) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n >= 1 => Ok(Some(n)),
                    _ => Err(format!(
                        "{name} must be a whole number of at least 1 (the crash point to abort at), got '{v}'"
                    )),
                },
            }
        };
        let points_file = match get(CRASH_POINTS_FILE_ENV) {
            None => None,
            Some(v) if v.is_empty() => {
                return Err(format!(
                    "{CRASH_POINTS_FILE_ENV} must be a file path, got an empty value"
                ))
            }
            Some(v) => Some(PathBuf::from(v)),
        };
        Ok(CrashConfig {
            after_write: count(CRASH_AFTER_WRITE_ENV)?,
            after_effect: count(CRASH_AFTER_EFFECT_ENV)?,
            points_file,
        })
    }
}

fn env_value(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// The configuration of this process (parsed once; a bad value leaves the
/// hook off, and [`check_env`] reports it).
fn config() -> &'static CrashConfig {
    static CONFIG: OnceLock<CrashConfig> = OnceLock::new();
    CONFIG.get_or_init(|| CrashConfig::parse(env_value).unwrap_or_default())
}

/// Checks the hook's environment variables: `Err` with a message for a
/// value that is not what the variable takes.
pub fn check_env() -> Result<(), String> {
    CrashConfig::parse(env_value).map(|_| ())
}

/// Whether the hook is on in this process (the committer then commits one
/// write per batch).
pub fn active() -> bool {
    config().active()
}

static WRITES: AtomicU64 = AtomicU64::new(0);
static EFFECTS: AtomicU64 = AtomicU64::new(0);
/// Serializes the updates of the points file (writes and effects are
/// counted on different threads).
static REPORT: Mutex<()> = Mutex::new(());

/// Counts one durable write that is now in place; aborts if it is the one
/// `WEFT_CRASH_AFTER_WRITE` names.
pub(crate) fn after_durable_write() {
    let c = config();
    if !c.active() {
        return;
    }
    let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    passed(c, c.after_write == Some(n));
}

/// Counts one completed side-effecting await (a tool handler returned, a
/// model reply arrived); aborts if it is the one `WEFT_CRASH_AFTER_EFFECT`
/// names.
pub fn after_effect() {
    let c = config();
    if !c.active() {
        return;
    }
    let n = EFFECTS.fetch_add(1, Ordering::SeqCst) + 1;
    passed(c, c.after_effect == Some(n));
}

/// Reports the counts, then aborts when `crash` says so.
fn passed(c: &CrashConfig, crash: bool) {
    if let Some(path) = &c.points_file {
        let _guard = REPORT.lock();
        let body = format!(
            "{{\"writes\": {}, \"effects\": {}}}\n",
            WRITES.load(Ordering::SeqCst),
            EFFECTS.load(Ordering::SeqCst)
        );
        let _ = std::fs::write(path, body);
    }
    if crash {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<CrashConfig, String> {
        CrashConfig::parse(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn unset_is_inert() {
        let c = parse(&[]).unwrap();
        assert!(!c.active());
    }

    #[test]
    fn counts_and_file_parse() {
        let c = parse(&[
            (CRASH_AFTER_WRITE_ENV, "3"),
            (CRASH_AFTER_EFFECT_ENV, " 12 "),
            (CRASH_POINTS_FILE_ENV, "/tmp/k.json"),
        ])
        .unwrap();
        assert_eq!(c.after_write, Some(3));
        assert_eq!(c.after_effect, Some(12));
        assert_eq!(c.points_file, Some(PathBuf::from("/tmp/k.json")));
        assert!(c.active());
    }

    #[test]
    fn bad_values_are_errors_naming_the_variable() {
        for bad in ["0", "-1", "x", "", "1.5"] {
            let e = parse(&[(CRASH_AFTER_WRITE_ENV, bad)]).unwrap_err();
            assert!(
                e.starts_with("WEFT_CRASH_AFTER_WRITE must be a whole number"),
                "{e}"
            );
            assert!(e.contains(&format!("got '{bad}'")), "{e}");
        }
        let e = parse(&[(CRASH_AFTER_EFFECT_ENV, "many")]).unwrap_err();
        assert!(e.starts_with("WEFT_CRASH_AFTER_EFFECT"), "{e}");
        let e = parse(&[(CRASH_POINTS_FILE_ENV, "")]).unwrap_err();
        assert!(e.starts_with("WEFT_CRASH_POINTS_FILE"), "{e}");
    }
}
