//! `weft approvals list [--json] [--pending]` and `weft approve ID
//! [--reject] [--choice C] [--comment TEXT]`: the approval requests of a
//! state directory (`<state>/approvals/*.json`) and answering one.

use super::{out, Exit};
use crate::cli::{ApprovalsArgs, ApprovalsCommand, ApproveArgs};

/// Runs `weft approvals list`.
pub fn list(args: ApprovalsArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    let ApprovalsCommand::List { json, pending } = args.command;
    let mut rows = Vec::new();
    let mut exit = Exit::Success;
    for record in weft::tooling::approvals(&state_dir) {
        match record {
            Ok(v) if !pending || v["status"] == "pending" => rows.push(v),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {}", e.message());
                exit = Exit::Failure;
            }
        }
    }
    if json {
        out(&serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()));
    } else if rows.is_empty() {
        out(&format!("no approval requests in {}", state_dir.display()));
    } else {
        for row in &rows {
            out(&line(row));
        }
    }
    exit
}

/// `ID  STATUS  REQUESTED  worker=ID  QUESTION [choices]`.
fn line(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    let worker = v["worker_id"]
        .as_str()
        .map(|w| format!("  worker={w}"))
        .unwrap_or_default();
    let choices = match v["choices"].as_array() {
        Some(c) if !c.is_empty() => format!(
            "  [{}]",
            c.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        _ => String::new(),
    };
    format!(
        "{}  {:<9} {}{}  {}{}",
        s("id"),
        s("status"),
        s("requested_at"),
        worker,
        s("question").replace('\n', " "),
        choices
    )
}

/// Runs `weft approve`.
pub fn approve(args: ApproveArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    let by = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map_or_else(|| "cli".to_string(), |u| format!("cli:{u}"));
    let answer = weft::Approval {
        approved: !args.reject,
        choice: args.choice,
        comment: args.comment,
        by,
    };
    match weft::tooling::answer_approval(&state_dir, &args.id, answer) {
        Ok(rec) => {
            out(&format!(
                "{} {}{}",
                args.id,
                rec["status"].as_str().unwrap_or("answered"),
                rec["answer"]["choice"]
                    .as_str()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ));
            Exit::Success
        }
        Err(e) => {
            eprintln!("error: {}", e.message());
            Exit::Failure
        }
    }
}
