//! The rows of the runs page: workflow runs and top-level workers as one
//! list, newest first, with status, duration, tokens and cost, filtered by
//! status, name and task text, and cut into pages.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::format::{millis_between, tokens_of};
use super::source::Record;

/// A run or a top-level worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Run,
    Worker,
}

/// One line of the runs page.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RowKind,
    pub id: String,
    /// The workflow's or worker's name.
    pub name: String,
    pub status: String,
    pub task: String,
    pub created_at: String,
    pub duration_ms: Option<i64>,
    pub tokens: u64,
    pub cost_usd: Option<f64>,
    pub stages: Option<usize>,
}

/// What the runs page asks for (its query string).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    /// Exact status (`running`, `completed`, ...); empty = any.
    #[serde(default)]
    pub status: String,
    /// Substring of the workflow or worker name (case-insensitive).
    #[serde(default)]
    pub name: String,
    /// Substring of the task text (case-insensitive).
    #[serde(default)]
    pub q: String,
    /// 1-based page number.
    #[serde(default)]
    pub page: Option<usize>,
}

/// Rows per page.
pub const PAGE_SIZE: usize = 100;

fn s(v: &Json, k: &str) -> String {
    v[k].as_str().unwrap_or("").to_string()
}

fn row_of(kind: RowKind, v: &Json, name_key: &str) -> Row {
    Row {
        kind,
        id: s(v, "id"),
        name: s(v, name_key),
        status: s(v, "status"),
        task: s(v, "task"),
        created_at: s(v, "created_at"),
        duration_ms: millis_between(
            &v[if kind == RowKind::Worker {
                "started_at"
            } else {
                "created_at"
            }],
            &v["finished_at"],
        ),
        tokens: tokens_of(&v["usage"]),
        cost_usd: cost_of(v),
        stages: v["stages"].as_array().map(Vec::len),
    }
}

/// What a record cost, where known: `usage.cost_usd`, or what its budget
/// scope spent (`budget.spent.cost_usd`, when priced: above zero).
pub fn cost_of(v: &Json) -> Option<f64> {
    v["usage"]["cost_usd"].as_f64().or_else(|| {
        v["budget"]["spent"]["cost_usd"]
            .as_f64()
            .filter(|c| *c > 0.0)
    })
}

/// Runs and the workers nobody else started (no parent, not a run's
/// stage), newest first.
pub fn all_rows(runs: &[Record], workers: &[Record]) -> Vec<Row> {
    let stage_workers: HashSet<&str> = runs
        .iter()
        .flat_map(|r| r["stages"].as_array().into_iter().flatten())
        .filter_map(|st| st["worker_id"].as_str())
        .collect();
    let mut rows: Vec<Row> = runs
        .iter()
        .map(|r| row_of(RowKind::Run, r, "workflow"))
        .collect();
    rows.extend(
        workers
            .iter()
            .filter(|w| w["parent_id"].is_null())
            .filter(|w| {
                !w["id"]
                    .as_str()
                    .is_some_and(|id| stage_workers.contains(id))
            })
            .map(|w| row_of(RowKind::Worker, w, "name")),
    );
    rows.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    rows
}

impl Filter {
    pub fn matches(&self, row: &Row) -> bool {
        let has = |hay: &str, needle: &str| {
            needle.is_empty() || hay.to_lowercase().contains(&needle.trim().to_lowercase())
        };
        (self.status.is_empty() || row.status == self.status)
            && has(&row.name, &self.name)
            && has(&row.task, &self.q)
    }

    /// The rows of the requested page, the page number and the number of
    /// pages.
    pub fn page<'a>(&self, rows: &'a [Row]) -> (Vec<&'a Row>, usize, usize) {
        let kept: Vec<&Row> = rows.iter().filter(|r| self.matches(r)).collect();
        let pages = kept.len().div_ceil(PAGE_SIZE).max(1);
        let page = self.page.unwrap_or(1).clamp(1, pages);
        let shown = kept
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        (shown, page, pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn stage_and_child_workers_are_not_top_level() {
        let runs = vec![Arc::new(
            json!({"id": "r_1", "workflow": "w", "status": "completed",
            "created_at": "2026-01-01T00:00:01Z", "stages": [{"worker_id": "w_stage"}]}),
        )];
        let workers = vec![
            Arc::new(
                json!({"id": "w_stage", "parent_id": null, "created_at": "2026-01-01T00:00:02Z"}),
            ),
            Arc::new(
                json!({"id": "w_child", "parent_id": "w_top", "created_at": "2026-01-01T00:00:04Z"}),
            ),
            Arc::new(
                json!({"id": "w_top", "parent_id": null, "name": "top", "status": "running",
                "task": "Find the Bug", "created_at": "2026-01-01T00:00:03Z"}),
            ),
        ];
        let rows = all_rows(&runs, &workers);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["w_top", "r_1"], "newest first");
        let f = Filter {
            q: "bug".into(),
            ..Filter::default()
        };
        assert_eq!(f.page(&rows).0.len(), 1);
        let f = Filter {
            status: "completed".into(),
            name: "W".into(),
            ..Filter::default()
        };
        assert_eq!(f.page(&rows).0[0].id, "r_1");
    }

    #[test]
    fn cost_comes_from_usage_or_the_budget_spent() {
        assert_eq!(cost_of(&json!({"usage": {"cost_usd": 0.5}})), Some(0.5));
        assert_eq!(
            cost_of(&json!({"budget": {"spent": {"cost_usd": 0.25}}})),
            Some(0.25)
        );
        assert_eq!(
            cost_of(&json!({"budget": {"spent": {"cost_usd": 0.0}}})),
            None
        );
        assert_eq!(cost_of(&json!({})), None);
    }

    #[test]
    fn pages_are_clamped() {
        let rows: Vec<Row> = (0..250)
            .map(|i| row_of(RowKind::Run, &json!({"id": format!("r_{i}")}), "workflow"))
            .collect();
        let f = Filter {
            page: Some(9),
            ..Filter::default()
        };
        let (shown, page, pages) = f.page(&rows);
        assert_eq!((shown.len(), page, pages), (50, 3, 3));
    }
}
