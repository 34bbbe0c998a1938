//! Human-readable views of stored run records for `weft runs list` and
//! `weft runs show` (embedding.md §1): one line per run, and a summary of
//! one run — stages with branch, attempts, duration, tokens and worker,
//! the transitions taken, pending nodes, usage and the error.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::store::{list_dir, load_record};

/// Every readable record under `<state>/runs/`, oldest first, and the
/// reasons the unreadable ones were skipped.
pub fn list_runs(state_dir: &Path) -> (Vec<Json>, Vec<String>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for path in list_dir(&state_dir.join("runs")) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match load_record(&path, "weft.run", 1) {
            Ok(v) => rows.push(v),
            Err(reason) => errors.push(reason),
        }
    }
    rows.sort_by(|a, b| a["created_at"].as_str().cmp(&b["created_at"].as_str()));
    (rows, errors)
}

/// Loads one record by id (`r_...`) or path.
pub fn load_run(state_dir: &Path, id: &str) -> Result<Json, String> {
    let path = if id.ends_with(".json") || id.contains('/') {
        PathBuf::from(id)
    } else {
        state_dir.join("runs").join(format!("{id}.json"))
    };
    if !path.exists() {
        return Err(format!("no run {id} in {}", state_dir.display()));
    }
    load_record(&path, "weft.run", 1)
}

fn s<'a>(v: &'a Json, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("-")
}

fn cut(text: &str, n: usize) -> String {
    let t = text.replace('\n', " ");
    if t.chars().count() > n {
        t.chars().take(n - 3).collect::<String>() + "..."
    } else {
        t
    }
}

/// Milliseconds between two RFC 3339 times.
fn millis(from: &Json, to: &Json) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from.as_str()?).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to.as_str()?).ok()?;
    Some((b - a).num_milliseconds())
}

fn duration(from: &Json, to: &Json) -> String {
    match millis(from, to) {
        Some(ms) if ms >= 10_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => format!("{ms}ms"),
        None => "-".to_string(),
    }
}

fn usage_text(u: &Json) -> String {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    format!(
        "{} input + {} output tokens, {} model calls, {} tool calls",
        n("input_tokens"),
        n("output_tokens"),
        n("iterations"),
        n("tool_calls")
    )
}

/// The readable summary of one run.
pub fn summary(v: &Json) -> String {
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&l);
        out.push('\n');
    };
    line(format!(
        "run {}  workflow {}  status {}",
        s(v, "id"),
        s(v, "workflow"),
        s(v, "status")
    ));
    line(format!("task: {}", cut(s(v, "task"), 200)));
    if let Some(k) = v["key"].as_str() {
        line(format!("key: {k}"));
    }
    if let Some(r) = v["replay_of"].as_str() {
        line(format!("replay of: {r}"));
    }
    line(format!(
        "created {}  finished {}  took {}",
        s(v, "created_at"),
        s(v, "finished_at"),
        duration(&v["created_at"], &v["finished_at"])
    ));
    line(format!("usage: {}", usage_text(&v["usage"])));
    let stages = v["stages"].as_array().cloned().unwrap_or_default();
    line(format!("stages ({}):", stages.len()));
    let mut rows = vec![[
        "#".to_string(),
        "node".into(),
        "kind".into(),
        "status".into(),
        "branch".into(),
        "attempts".into(),
        "took".into(),
        "tokens".into(),
        "worker".into(),
    ]];
    for (i, st) in stages.iter().enumerate() {
        let u = &st["usage"];
        let tokens =
            u["input_tokens"].as_u64().unwrap_or(0) + u["output_tokens"].as_u64().unwrap_or(0);
        rows.push([
            (i + 1).to_string(),
            s(st, "node").to_string(),
            s(st, "kind").to_string(),
            if st["cached"].as_bool() == Some(true) {
                format!("{} (cached)", s(st, "status"))
            } else {
                s(st, "status").to_string()
            },
            s(st, "branch").to_string(),
            st["attempts"].as_u64().unwrap_or(0).to_string(),
            duration(&st["started_at"], &st["finished_at"]),
            tokens.to_string(),
            s(st, "worker_id").to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<w$}", w = widths[c]))
            .collect();
        line(format!("  {}", cells.join("  ").trim_end()));
    }
    for st in &stages {
        if let Some(msg) = st["error"]["message"].as_str() {
            line(format!(
                "  ! {}: [{}] {}",
                s(st, "node"),
                st["error"]["category"].as_str().unwrap_or("error"),
                cut(msg, 200)
            ));
        }
    }
    let transitions = v["transitions"].as_array().cloned().unwrap_or_default();
    if !transitions.is_empty() {
        line("transitions:".to_string());
        for t in &transitions {
            let arrow = match t["branch"].as_str() {
                Some(b) => format!(" -[{b}]-> "),
                None => " -> ".to_string(),
            };
            line(format!("  {}{arrow}{}", s(t, "from"), s(t, "to")));
        }
    }
    let pending: Vec<&str> = v["pending"]
        .as_array()
        .map(|p| p.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    line(format!(
        "pending: {}",
        if pending.is_empty() {
            "(none)".to_string()
        } else {
            pending.join(", ")
        }
    ));
    if let Some(msg) = v["error"]["message"].as_str() {
        line(format!(
            "error: [{}] {}",
            v["error"]["category"].as_str().unwrap_or("error"),
            msg
        ));
    }
    out.trim_end().to_string()
}
