//! Replaying the cycles of a keyed worker that was given more input
//! (`send_input`) before the program stopped (workers.md §6).
//!
//! Every `send_input` records the cycle that just ended in the worker's
//! snapshot (`cycles`: result, error, usage, where its transcript ended,
//! and the SHA-256 of the input that followed). When the program runs
//! again, `spawn_worker` with the key presents the FIRST cycle's result,
//! and each `send_input` whose text matches the recorded next input moves
//! on to the next recorded cycle without running anything. The last
//! recorded cycle is the worker's real state: it is returned if it ended,
//! resumed from its checkpoint if it was cut short, and started afresh
//! (after the previous cycle's transcript) if it had not begun. While a
//! worker is replaying nothing of it is written: the snapshot on disk
//! stays the complete record.

use std::rc::Rc;

use serde_json::json;
use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{from_json, Value};

use super::registry::{Status, Usage, Worker};
use crate::profile::TranscriptMode;
use crate::transcript::Transcript;

/// A worker being replayed: its complete stored snapshot and the cycle
/// presented now.
pub struct Replay {
    snap: serde_json::Value,
    cursor: usize,
}

/// The record of the cycle `w` just ended, written into its snapshot when
/// `next_input` starts the next one.
pub fn cycle_record(w: &Worker, next_input: &str) -> serde_json::Value {
    let j = |v: &Value| weft_vm::value::to_json(v).unwrap_or_default();
    let mut result = j(&w.result.borrow());
    if let Some(m) = result.as_object_mut() {
        m.remove("transcript");
    }
    let own = w.own_transcript();
    let mut rec = json!({
        "status": w.status().name(), "result": result, "error": j(&w.error.borrow()),
        "usage": w.usage.get().to_json(), "attempt": w.attempt.get(),
        "finished_at": w.finished_at.borrow().clone(),
        "next_input": input_digest(next_input),
    });
    // Under `inherit`/`fork` later cycles only append to the transcript,
    // so where this one ended is enough; `reset`/`compact` replace it.
    match w.options.borrow().carry.transcript {
        TranscriptMode::Inherit | TranscriptMode::Fork => {
            rec["transcript_end"] =
                json!({"messages": own.messages.len(), "events": own.events.len()});
        }
        TranscriptMode::Reset | TranscriptMode::Compact => {
            rec["transcript"] = serde_json::to_value(&own).unwrap_or_default();
        }
    }
    rec
}

/// Hex SHA-256 of an input text (the stored history is redacted; this is
/// what a re-run's input is compared with).
fn input_digest(text: &str) -> String {
    crate::store::fingerprint(&[&serde_json::Value::String(text.to_string())])
}

/// Starts replaying `w` (restored from `snap`) when its snapshot records
/// earlier cycles: presents the first one and returns true.
pub fn begin(w: &Worker, snap: &serde_json::Value) -> bool {
    if w.cycle_log.borrow().is_empty() {
        return false;
    }
    present(w, snap, 0);
    *w.replay.borrow_mut() = Some(Replay {
        snap: snap.clone(),
        cursor: 0,
    });
    true
}

/// What `send_input` should do with a worker.
pub enum Step {
    /// Not replaying: start a new cycle as usual.
    NotReplaying,
    /// An earlier recorded cycle is presented; nothing runs.
    Presented,
    /// The last recorded cycle is reached and `w` holds its real state:
    /// schedule it when `true` (cut short or not yet begun).
    Reached(bool),
}

