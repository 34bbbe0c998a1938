//! `weft workers list` / `show REF` / `prune` (embedding.md §1): the
//! worker snapshots (`<state>/workers/*.json`, workers.md §6) of a state
//! directory (the table and pruning are shared with `weft runs`, in
//! `records.rs`); `list`/`show` with `--cluster` read a cluster's records
//! instead (`cluster_records.rs`). A snapshot that is not valid JSON, has another `_type` or an
//! unknown `version` is reported with its path and the reason (exit 1);
//! nothing panics.

use std::path::Path;

use weft::tooling::RecordKind;

use super::cluster_records::{self, Shown};
use super::host::cluster_urls;
use super::{out, records, Exit};
use crate::cli::{WorkersArgs, WorkersCommand};

/// Runs `weft workers`.
pub fn execute(args: WorkersArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    match args.command {
        WorkersCommand::List { filter, cluster } => match cluster_urls(cluster.cluster) {
            Some(urls) => cluster_records::list(urls, RecordKind::Worker, &filter),
            None => records::list(&state_dir, RecordKind::Worker, &filter),
        },
        WorkersCommand::Show { reference, cluster } => match cluster_urls(cluster.cluster) {
            Some(urls) => cluster_records::show(urls, RecordKind::Worker, reference, Shown::Json),
            None => show(&state_dir, &reference),
        },
        WorkersCommand::Prune { filter } => records::prune(&state_dir, RecordKind::Worker, &filter),
    }
}

fn show(state_dir: &Path, reference: &str) -> Exit {
    match weft::tooling::worker_snapshot(state_dir, reference) {
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
