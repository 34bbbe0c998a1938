//! Transcripts and sessions (agents.md §6): the typed [`Transcript`] with
//! conversion to and from the `{_type: "transcript", ...}` dict, the
//! builtins `transcript_new`, `transcript_messages`, `transcript_fork`,
//! `transcript_compact`, `transcript_text`, and the per-run session store
//! (`agent_loop`'s `session_id`) kept in [`AgentState`].

pub mod compact;
pub mod convert;

use serde::{Deserialize, Serialize};
use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::RtResult;
use weft_vm::value::Value;
use weft_vm::vm::Vm;

use crate::llm::Message;
use crate::state::AgentState;
use crate::tools::keys::{check_keys, opt_uint};

/// A conversation plus what happened around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// `t_` + a UUIDv7.
    pub id: String,
    /// The transcript this one was forked from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub messages: Vec<Message>,
    /// `{kind, at, ...}` objects, oldest first.
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
    /// Older messages folded by compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new()
    }
}

/// A fresh transcript id.
pub fn new_id() -> String {
    format!("t_{}", uuid::Uuid::now_v7())
}

impl Transcript {
    pub fn new() -> Transcript {
        Transcript {
            id: new_id(),
            parent_id: None,
            messages: Vec::new(),
            events: Vec::new(),
            summary: None,
        }
    }

    /// Appends an event `{kind, at, ...fields}` (`at` is RFC 3339, now).
    pub fn event(&mut self, kind: &str, fields: serde_json::Value) {
        let mut e = serde_json::Map::new();
        e.insert("kind".into(), kind.into());
        e.insert("at".into(), chrono::Utc::now().to_rfc3339().into());
        if let serde_json::Value::Object(f) = fields {
            e.extend(f);
        }
        self.events.push(serde_json::Value::Object(e));
    }

    /// A copy with a new id and `parent_id` set to this one's id.
    pub fn fork(&self) -> Transcript {
        let mut t = self.clone();
        t.id = new_id();
        t.parent_id = Some(self.id.clone());
        t.event("fork", serde_json::json!({"parent_id": self.id}));
        t
    }

    /// Folds all but the last `keep_last` messages into `summary`
    /// (deterministic, no model call). Returns how many were folded.
    pub fn compact(&mut self, keep_last: usize) -> usize {
        let folded = compact::compact(self, keep_last);
        if folded > 0 {
            self.event(
                "compact",
                serde_json::json!({"folded": folded, "kept": self.messages.len()}),
            );
        }
        folded
    }

    /// The readable rendering.
    pub fn text(&self) -> String {
        compact::render(self)
    }
}

/// The transcript stored under a session id in this program run.
pub fn session_get(vm: &Vm, id: &str) -> Option<Transcript> {
    vm.program
        .ext::<AgentState>()
        .sessions
        .borrow()
        .get(id)
        .cloned()
}

/// Stores a session's transcript for later `agent_loop` calls.
pub fn session_put(vm: &Vm, id: &str, t: Transcript) {
    vm.program
        .ext::<AgentState>()
        .sessions
        .borrow_mut()
        .insert(id.to_string(), t);
}

/// The options of `transcript_compact`.
const COMPACT_KEYS: &[&str] = &["keep_last"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("transcript_new", &[], 0, 0, "agents", "An empty transcript `{_type: \"transcript\", id, messages: [], events: []}`.", transcript_new),
        sync("transcript_messages", &["transcript"], 1, 1, "agents", "The transcript's messages `[{role, content, tool_calls?, tool_call_id?, name?}]`.", transcript_messages),
        sync("transcript_fork", &["transcript"], 1, 1, "agents", "A copy with a new id and `parent_id` set to the original's id.", transcript_fork),
        sync("transcript_compact", &["transcript", "options"], 1, 2, "agents", "Folds all but the last `keep_last` (default 4) messages into `summary`; deterministic, no model call.", transcript_compact).options(&[COMPACT_KEYS]),
        sync("transcript_text", &["transcript"], 1, 1, "agents", "A readable rendering of the transcript.", transcript_text),
    ]
}

fn transcript_new(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Transcript::new().to_value())
}

fn transcript_messages(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = Transcript::from_value(&args.vals[0], "transcript_messages")?;
    Ok(Value::list(
        t.messages.iter().map(convert::message_to_value).collect(),
    ))
}

fn transcript_fork(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = Transcript::from_value(&args.vals[0], "transcript_fork")?;
    Ok(t.fork().to_value())
}

fn transcript_compact(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    const WHO: &str = "transcript_compact";
    let mut t = Transcript::from_value(&args.vals[0], WHO)?;
    let mut keep_last = 4;
    if args.opt(1).is_some() {
        let opts = args.dict(1)?;
        check_keys(opts, WHO, "", COMPACT_KEYS)?;
        if let Some(k) = opt_uint(opts, WHO, "keep_last", 0)? {
            keep_last = k as usize;
        }
    }
    t.compact(keep_last);
    Ok(t.to_value())
}

fn transcript_text(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let t = Transcript::from_value(&args.vals[0], "transcript_text")?;
    Ok(Value::str(t.text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_round_trip() {
        let mut t = Transcript::new();
        t.messages.push(Message::user("hi"));
        let mut a = Message::assistant("");
        a.tool_calls.push(crate::llm::ToolCall {
            id: "c".into(),
            name: "read".into(),
            arguments: serde_json::json!({"path": "x"}),
        });
        t.messages.push(a);
        t.messages.push(Message::tool_result("c", "read", "data"));
        t.event("note", serde_json::json!({"n": 1}));
        t.summary = Some("s".into());
        let back = Transcript::from_value(&t.to_value(), "t")
            .unwrap_or_else(|e| panic!("{}", e.message()));
        assert_eq!(back, t);
        let forked = t.fork();
        assert_ne!(forked.id, t.id);
        assert_eq!(forked.parent_id.as_deref(), Some(t.id.as_str()));
        assert_eq!(forked.messages, t.messages);
    }

    #[test]
    fn rejects_non_transcripts() {
        let e = Transcript::from_value(&Value::Int(1), "transcript_text").unwrap_err();
        assert_eq!(
            e.message(),
            "transcript_text: expected a transcript (from transcript_new()), got int"
        );
        let bad_role = weft_vm::value::from_json(
            serde_json::json!({"_type": "transcript", "messages": [{"role": "bot", "content": ""}]}),
        );
        let e = Transcript::from_value(&bad_role, "t").unwrap_err();
        assert!(
            e.message().contains("role must be one of"),
            "{}",
            e.message()
        );
    }
}