/// Moves a replaying worker on by one cycle when `text` is the input
/// recorded next; a different input is an error (a keyed program must
/// give the same inputs when it runs again).
pub fn advance(w: &Worker, text: &str, who: &str) -> RtResult<Step> {
    let Some((snap, cursor)) = w
        .replay
        .borrow()
        .as_ref()
        .map(|r| (r.snap.clone(), r.cursor))
    else {
        return Ok(Step::NotReplaying);
    };
    let recorded = w.cycle_log.borrow()[cursor]
        .get("next_input")
        .and_then(|d| d.as_str())
        .map(str::to_string);
    if recorded.as_deref() != Some(input_digest(text).as_str()) {
        return Err(value_error(format!(
            "{who}: worker key '{}' recorded a different input for cycle {} than this one; \
             a keyed program must send the same inputs when it runs again \
             (run with --fresh to start the worker over)",
            w.key.as_deref().unwrap_or(""),
            cursor + 2
        )));
    }
    let next = cursor + 1;
    if next < w.cycle_log.borrow().len() {
        present(w, &snap, next);
        if let Some(r) = w.replay.borrow_mut().as_mut() {
            r.cursor = next;
        }
        return Ok(Step::Presented);
    }
    // The last recorded cycle: the snapshot's own state.
    *w.replay.borrow_mut() = None;
    let before = transcript_at(w, &snap, cursor);
    super::durable::restore(w, &snap);
    *w.task.borrow_mut() = text.to_string();
    w.cycles.set(next);
    let schedule = super::run::continue_restored(w);
    if schedule && w.resume_from.borrow().is_none() {
        // Not begun (or begun again): it starts after the previous cycle.
        *w.transcript.borrow_mut() = Some(before);
    }
    Ok(Step::Reached(schedule))
}

/// Shows recorded cycle `c` as the worker's state: ended, durable.
fn present(w: &Worker, snap: &serde_json::Value, c: usize) {
    let rec = w.cycle_log.borrow()[c].clone();
    let transcript = transcript_at(w, snap, c);
    let mut result = from_json(rec.get("result").cloned().unwrap_or_default());
    if let Value::Dict(d) = &mut result {
        Rc::make_mut(d).insert(Rc::new("transcript".to_string()), transcript.to_value());
    }
    let status = rec
        .get("status")
        .and_then(|s| s.as_str())
        .and_then(Status::parse)
        .unwrap_or(Status::Awaiting);
    w.status.set(status);
    *w.result.borrow_mut() = result;
    *w.error.borrow_mut() = from_json(rec.get("error").cloned().unwrap_or_default());
    w.usage
        .set(Usage::from_json(rec.get("usage").unwrap_or(&json!({}))));
    w.attempt
        .set(rec.get("attempt").and_then(|a| a.as_u64()).unwrap_or(1));
    *w.finished_at.borrow_mut() = rec
        .get("finished_at")
        .and_then(|f| f.as_str())
        .map(str::to_string);
    let history: Vec<String> = snap
        .get("history")
        .and_then(|h| h.as_array())
        .map(|h| {
            h.iter()
                .take(c + 1)
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(t) = history.last() {
        *w.task.borrow_mut() = t.clone();
    }
    *w.history.borrow_mut() = history;
    *w.transcript.borrow_mut() = None;
    *w.checkpoint.borrow_mut() = serde_json::Value::Null;
    *w.resume_from.borrow_mut() = None;
    w.cycles.set(c + 1);
    w.finalized.set(true);
    w.terminal_durable.set(true);
}

/// The worker's transcript as recorded cycle `c` left it.
fn transcript_at(w: &Worker, snap: &serde_json::Value, c: usize) -> Transcript {
    let rec = w.cycle_log.borrow()[c].clone();
    if let Some(t) = rec.get("transcript") {
        return serde_json::from_value(t.clone()).unwrap_or_default();
    }
    let mut full: Transcript = snap
        .get("transcript")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    let end = |k: &str| {
        rec.get("transcript_end")
            .and_then(|e| e.get(k))
            .and_then(|n| n.as_u64())
            .map(|n| n as usize)
    };
    if let Some(n) = end("messages") {
        full.messages.truncate(n);
    }
    if let Some(n) = end("events") {
        full.events.truncate(n);
    }
    full
}

/// Whether `w` is being replayed (nothing of it is written meanwhile).
pub fn replaying(w: &Worker) -> bool {
    w.replay.borrow().is_some()
}
