//! A worker's or agent's transcript as markup: each message with its role,
//! its text, the tool calls it asked for and the tool results it carries.

use maud::{html, Markup};
use serde_json::Value as Json;

use crate::ui::format::pretty;

/// The messages of a transcript (`{messages: [...]}`), or nothing.
pub fn transcript(t: &Json) -> Markup {
    let Some(messages) = t["messages"].as_array().filter(|m| !m.is_empty()) else {
        return html! {};
    };
    html! {
        ol.transcript {
            @for m in messages {
                @let role = m["role"].as_str().unwrap_or("?");
                li class={"msg role-" (role)} {
                    span.role { (role) @if let Some(n) = m["name"].as_str() { " · " (n) } }
                    @if let Some(text) = m["content"].as_str().filter(|c| !c.is_empty()) {
                        pre.content { (text) }
                    } @else if !m["content"].is_null() && !m["content"].is_string() {
                        pre.content { (pretty(&m["content"])) }
                    }
                    @for call in m["tool_calls"].as_array().into_iter().flatten() {
                        div.toolcall {
                            span.tool { "→ " (call["name"].as_str().unwrap_or("?")) }
                            pre { (pretty(&call["arguments"])) }
                        }
                    }
                }
            }
        }
    }
}
