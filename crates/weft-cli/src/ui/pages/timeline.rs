//! The timeline (Gantt chart) of a run: one bar per stage, placed by its
//! start and length relative to the whole run, and under a stage the bar
//! of the worker it started. Pure HTML/CSS (percentages), no script.

use maud::{html, Markup};
use serde_json::Value as Json;

use crate::ui::format::{duration, epoch_millis};
use crate::ui::source::Record;

/// One bar.
struct Bar {
    label: String,
    status: String,
    start: i64,
    end: i64,
    worker: bool,
    href: Option<String>,
}

/// The chart; `workers` are the snapshots of the stages' workers (by id),
/// `now_ms` ends the bars still running.
pub fn timeline(record: &Json, workers: &[(String, Record)], now_ms: i64) -> Markup {
    let Some(run_start) = epoch_millis(&record["created_at"]) else {
        return html! {};
    };
    let mut bars = Vec::new();
    for (i, st) in record["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(start) = epoch_millis(&st["started_at"]) else {
            continue;
        };
        let end = epoch_millis(&st["finished_at"]).unwrap_or(now_ms);
        bars.push(Bar {
            label: format!("{} {}", i + 1, st["node"].as_str().unwrap_or("?")),
            status: st["status"].as_str().unwrap_or("running").to_string(),
            start,
            end,
            worker: false,
            href: Some(format!("#stage-{}", i + 1)),
        });
        if let Some(id) = st["worker_id"].as_str() {
            if let Some((_, w)) = workers.iter().find(|(wid, _)| wid == id) {
                let ws = epoch_millis(&w["started_at"]).unwrap_or(start);
                bars.push(Bar {
                    label: format!("↳ {}", w["name"].as_str().unwrap_or(id)),
                    status: w["status"].as_str().unwrap_or("running").to_string(),
                    start: ws,
                    end: epoch_millis(&w["finished_at"]).unwrap_or(now_ms),
                    worker: true,
                    href: Some(format!("/workers/{id}")),
                });
            }
        }
    }
    if bars.is_empty() {
        return html! { p.empty { "No stage has started yet." } };
    }
    let run_end = epoch_millis(&record["finished_at"])
        .unwrap_or(now_ms)
        .max(bars.iter().map(|b| b.end).max().unwrap_or(run_start));
    let total = (run_end - run_start).max(1) as f64;
    html! {
        div.gantt {
            @for b in &bars {
                @let left = ((b.start - run_start).max(0) as f64 / total * 100.0).min(99.5);
                @let width = ((b.end - b.start).max(0) as f64 / total * 100.0).clamp(0.5, 100.0 - left);
                div.gantt-row.worker[b.worker] {
                    span.gantt-label {
                        @if let Some(h) = &b.href { a href=(h) { (b.label) } } @else { (b.label) }
                    }
                    span.gantt-track {
                        span class={"gantt-bar status-" (b.status)}
                            style=(format!("left:{left:.2}%;width:{width:.2}%"))
                            title=(format!("{} · {}", b.status, duration(Some(b.end - b.start)))) {}
                    }
                    span.gantt-time { (duration(Some(b.end - b.start))) }
                }
            }
            div.gantt-axis { span { "0" } span { (duration(Some(run_end - run_start))) } }
        }
    }
}
