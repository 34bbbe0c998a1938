//! `weft test [PATH...]`: the `.wf` test runner (embedding.md §3).
//!
//! Tests are found by [`discover`], filtered by `--filter`, each run as a
//! separate `weft run` child process ([`child`]) on a small thread pool
//! ([`pool`]), judged ([`judge`]) and reported in path order ([`report`]).
//! The per-test timeout is 30 s, or `WEFT_TEST_TIMEOUT_SECS` when set.

pub mod child;
pub mod discover;
pub mod judge;
pub mod pool;
pub mod report;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::cli::TestArgs;
use crate::commands::{usage_error, Exit};
use discover::{Expectation, TestCase};
use judge::Verdict;

/// Overrides the per-test timeout (seconds, fractions allowed).
pub const TIMEOUT_ENV: &str = "WEFT_TEST_TIMEOUT_SECS";

/// The per-test timeout of embedding.md §3.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `weft test`.
pub fn execute(args: TestArgs) -> Exit {
    let timeout = match parse_timeout(std::env::var(TIMEOUT_ENV).ok().as_deref()) {
        Ok(timeout) => timeout,
        Err(message) => return usage_error(message),
    };
    let mut cases = match discover::discover(&args.paths) {
        Ok(cases) => cases,
        Err(message) => return usage_error(message),
    };
    if let Some(filter) = &args.filter {
        cases.retain(|case| case.display_path().contains(filter.as_str()));
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return usage_error(format!("cannot find the weft executable: {e}")),
    };
    if cases.is_empty() {
        let searched: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        let filtered = match &args.filter {
            Some(filter) => format!(" matching '{filter}'"),
            None => String::new(),
        };
        eprintln!(
            "warning: no tests{filtered} found in {}",
            searched.join(", ")
        );
    }
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));

    let verdicts = pool::map_parallel(&cases, jobs, |case| run_case(&exe, case, timeout));
    let paths: Vec<String> = cases.iter().map(TestCase::display_path).collect();
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(report::render(&paths, &verdicts).as_bytes());
    let _ = stdout.flush();
    if verdicts.iter().all(|v| *v == Verdict::Pass) {
        Exit::Success
    } else {
        Exit::Failure
    }
}

/// The timeout from the value of [`TIMEOUT_ENV`], if set.
fn parse_timeout(value: Option<&str>) -> Result<Duration, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_TIMEOUT);
    };
    value
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{TIMEOUT_ENV} must be a positive number of seconds, got '{value}'"))
}

/// Runs and judges one test.
fn run_case(exe: &Path, case: &TestCase, timeout: Duration) -> Verdict {
    let (file, is_error) = match &case.expectation {
        Expectation::Stdout(file) => (file, false),
        Expectation::Error(file) => (file, true),
        Expectation::Both => {
            return Verdict::Fail {
                headline: "has both a .expected and a .error file; keep one".into(),
                details: String::new(),
            }
        }
    };
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let wanted = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            return Verdict::Fail {
                headline: format!("cannot read {name}: {e}"),
                details: String::new(),
            }
        }
    };
    let run = child::run_test(exe, case, timeout);
    if is_error {
        judge::judge_error(&name, &wanted, &run)
    } else {
        judge::judge_stdout(&name, &wanted, &run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_override() {
        assert_eq!(parse_timeout(None), Ok(DEFAULT_TIMEOUT));
        assert_eq!(parse_timeout(Some("")), Ok(DEFAULT_TIMEOUT));
        assert_eq!(parse_timeout(Some("2")), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout(Some("0.5")), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "soon", "NaN", "inf"] {
            assert!(parse_timeout(Some(bad)).is_err(), "{bad}");
        }
    }
}
