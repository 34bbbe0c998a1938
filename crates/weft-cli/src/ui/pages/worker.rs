//! The page of one worker: the delegation tree it belongs to (root to
//! leaves, this worker marked), its policy, carry, execution profile,
//! usage, result or error, transcript, and its events.

use maud::{html, Markup};
use serde_json::Value as Json;

use super::transcript::transcript;
use super::{badge, pre};
use crate::ui::format::{duration, millis_between, tokens_of, when};
use crate::ui::source::Record;

/// A node of the delegation tree: a snapshot (or just an id when its
/// snapshot is missing) and its children.
pub struct TreeNode {
    pub id: String,
    pub record: Option<Record>,
    pub children: Vec<TreeNode>,
}

pub fn body(w: &Json, tree: &TreeNode, events: &[Json]) -> Markup {
    let s = |k: &str| w[k].as_str().unwrap_or("");
    html! {
        h1 { "Worker " (s("name")) " " (badge(s("status"))) }
        dl.facts {
            dt { "Id" } dd.id { (s("id")) }
            dt { "Task" } dd { pre.task { (s("task")) } }
            dt { "Mode" } dd { (s("mode")) }
            @if let Some(k) = w["key"].as_str() { dt { "Key" } dd { (k) } }
            @if let Some(r) = w["run_id"].as_str() { dt { "Run" } dd { a href={"/runs/" (r)} { (r) } } }
            dt { "Started" } dd { (when(s("started_at"))) }
            dt { "Duration" } dd { (duration(millis_between(&w["started_at"], &w["finished_at"]))) }
            dt { "Usage" } dd {
                (tokens_of(&w["usage"])) " tokens · " (w["usage"]["iterations"].as_u64().unwrap_or(0)) " model calls · "
                (w["usage"]["tool_calls"].as_u64().unwrap_or(0)) " tool calls"
            }
            @if let Some(c) = crate::ui::rows::cost_of(w) { dt { "Cost" } dd { (format!("${c:.4}")) } }
            dt { "Depth" } dd { (w["depth"].as_u64().unwrap_or(0)) }
        }
        section {
            h2 { "Delegation tree" }
            ul.tree { (tree_node(tree, s("id"))) }
        }
        section.cols {
            div { h2 { "Policy" } (pre(&w["policy"])) }
            div { h2 { "Carry" } (pre(&w["carry"])) }
            div { h2 { "Execution" } (pre(&w["execution"])) }
        }
        @if !w["budget"].is_null() {
            section { h2 { "Budget" } (pre(&w["budget"])) }
        }
        section {
            h2 { "Result" }
            @if !w["error"].is_null() { div.error { (pre(&w["error"])) } }
            (pre(&w["result"]))
        }
        section {
            h2 { "Transcript" }
            (transcript(&w["transcript"]))
        }
        section {
            h2 { "Events (" (events.len()) ")" }
            @if events.is_empty() { p.empty { "No events logged." } } @else {
                table.events {
                    thead { tr { th { "#" } th { "At" } th { "Kind" } th { "Data" } } }
                    tbody {
                        @for e in events {
                            tr { td.num { (e["seq"]) } td.time { (when(e["at"].as_str().unwrap_or(""))) }
                                 td { (e["kind"].as_str().unwrap_or("")) } td { code { (e["data"].to_string()) } } }
                        }
                    }
                }
            }
        }
    }
}

fn tree_node(n: &TreeNode, current: &str) -> Markup {
    let (name, status) = match &n.record {
        Some(r) => (
            r["name"].as_str().unwrap_or("").to_string(),
            r["status"].as_str().unwrap_or("").to_string(),
        ),
        None => (String::new(), "missing".to_string()),
    };
    html! {
        li class=[(n.id == current).then_some("current")] {
            a href={"/workers/" (n.id)} { (name) " " span.id { (n.id) } } " " (badge(&status))
            @if !n.children.is_empty() {
                ul { @for c in &n.children { (tree_node(c, current)) } }
            }
        }
    }
}
