//! What `weft workers` and `weft runs` share: the `list` table (with its
//! `--status`/`--name` filters and `--json`) and `prune`. Unreadable
//! records are reported with their path on stderr and make the exit
//! status 1; the readable ones are still listed.

use std::path::Path;

use weft::tooling::{PruneFilter, RecordKind};

use super::{out, table, Exit};
use crate::cli::{ListFilter, PruneArgs};

fn noun(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Worker => "workers",
        RecordKind::Run => "runs",
    }
}

/// `--status` values must be statuses of this kind of record.
fn check_statuses(kind: RecordKind, given: &[String]) -> Result<(), String> {
    let known = kind.statuses();
    for s in given {
        if !known.contains(&s.as_str()) {
            return Err(format!(
                "--status: '{s}' is not a status of {}; expected one of {}",
                noun(kind),
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// `--status` values must be statuses of this kind of record (a usage
/// error otherwise).
pub fn statuses_ok(kind: RecordKind, filter: &ListFilter) -> Result<(), Exit> {
    check_statuses(kind, &filter.status).map_err(super::usage_error)
}

/// `weft workers list` / `weft runs list`.
pub fn list(state_dir: &Path, kind: RecordKind, filter: &ListFilter) -> Exit {
    if let Err(e) = check_statuses(kind, &filter.status) {
        return super::usage_error(e);
    }
    let all = match kind {
        RecordKind::Worker => weft::tooling::worker_snapshots(state_dir),
        RecordKind::Run => weft::tooling::run_records(state_dir),
    };
    show_list(
        kind,
        all,
        filter,
        &format!("in {}", state_dir.display()),
        false,
    )
}

/// Prints the records `all` of `kind` (read from `place`: `in DIR`, `on
/// the cluster at URLS`) as the list table or `--json`; unreadable ones on
/// stderr (exit 1). A cluster's workers get a HOST column (where each ran).
pub fn show_list(
    kind: RecordKind,
    all: Vec<weft::Result<serde_json::Value>>,
    filter: &ListFilter,
    place: &str,
    on_cluster: bool,
) -> Exit {
    let mut exit = Exit::Success;
    let name_field = match kind {
        RecordKind::Worker => "name",
        RecordKind::Run => "workflow",
    };
    let mut rows = Vec::new();
    for record in all {
        match record {
            Ok(v) => rows.push(v),
            Err(e) => {
                eprintln!("error: {}", e.message());
                exit = Exit::Failure;
            }
        }
    }
    let total = rows.len();
    rows.retain(|v| {
        let status = v["status"].as_str().unwrap_or("");
        (filter.status.is_empty() || filter.status.iter().any(|s| s == status))
            && filter
                .name
                .as_ref()
                .is_none_or(|n| v[name_field].as_str() == Some(n.as_str()))
    });
    if filter.json {
        let text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string());
        out(&text);
        return exit;
    }
    if rows.is_empty() {
        if exit == Exit::Success {
            let what = if total == 0 {
                format!("no {} {place}", noun(kind))
            } else {
                format!("no {} match the filters ({total} stored)", noun(kind))
            };
            out(&what);
        }
        return exit;
    }
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("-").to_string();
    let text = match kind {
        RecordKind::Worker if on_cluster => table::render(
            &["ID", "STATUS", "NAME", "KEY", "HOST", "UPDATED", "TASK"],
            &rows
                .iter()
                .map(|v| {
                    vec![
                        s(v, "id"),
                        s(v, "status"),
                        s(v, "name"),
                        s(v, "key"),
                        s(v, "host"),
                        table::short_time(&s(v, "updated_at")),
                        table::cut(&s(v, "task"), 60),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        RecordKind::Worker => table::render(
            &["ID", "STATUS", "NAME", "KEY", "UPDATED", "TASK"],
            &rows
                .iter()
                .map(|v| {
                    vec![
                        s(v, "id"),
                        s(v, "status"),
                        s(v, "name"),
                        s(v, "key"),
                        table::short_time(&s(v, "updated_at")),
                        table::cut(&s(v, "task"), 60),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        RecordKind::Run => table::render(
            &[
                "ID", "STATUS", "WORKFLOW", "KEY", "STAGES", "CREATED", "TASK",
            ],
            &rows
                .iter()
                .map(|v| {
                    vec![
                        s(v, "id"),
                        s(v, "status"),
                        s(v, "workflow"),
                        s(v, "key"),
                        v["stages"].as_array().map_or(0, Vec::len).to_string(),
                        table::short_time(&s(v, "created_at")),
                        table::cut(&s(v, "task"), 60),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    };
    out(&text);
    exit
}

/// `weft workers prune` / `weft runs prune`.
pub fn prune(state_dir: &Path, kind: RecordKind, args: &PruneArgs) -> Exit {
    if let Err(e) = check_statuses(kind, &args.status) {
        return super::usage_error(e);
    }
    let filter = PruneFilter {
        older_than: args.older_than,
        statuses: args.status.clone(),
    };
    let report = weft::tooling::prune_records(state_dir, kind, &filter, args.dry_run);
    for reason in &report.unreadable {
        eprintln!("error: {reason} (left alone)");
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for id in &report.removed {
        out(&format!("{verb} {id}"));
    }
    let mut summary = format!("{verb} {} {}", report.removed.len(), noun(kind));
    if report.kept_active > 0 {
        summary.push_str(&format!(
            "; kept {} still queued, running or awaiting approval",
            report.kept_active
        ));
    }
    out(&summary);
    if report.unreadable.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    }
}
