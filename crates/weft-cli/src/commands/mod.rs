//! The `weft` commands and what they share: exit statuses, usage errors and
//! the check that an input file can be read.

pub mod approvals;
pub mod cache;
pub mod check;
pub mod cluster_records;
pub mod disasm;
pub mod host;
pub mod mcp_serve;
pub mod policy;
pub mod records;
pub mod run;
pub mod run_signals;
pub mod runs;
pub mod table;
pub mod workers;

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use crate::vm_thread::VmThreadError;

/// How a command ends (embedding.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything went well.
    Success,
    /// 1: an uncaught error, a diagnostic, a failed test.
    Failure,
    /// 2: the command line was wrong (also an unreadable input file).
    Usage,
    /// 101: Weft itself failed (a VM panic); like a Rust panic's status.
    Internal,
    /// 128 + N: stopped by signal N (130 for SIGINT, 143 for SIGTERM).
    Signal(u8),
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(match exit {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Internal => 101,
            Exit::Signal(status) => status,
        })
    }
}

/// Prints `error: MESSAGE` to stderr and returns [`Exit::Usage`].
pub fn usage_error(message: impl std::fmt::Display) -> Exit {
    eprintln!("error: {message}");
    Exit::Usage
}

/// Reports a VM thread that failed to start or panicked.
pub fn vm_thread_failure(error: VmThreadError) -> Exit {
    eprintln!("error: {error}");
    match error {
        VmThreadError::Panicked => Exit::Internal,
        VmThreadError::Start(_) => Exit::Failure,
    }
}

/// Checks that `path` names a readable file, with a message fit for a user.
pub fn check_readable(path: &Path) -> Result<(), String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("cannot find '{shown}': no such file"));
        }
        Err(e) => return Err(format!("cannot read '{shown}': {e}")),
        Ok(meta) if meta.is_dir() => {
            return Err(format!("'{shown}' is a directory, not a file"));
        }
        Ok(_) => {}
    }
    File::open(path)
        .map(drop)
        .map_err(|e| format!("cannot read '{shown}': {e}"))
}

/// The state directory `weft workers` / `weft runs` read: `WEFT_STATE_DIR`,
/// else `--state-dir`, else `.weft/`.
pub fn state_dir(flag: Option<std::path::PathBuf>) -> std::path::PathBuf {
    std::env::var_os("WEFT_STATE_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or(flag)
        .unwrap_or_else(|| std::path::PathBuf::from(run::DEFAULT_STATE_DIR))
}

/// Prints a line; a closed stdout (`| head`) is not an error.
pub fn out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_inputs_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.wf");
        assert!(check_readable(&missing)
            .unwrap_err()
            .contains("no such file"));
        assert!(check_readable(dir.path())
            .unwrap_err()
            .contains("is a directory"));
        let file = dir.path().join("a.wf");
        std::fs::write(&file, "println(1)\n").unwrap();
        assert_eq!(check_readable(&file), Ok(()));
    }
}
