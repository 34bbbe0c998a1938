//! `weft cache stats [--json]` and `weft cache clear [--older-than
//! DURATION] [--json]`: the result cache of a state directory
//! (`<state>/cache/*.json`, docs/cache-decisions.md). A file there that is
//! not a readable entry is named by `stats` (exit 1) and removed by
//! `clear`.

use super::{out, Exit};
use crate::cli::{CacheArgs, CacheCommand};

/// Runs `weft cache`.
pub fn execute(args: CacheArgs) -> Exit {
    let state_dir = super::state_dir(args.state_dir);
    match args.command {
        CacheCommand::Stats { json } => {
            let s = weft::tooling::cache_stats(&state_dir);
            if json {
                out(&serde_json::to_string_pretty(&s).unwrap_or_else(|_| s.to_string()));
            } else {
                print_stats(&s);
            }
            let corrupt = s["corrupt"].as_array().map_or(0, Vec::len);
            if corrupt > 0 {
                eprintln!(
                    "error: {corrupt} corrupt cache {} (not used by runs; `weft cache clear` removes {})",
                    plural(corrupt as u64, "file", "files"),
                    if corrupt == 1 { "it" } else { "them" }
                );
                return Exit::Failure;
            }
            Exit::Success
        }
        CacheCommand::Clear { older_than, json } => {
            match weft::tooling::cache_clear(&state_dir, older_than) {
                Ok(r) => {
                    if json {
                        out(&serde_json::to_string_pretty(&r).unwrap_or_else(|_| r.to_string()));
                    } else {
                        let n = r["removed"].as_u64().unwrap_or(0);
                        let corrupt = r["corrupt"].as_u64().unwrap_or(0);
                        out(&format!(
                            "removed {n} cache {} ({}{}) from {}; kept {}",
                            plural(n, "entry", "entries"),
                            bytes(r["bytes"].as_u64().unwrap_or(0)),
                            if corrupt > 0 {
                                format!(", {corrupt} corrupt")
                            } else {
                                String::new()
                            },
                            state_dir.display(),
                            r["kept"].as_u64().unwrap_or(0)
                        ));
                    }
                    Exit::Success
                }
                Err(e) => {
                    eprintln!("error: {}", e.message());
                    Exit::Failure
                }
            }
        }
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// `cache in DIR: N entries, SIZE (E expired)`, a line per kind, the
/// oldest and newest, and each corrupt file.
fn print_stats(s: &serde_json::Value) {
    let n = s["entries"].as_u64().unwrap_or(0);
    out(&format!(
        "cache in {}: {n} {}, {} ({} expired)",
        s["state_dir"].as_str().unwrap_or(""),
        plural(n, "entry", "entries"),
        bytes(s["bytes"].as_u64().unwrap_or(0)),
        s["expired"].as_u64().unwrap_or(0)
    ));
    if let Some(kinds) = s["by_kind"].as_object() {
        for (kind, k) in kinds {
            let n = k["entries"].as_u64().unwrap_or(0);
            out(&format!(
                "  {kind:<11} {n} {}, {}",
                plural(n, "entry", "entries"),
                bytes(k["bytes"].as_u64().unwrap_or(0))
            ));
        }
    }
    if let (Some(o), Some(nw)) = (s["oldest"].as_str(), s["newest"].as_str()) {
        out(&format!("  oldest {o}, newest {nw}"));
    }
    for c in s["corrupt"].as_array().into_iter().flatten() {
        out(&format!(
            "  corrupt {}: {}",
            c["file"].as_str().unwrap_or(""),
            c["reason"].as_str().unwrap_or("")
        ));
    }
}
