//! The runs page: workflow runs and top-level workers, newest first, with
//! a filter form (status, name, task text) and pages of
//! [`PAGE_SIZE`](crate::ui::rows::PAGE_SIZE) rows.

use maud::{html, Markup};

use super::badge;
use crate::ui::format::{cut, duration, when};
use crate::ui::rows::{Filter, Row, RowKind};

/// Statuses offered by the filter.
const STATUSES: &[&str] = &[
    "running",
    "completed",
    "failed",
    "paused",
    "cancelled",
    "interrupted",
    "awaiting_approval",
    "idle",
    "waiting",
];

fn link(row: &Row) -> String {
    match row.kind {
        RowKind::Run => format!("/runs/{}", row.id),
        RowKind::Worker => format!("/workers/{}", row.id),
    }
}

/// A query string keeping the filter, for page `page`.
fn page_href(f: &Filter, page: usize) -> String {
    let mut parts = vec![format!("page={page}")];
    for (k, v) in [("status", &f.status), ("name", &f.name), ("q", &f.q)] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    format!("/?{}", parts.join("&"))
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn body(rows: &[Row], filter: &Filter, errors: &[String]) -> Markup {
    let (shown, page, pages) = filter.page(rows);
    let with_cost = shown.iter().any(|r| r.cost_usd.is_some());
    let running = rows.iter().filter(|r| r.status == "running").count();
    html! {
        h1 { "Runs and workers" }
        p.summary {
            (rows.len()) " in all · " (running) " running"
        }
        form.filter method="get" action="/" {
            label { "Status "
                select name="status" {
                    option value="" selected[filter.status.is_empty()] { "any" }
                    @for s in STATUSES {
                        option value=(s) selected[filter.status == *s] { (s) }
                    }
                }
            }
            label { "Name " input type="text" name="name" value=(filter.name) placeholder="workflow or worker"; }
            label { "Task " input type="search" name="q" value=(filter.q) placeholder="search task text"; }
            button type="submit" { "Filter" }
            @if !filter.status.is_empty() || !filter.name.is_empty() || !filter.q.is_empty() {
                a.clear href="/" { "clear" }
            }
        }
        @if !errors.is_empty() {
            details.warnings {
                summary { (errors.len()) " unreadable record(s)" }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if shown.is_empty() {
            p.empty { "Nothing matches." }
        } @else {
            table.runs {
                thead { tr {
                    th { "Type" } th { "Id" } th { "Name" } th { "Status" } th { "Started" }
                    th.num { "Duration" } th.num { "Tokens" }
                    @if with_cost { th.num { "Cost" } }
                    th { "Task" }
                } }
                tbody {
                    @for r in &shown {
                        tr data-id=(r.id) data-status=(r.status) {
                            td { @match r.kind { RowKind::Run => { span.kind { "run" } }, RowKind::Worker => { span.kind.worker { "worker" } } } }
                            td.id { a href=(link(r)) { (cut(&r.id, 14)) } }
                            td { (r.name) @if let Some(n) = r.stages { span.dim { " · " (n) " stages" } } }
                            td { (badge(&r.status)) }
                            td.time { (when(&r.created_at)) }
                            td.num { (duration(r.duration_ms)) }
                            td.num { (r.tokens) }
                            @if with_cost { td.num { @if let Some(c) = r.cost_usd { (format!("${c:.4}")) } @else { "-" } } }
                            td.task title=(r.task) { (cut(&r.task, 90)) }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages {
                    @if page > 1 { a href=(page_href(filter, page - 1)) { "← newer" } }
                    span { "page " (page) " of " (pages) }
                    @if page < pages { a href=(page_href(filter, page + 1)) { "older →" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("a b&c=d"), "a%20b%26c%3Dd");
        let f = Filter {
            q: "x y".into(),
            ..Filter::default()
        };
        assert_eq!(page_href(&f, 2), "/?page=2&q=x%20y");
    }
}
