//! `weft runs list` / `weft runs show ID [--json]` (embedding.md §1): read
//! the workflow run records (`<state>/runs/*.json`, workflows.md §4) of a
//! state directory. An unreadable record is reported with its path and the
//! reason (exit 1); nothing panics.

use weft::tooling::{run_list_line, run_record, run_records, run_summary};

use super::{out, Exit};
use crate::cli::{RunsArgs, RunsCommand};

/// Runs `weft runs`.
pub fn execute(args: RunsArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    match args.command {
        RunsCommand::List => {
            let mut rows = Vec::new();
            let mut exit = Exit::Success;
            for record in run_records(&state_dir) {
                match record {
                    Ok(v) => rows.push(v),
                    Err(e) => {
                        eprintln!("error: {}", e.message());
                        exit = Exit::Failure;
                    }
                }
            }
            if rows.is_empty() && exit == Exit::Success {
                out(&format!("no runs in {}", state_dir.display()));
            }
            for r in &rows {
                out(&run_list_line(r));
            }
            exit
        }
        RunsCommand::Show { id, json } => match run_record(&state_dir, &id) {
            Ok(v) if json => {
                out(&serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
                Exit::Success
            }
            Ok(v) => {
                out(&run_summary(&v));
                Exit::Success
            }
            Err(e) => {
                eprintln!("error: {}", e.message());
                Exit::Failure
            }
        },
    }
}
