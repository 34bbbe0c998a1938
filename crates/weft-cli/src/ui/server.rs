//! The web server: routes, the guard every request passes (the token when
//! one is set; otherwise only loopback `Host` names, against DNS
//! rebinding), security headers, and the page handlers, which read
//! through the [`StateSource`] and render [`pages`](super::pages).

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::Markup;

use super::pages::{self, layout::Live};
use super::rows::{all_rows, Filter};
use super::source::{Record, StateSource};

/// What every handler shares.
pub struct App {
    pub source: Arc<dyn StateSource>,
    /// Required on every request when set.
    pub token: Option<String>,
}

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");
const TOKEN_COOKIE: &str = "weft_ui_token";

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(runs_page))
        .route("/runs/{id}", get(run_page))
        .route("/workers/{id}", get(worker_page))
        .route("/events", get(super::live::events))
        .route(
            "/assets/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    JS,
                )
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "weft ui: no such page\n") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Equal in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token a request carries: `Authorization: Bearer T`, `?token=T` or
/// the cookie set after a `?token=` visit.
fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<(String, bool)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            return Some((t.trim().to_string(), false));
        }
    }
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(t) = pair.strip_prefix("token=") {
                return Some((t.to_string(), true));
            }
        }
    }
    for v in headers.get_all(header::COOKIE) {
        for part in v.to_str().unwrap_or("").split(';') {
            if let Some(t) = part.trim().strip_prefix("weft_ui_token=") {
                return Some((t.to_string(), false));
            }
        }
    }
    None
}

/// Whether a `Host` header names this machine's loopback interface.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]") || name.starts_with("127.")
}

async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut set_cookie = None;
    match &app.token {
        Some(token) => match presented_token(req.headers(), req.uri().query()) {
            Some((t, from_query)) if same(&t, token) => {
                if from_query {
                    set_cookie = Some(format!(
                        "{TOKEN_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict"
                    ));
                }
            }
            _ => {
                return (
                    StatusCode::UNAUTHORIZED,
                    "weft ui: this server needs its token: open /?token=TOKEN once, or send 'Authorization: Bearer TOKEN'\n",
                )
                    .into_response()
            }
        },
        None if !loopback_host(req.headers()) => {
            return (
                StatusCode::FORBIDDEN,
                "weft ui: without a token only 127.0.0.1 and localhost are served\n",
            )
                .into_response()
        }
        None => {}
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    resp
}

fn page(app: &App, title: &str, scope: String, offset: u64, body: Markup) -> Html<String> {
    let live = Live { scope, offset };
    Html(pages::layout::page(title, &app.source.describe(), &live, body).into_string())
}

/// The log offset now (events after it are news to the page).
fn offset_now(app: &App) -> u64 {
    app.source.events_end()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn runs_page(State(app): State<Arc<App>>, Query(filter): Query<Filter>) -> Html<String> {
    let offset = offset_now(&app);
    let (runs, mut errors) = app.source.runs();
    let (workers, worker_errors) = app.source.workers();
    errors.extend(worker_errors);
    let rows = all_rows(&runs, &workers);
    page(
        &app,
        "Runs",
        "all".into(),
        offset,
        pages::runs::body(&rows, &filter, &errors),
    )
}

fn missing(app: &App, message: &str) -> Response {
    let body = pages::layout::not_found(message);
    (
        StatusCode::NOT_FOUND,
        page(app, "Not found", "none".into(), 0, body),
    )
        .into_response()
}

async fn run_page(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let offset = offset_now(&app);
    let record = match app.source.run(&id) {
        Ok(r) => r,
        Err(e) => return missing(&app, &e),
    };
    let workers: Vec<(String, Record)> = record["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|st| st["worker_id"].as_str())
        .filter_map(|w| app.source.worker(w).ok().map(|r| (w.to_string(), r)))
        .collect();
    let svg = weft::tooling::run_diagram(&record, "svg").map_err(|e| e.message().to_string());
    let title = format!("Run {}", record["workflow"].as_str().unwrap_or(""));
    let body = pages::run::body(&record, &workers, svg, now_ms());
    page(&app, &title, format!("run:{id}"), offset, body).into_response()
}

/// The tree a worker belongs to: up to its root, then every descendant.
fn delegation_tree(app: &App, w: &Record) -> pages::worker::TreeNode {
    let mut root = w.clone();
    for _ in 0..64 {
        match root["parent_id"]
            .as_str()
            .and_then(|p| app.source.worker(p).ok())
        {
            Some(parent) => root = parent,
            None => break,
        }
    }
    fn grow(app: &App, id: &str, record: Option<Record>, depth: usize) -> pages::worker::TreeNode {
        let children = match (&record, depth < 64) {
            (Some(r), true) => r["children"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .map(|c| grow(app, c, app.source.worker(c).ok(), depth + 1))
                .collect(),
            _ => Vec::new(),
        };
        pages::worker::TreeNode {
            id: id.to_string(),
            record,
            children,
        }
    }
    let id = root["id"].as_str().unwrap_or("").to_string();
    grow(app, &id, Some(root), 0)
}

async fn worker_page(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let offset = offset_now(&app);
    let w = match app.source.worker(&id) {
        Ok(r) => r,
        Err(e) => return missing(&app, &e),
    };
    let tree = delegation_tree(&app, &w);
    let events: Vec<serde_json::Value> = app
        .source
        .events_since(0)
        .0
        .into_iter()
        .filter(|e| e["worker_id"].as_str() == Some(id.as_str()))
        .collect();
    let title = format!("Worker {}", w["name"].as_str().unwrap_or(""));
    let body = pages::worker::body(&w, &tree, &events);
    page(&app, &title, format!("worker:{id}"), offset, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_header_query_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(
            presented_token(&h, Some("a=1&token=s3")),
            Some(("s3".into(), true))
        );
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; weft_ui_token=c"),
        );
        assert_eq!(presented_token(&h, None), Some(("c".into(), false)));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(presented_token(&h, None), Some(("b".into(), false)));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn only_loopback_hosts_pass_without_a_token() {
        let mut h = HeaderMap::new();
        for (host, ok) in [
            ("127.0.0.1:8765", true),
            ("localhost:1", true),
            ("[::1]:80", true),
            ("evil.example:8765", false),
        ] {
            h.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(loopback_host(&h), ok, "{host}");
        }
    }
}
