//! `weft runs list` / `weft runs show ID [--json]` (embedding.md §1): read
//! the workflow run records (`<state>/runs/*.json`, workflows.md §4) of a
//! state directory. An unreadable record is reported with its path and the
//! reason (exit 1); nothing panics.

use std::io::Write;
use std::path::PathBuf;

use weft_agents::workflow::report::{list_line, list_runs, load_run, summary};

use super::Exit;
use crate::cli::{RunsArgs, RunsCommand};

/// Runs `weft runs`.
pub fn execute(args: RunsArgs) -> Exit {
    let state_dir = std::env::var_os("WEFT_STATE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or(args.state_dir)
        .unwrap_or_else(|| PathBuf::from(super::run::DEFAULT_STATE_DIR));
    match args.command {
        RunsCommand::List => {
            let (rows, errors) = list_runs(&state_dir);
            for e in &errors {
                eprintln!("error: {e}");
            }
            if rows.is_empty() && errors.is_empty() {
                out(&format!("no runs in {}", state_dir.display()));
            }
            for r in &rows {
                out(&list_line(r));
            }
            if errors.is_empty() {
                Exit::Success
            } else {
                Exit::Failure
            }
        }
        RunsCommand::Show { id, json } => match load_run(&state_dir, &id) {
            Ok(v) if json => {
                out(&serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
                Exit::Success
            }
            Ok(v) => {
                out(&summary(&v));
                Exit::Success
            }
            Err(reason) => {
                eprintln!("error: {reason}");
                Exit::Failure
            }
        },
    }
}

/// Prints a line; a closed stdout (`| head`) is not an error.
fn out(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
