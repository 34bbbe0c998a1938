//! The page of one workflow run: its facts, the graph as inline SVG (nodes
//! coloured by status, edges taken with counts), the timeline, and every
//! stage — input, output, error, attempts, the worker's transcript —
//! collapsible.

use maud::{html, Markup, PreEscaped};
use serde_json::Value as Json;

use super::timeline::timeline;
use super::transcript::transcript;
use super::{badge, pre};
use crate::ui::format::{duration, millis_between, tokens_of, when};
use crate::ui::source::Record;

/// The run page's body. `workers` holds the snapshots of the stages'
/// workers; `graph_svg` the picture (or why there is none).
pub fn body(
    record: &Json,
    workers: &[(String, Record)],
    graph_svg: Result<String, String>,
    now_ms: i64,
) -> Markup {
    let s = |k: &str| record[k].as_str().unwrap_or("");
    let usage = &record["usage"];
    let stages = record["stages"].as_array().cloned().unwrap_or_default();
    let pending: Vec<&str> = record["pending"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .collect();
    html! {
        h1 { "Run of " (s("workflow")) " " (badge(s("status"))) }
        dl.facts {
            dt { "Id" } dd.id { (s("id")) }
            dt { "Task" } dd { pre.task { (s("task")) } }
            @if let Some(k) = record["key"].as_str() { dt { "Key" } dd { (k) } }
            @if let Some(r) = record["replay_of"].as_str() {
                dt { "Replay of" } dd { a href={"/runs/" (r)} { (r) } }
            }
            dt { "Started" } dd { (when(s("created_at"))) }
            dt { "Finished" } dd { @if record["finished_at"].is_string() { (when(s("finished_at"))) } @else { "-" } }
            dt { "Duration" } dd { (duration(millis_between(&record["created_at"], &record["finished_at"]))) }
            dt { "Usage" } dd {
                (tokens_of(usage)) " tokens (" (usage["input_tokens"].as_u64().unwrap_or(0)) " in, "
                (usage["output_tokens"].as_u64().unwrap_or(0)) " out) · "
                (usage["iterations"].as_u64().unwrap_or(0)) " model calls · "
                (usage["tool_calls"].as_u64().unwrap_or(0)) " tool calls"
                @if let Some(c) = crate::ui::rows::cost_of(record) { " · " (format!("${c:.4}")) }
            }
            @if !pending.is_empty() { dt { "Pending" } dd { (pending.join(", ")) } }
            @if !record["error"].is_null() {
                dt { "Error" } dd.error { (pre(&record["error"])) }
            }
        }
        section.graph {
            h2 { "Graph" }
            @match &graph_svg {
                Ok(svg) => div.graph-box { (PreEscaped(svg)) },
                Err(e) => p.error { "No picture: " (e) },
            }
            p.legend {
                @for st in ["completed", "running", "failed", "pending", "idle"] {
                    span class={"swatch status-" (st)} {} (st) " "
                }
                "· thick edges were taken (×N: how often)"
            }
        }
        section {
            h2 { "Timeline" }
            (timeline(record, workers, now_ms))
        }
        section.stages {
            h2 { "Stages (" (stages.len()) ")" }
            @for (i, st) in stages.iter().enumerate() {
                (stage(i + 1, st, workers))
            }
        }
    }
}

fn stage(n: usize, st: &Json, workers: &[(String, Record)]) -> Markup {
    let s = |k: &str| st[k].as_str().unwrap_or("");
    let worker = st["worker_id"]
        .as_str()
        .and_then(|id| workers.iter().find(|(w, _)| w == id).map(|(_, r)| r));
    // The transcript: the node's own (a subagent's output), else its worker's.
    let own = &st["output"]["transcript"];
    let messages = if own["messages"].is_array() {
        own
    } else {
        worker.map_or(&Json::Null, |w| &w["transcript"])
    };
    html! {
        details.stage id={"stage-" (n)} data-node=(s("node")) data-status=(s("status")) open[s("status") == "running" || s("status") == "failed"] {
            summary {
                span.n { (n) }
                span.node { (s("node")) }
                span.kind { (s("kind")) }
                (badge(s("status")))
                @if let Some(b) = st["branch"].as_str() { span.branch { "→ " (b) } }
                span.dim { (st["attempts"].as_u64().unwrap_or(1)) " attempt(s) · "
                    (duration(millis_between(&st["started_at"], &st["finished_at"]))) " · "
                    (tokens_of(&st["usage"])) " tokens" }
            }
            div.stage-body {
                @if let Some(id) = st["worker_id"].as_str() {
                    p { "Worker " a href={"/workers/" (id)} { (id) } }
                }
                h3 { "Input" } (pre(&st["input"]))
                h3 { "Output" } (pre(&display_output(&st["output"])))
                @if !st["error"].is_null() { h3 { "Error" } div.error { (pre(&st["error"])) } }
                @if messages["messages"].as_array().is_some_and(|m| !m.is_empty()) {
                    details.transcript-box {
                        summary { "Transcript (" (messages["messages"].as_array().map_or(0, Vec::len)) " messages)" }
                        (transcript(messages))
                    }
                }
            }
        }
    }
}

/// A stage's output without its transcript (shown on its own).
fn display_output(out: &Json) -> Json {
    match out {
        Json::Object(m) if m.contains_key("transcript") => {
            let mut m = m.clone();
            m.remove("transcript");
            Json::Object(m)
        }
        other => other.clone(),
    }
}
