//! `weft workers list` / `weft workers show ID` (embedding.md §1): read the
//! worker snapshots (`<state>/workers/*.json`, workers.md §6) of a state
//! directory. A snapshot that is not valid JSON, has another `_type` or an
//! unknown `version` is reported with its path and the reason (exit 1);
//! nothing panics.

use std::path::Path;

use super::{out, Exit};
use crate::cli::{WorkersArgs, WorkersCommand};

/// Runs `weft workers`.
pub fn execute(args: WorkersArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    match args.command {
        WorkersCommand::List => list(&state_dir),
        WorkersCommand::Show { id } => show(&state_dir, &id),
    }
}

fn list(state_dir: &Path) -> Exit {
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut exit = Exit::Success;
    for snapshot in weft::tooling::worker_snapshots(state_dir) {
        match snapshot {
            Ok(v) => rows.push(v),
            Err(e) => {
                eprintln!("error: {}", e.message());
                exit = Exit::Failure;
            }
        }
    }
    if rows.is_empty() && exit == Exit::Success {
        out(&format!("no workers in {}", state_dir.display()));
        return exit;
    }
    for row in &rows {
        out(&line(row));
    }
    exit
}

/// `ID  STATUS  NAME  key=KEY  UPDATED  TASK` (task cut to 60 characters).
pub fn line(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    let task: String = s("task").replace('\n', " ");
    let short: String = if task.chars().count() > 60 {
        task.chars().take(57).collect::<String>() + "..."
    } else {
        task
    };
    let key = v["key"]
        .as_str()
        .map(|k| format!("  key={k}"))
        .unwrap_or_default();
    format!(
        "{}  {:<11} {}{}  {}  {}",
        s("id"),
        s("status"),
        s("name"),
        key,
        s("updated_at"),
        short
    )
}

fn show(state_dir: &Path, id: &str) -> Exit {
    match weft::tooling::worker_snapshot(state_dir, id) {
        Ok(v) => {
            out(&serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
            Exit::Success
        }
        Err(e) => {
            eprintln!("error: {}", e.message());
            Exit::Failure
        }
    }
}
