//! Live updates: `GET /events` is a server-sent-event stream tailing the
//! state directory's event log from the offset the page was rendered at
//! (`?since=N`, or the `Last-Event-ID` a reconnecting browser sends). Each
//! event is sent as `event: weft` with the JSON line as data and the log
//! offset after it as its id.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};

use super::server::App;

/// How often the log is polled.
const POLL: Duration = Duration::from_millis(200);

#[derive(serde::Deserialize)]
pub struct Since {
    since: Option<u64>,
}

pub async fn events(
    State(app): State<Arc<App>>,
    Query(q): Query<Since>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let offset = resume.or(q.since).unwrap_or(0);
    let start = (app, offset, VecDeque::new());
    let events = stream::unfold(start, |(app, mut offset, mut queue)| async move {
        loop {
            if let Some((json, at)) = queue.pop_front() {
                let event = Event::default()
                    .event("weft")
                    .id(u64::to_string(&at))
                    .data(serde_json::Value::to_string(&json));
                return Some((Ok(event), (app, offset, queue)));
            }
            tokio::time::sleep(POLL).await;
            let (batch, next) = app.source.events_since(offset);
            offset = next;
            queue.extend(batch.into_iter().map(|e| (e, next)));
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
