//! `weft run --progress`: a live table of workers (name, status, turns,
//! tokens, elapsed since it started) redrawn on stderr every 200 ms while the program runs.
//! Only started when stderr is a terminal (see `configure`).

use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use weft_vm::vm::Program;

use crate::state::AgentState;

/// Starts the redraw task; the program-end hook draws the final table.
pub fn start(program: &Program) {
    let state: Rc<AgentState> = program.ext::<AgentState>();
    state.workers.sinks.progress.set(true);
    tokio::task::spawn_local(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if state.workers.shutting_down.get() {
                return;
            }
            draw(&state);
        }
    });
}

/// Redraws the table over the previous one.
pub fn draw(state: &AgentState) {
    let table = render(state);
    let sinks = &state.workers.sinks;
    let mut err = std::io::stderr().lock();
    let drawn = sinks.progress_lines.get();
    if drawn > 0 {
        let _ = write!(err, "\x1b[{drawn}A\x1b[J");
    }
    let _ = err.write_all(table.as_bytes());
    sinks.progress_lines.set(table.lines().count());
}

/// The table text: one line per worker (the last 20 shown).
pub fn render(state: &AgentState) -> String {
    let now = chrono::Utc::now();
    let secs = |w: &crate::workers::Worker| -> f64 {
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let Some(start) = parse(&w.started_at.borrow()) else {
            return 0.0;
        };
        let end = parse(&w.finished_at.borrow()).unwrap_or(now);
        (end - start).num_milliseconds().max(0) as f64 / 1000.0
    };
    let ws = state.workers.workers.borrow();
    let mut out = format!(
        "{:<24} {:<11} {:>6} {:>10} {:>8}\n",
        "WORKER", "STATUS", "TURNS", "TOKENS", "ELAPSED"
    );
    let skip = ws.len().saturating_sub(20);
    for w in ws.values().skip(skip) {
        let u = w.usage.get();
        out.push_str(&format!(
            "{:<24} {:<11} {:>6} {:>10} {:>7.1}s\n",
            w.name.chars().take(24).collect::<String>(),
            w.status().name(),
            u.iterations,
            u.input_tokens + u.output_tokens,
            secs(w)
        ));
    }
    out
}
