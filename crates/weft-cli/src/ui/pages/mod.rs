//! The HTML pages, rendered on the server with `maud` (which escapes
//! every interpolated value): the runs list, a run, a worker, and the
//! shared layout. Scripts only add live updates (`assets/app.js`).

pub mod layout;
pub mod run;
pub mod runs;
pub mod timeline;
pub mod transcript;
pub mod worker;

use maud::{html, Markup};

/// A status as a coloured badge.
pub fn badge(status: &str) -> Markup {
    let status = if status.is_empty() { "unknown" } else { status };
    html! { span class={"badge status-" (status)} { (status) } }
}

/// A block of preformatted text (JSON pretty-printed), or a dash.
pub fn pre(v: &serde_json::Value) -> Markup {
    if v.is_null() {
        return html! { span.none { "—" } };
    }
    html! { pre { (super::format::pretty(v)) } }
}
