//! Deterministic compaction (no model call) and the readable rendering of
//! transcripts (`transcript_compact`, `transcript_text`).
//!
//! Compaction keeps the last `keep_last` messages and folds the older ones
//! into `summary`, one line per message (`role: content`, whitespace
//! collapsed, cut at [`LINE_CHARS`] characters; tool calls as
//! `name(arguments)`), after any earlier summary. A kept part never starts
//! with `tool` results whose assistant message was folded: those results are
//! folded too, so providers never see an orphaned tool result. The summary
//! keeps its newest [`SUMMARY_CHARS`] characters (whole lines).

use super::Transcript;
use crate::llm::{Message, Role};

/// Longest rendering of one folded message in a summary.
pub const LINE_CHARS: usize = 200;
/// Longest summary kept.
pub const SUMMARY_CHARS: usize = 8000;

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

fn calls_text(m: &Message) -> String {
    m.tool_calls
        .iter()
        .map(|c| format!("{}({})", c.name, c.arguments))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One summary line for a folded message.
pub fn summary_line(m: &Message) -> String {
    let head = match (m.role, &m.name) {
        (Role::Tool, Some(n)) => format!("tool {n}"),
        (r, _) => r.as_str().to_string(),
    };
    let mut body = collapse(&m.content);
    if !m.tool_calls.is_empty() {
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(&format!("[calls {}]", calls_text(m)));
    }
    cut(&format!("{head}: {body}"), LINE_CHARS)
}

/// Keeps the newest whole lines of `s` within `max` characters.
fn keep_tail(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut len = 4; // the "...\n" marker
    for line in s.lines().rev() {
        let n = line.chars().count() + 1;
        if len + n > max {
            break;
        }
        len += n;
        kept.push(line);
    }
    kept.reverse();
    format!("...\n{}", kept.join("\n"))
}

/// Folds all but the last `keep_last` messages into the summary. Returns
/// how many messages were folded.
pub fn compact(t: &mut Transcript, keep_last: usize) -> usize {
    let mut cut_at = t.messages.len().saturating_sub(keep_last);
    while cut_at < t.messages.len() && cut_at > 0 && t.messages[cut_at].role == Role::Tool {
        cut_at += 1;
    }
    if cut_at == 0 {
        return 0;
    }
    let folded: Vec<Message> = t.messages.drain(..cut_at).collect();
    let mut lines: Vec<String> = t.summary.take().into_iter().collect();
    lines.extend(folded.iter().map(summary_line));
    t.summary = Some(keep_tail(lines.join("\n"), SUMMARY_CHARS));
    folded.len()
}

/// The readable rendering: `summary: ...` first, then one block per
/// message (`user: ...`, `assistant: ...`, `assistant -> name(args)` per
/// tool call, `tool name: ...`).
pub fn render(t: &Transcript) -> String {
    let mut out = Vec::new();
    if let Some(s) = &t.summary {
        out.push(format!("summary: {s}"));
    }
    for m in &t.messages {
        let head = match (m.role, &m.name) {
            (Role::Tool, Some(n)) => format!("tool {n}"),
            (r, _) => r.as_str().to_string(),
        };
        if m.tool_calls.is_empty() || !m.content.is_empty() {
            out.push(format!("{head}: {}", m.content));
        }
        for c in &m.tool_calls {
            out.push(format!("{head} -> {}({})", c.name, c.arguments));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolCall;

    fn call_msg() -> Message {
        let mut m = Message::assistant("");
        m.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "read".into(),
            arguments: serde_json::json!({"path": "x"}),
        });
        m
    }

    fn sample() -> Transcript {
        let mut t = Transcript::new();
        t.messages = vec![
            Message::user("Find   the\nfile"),
            call_msg(),
            Message::tool_result("c1", "read", "hello"),
            Message::assistant("It says hello"),
            Message::user("thanks"),
            Message::assistant("welcome"),
        ];
        t
    }

    #[test]
    fn keeps_last_and_folds_the_rest() {
        let mut t = sample();
        assert_eq!(compact(&mut t, 3), 3);
        assert_eq!(t.messages.len(), 3);
        assert_eq!(t.messages[0].content, "It says hello");
    }

    #[test]
    fn never_orphans_tool_results() {
        let mut t = sample();
        // keep_last 4 would start at the tool result (index 2).
        t.messages.insert(0, Message::user("first"));
        let n = compact(&mut t, 4);
        assert_eq!(n, 4, "the tool result is folded with its call");
        assert_eq!(t.messages.len(), 3);
        assert_eq!(t.messages[0].content, "It says hello");
        assert_eq!(
            t.summary.as_deref().unwrap(),
            "user: first\nuser: Find the file\nassistant: [calls read({\"path\":\"x\"})]\ntool read: hello"
        );
    }

    #[test]
    fn is_deterministic_and_accumulates() {
        let mut a = sample();
        let mut b = sample();
        compact(&mut a, 2);
        compact(&mut b, 2);
        assert_eq!(a.summary, b.summary);
        compact(&mut a, 0);
        assert!(a.messages.is_empty());
        let s = a.summary.unwrap();
        assert!(s.starts_with("user: Find the file\n"), "{s}");
        assert!(s.ends_with("user: thanks\nassistant: welcome"), "{s}");
    }

    #[test]
    fn nothing_to_fold() {
        let mut t = sample();
        assert_eq!(compact(&mut t, 10), 0);
        assert_eq!(t.summary, None);
    }

    #[test]
    fn long_lines_and_summaries_are_cut() {
        let line = summary_line(&Message::user("x".repeat(500)));
        assert_eq!(line.chars().count(), LINE_CHARS);
        assert!(line.ends_with("..."));
        let long = (0..1000)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let kept = keep_tail(long, 100);
        assert!(kept.starts_with("...\n"));
        assert!(kept.ends_with("line 999"));
        assert!(kept.chars().count() <= 100);
    }

    #[test]
    fn renders() {
        let mut t = sample();
        t.summary = Some("before".into());
        let text = render(&t);
        assert_eq!(
            text,
            "summary: before\nuser: Find   the\nfile\nassistant -> read({\"path\":\"x\"})\ntool read: hello\nassistant: It says hello\nuser: thanks\nassistant: welcome"
        );
    }
}
