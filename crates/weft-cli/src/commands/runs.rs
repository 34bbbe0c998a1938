//! `weft runs list` / `weft runs show REF [--json]` / `weft runs prune` /
//! `weft runs graph REF|FILE.wf [--format F]` (embedding.md §1): read
//! the workflow run records (`<state>/runs/*.json`, workflows.md §4) of a
//! state directory (`list`/`show` with `--cluster`: a cluster's,
//! `cluster_records.rs`). An unreadable record is reported with its path and the
//! reason (exit 1); nothing panics.

use std::path::Path;

use weft::tooling::{run_diagram, run_record, run_summary, source_diagram, RecordKind};

use super::cluster_records::{self, Shown};
use super::host::cluster_urls;
use super::{out, records, Exit};
use crate::cli::{RunsArgs, RunsCommand};

/// Runs `weft runs`.
pub fn execute(args: RunsArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    match args.command {
        RunsCommand::List { filter, cluster } => match cluster_urls(cluster.cluster) {
            Some(urls) => cluster_records::list(urls, RecordKind::Run, &filter),
            None => records::list(&state_dir, RecordKind::Run, &filter),
        },
        RunsCommand::Prune { filter } => records::prune(&state_dir, RecordKind::Run, &filter),
        RunsCommand::Graph {
            target,
            format,
            name,
        } => graph(&state_dir, &target, &format, name.as_deref()),
        RunsCommand::Show {
            reference,
            json,
            cluster,
        } => match cluster_urls(cluster.cluster) {
            Some(urls) => {
                let shown = if json { Shown::Json } else { Shown::Summary };
                cluster_records::show(urls, RecordKind::Run, reference, shown)
            }
            None => show(&state_dir, &reference, json),
        },
    }
}

/// `weft runs show` of a state directory.
fn show(state_dir: &Path, reference: &str, json: bool) -> Exit {
    match run_record(state_dir, reference) {
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
    }
}

/// `weft runs graph`: a `.wf` file is read (not run) for its definition;
/// anything else names a run record.
fn graph(state_dir: &Path, target: &str, format: &str, name: Option<&str>) -> Exit {
    let picture = if target.ends_with(".wf") {
        source_diagram(Path::new(target), name, format).map_err(|e| e.to_string())
    } else if name.is_some() {
        Err("error: --name chooses a workflow of a .wf file; a run has one".to_string())
    } else {
        run_record(state_dir, target)
            .and_then(|r| run_diagram(&r, format))
            .map_err(|e| format!("error: {}", e.message()))
    };
    match picture {
        Ok(text) => {
            out(text.trim_end());
            Exit::Success
        }
        Err(e) => {
            eprintln!("{e}");
            Exit::Failure
        }
    }
}
