//! Transcript and message dicts (agents.md §6) to and from the typed Rust
//! values: `{_type: "transcript", id, parent_id?, messages, events,
//! summary?}`, messages `{role, content, tool_calls?, tool_call_id?, name?}`,
//! tool calls `{id, name, arguments}`.

use weft_vm::error::{type_error, value_error, RtResult};
use weft_vm::value::{dict_from, dict_get, from_json, to_json, DictMap, Value};

use super::Transcript;
use crate::llm::{Message, Role, ToolCall};
use crate::tools::keys::check_fields;

const TRANSCRIPT_KEYS: &[&str] = &["_type", "id", "parent_id", "messages", "events", "summary"];
const MESSAGE_KEYS: &[&str] = &["role", "content", "tool_calls", "tool_call_id", "name"];
const CALL_KEYS: &[&str] = &["id", "name", "arguments"];

/// `{id, name, arguments}`.
pub fn tool_call_to_value(c: &ToolCall) -> Value {
    dict_from([
        ("id", Value::str(c.id.clone())),
        ("name", Value::str(c.name.clone())),
        ("arguments", from_json(c.arguments.clone())),
    ])
}

/// A message dict; optional keys only when set.
pub fn message_to_value(m: &Message) -> Value {
    let mut pairs = vec![
        ("role", Value::str(m.role.as_str())),
        ("content", Value::str(m.content.clone())),
    ];
    if !m.tool_calls.is_empty() {
        let calls = m.tool_calls.iter().map(tool_call_to_value).collect();
        pairs.push(("tool_calls", Value::list(calls)));
    }
    if let Some(id) = &m.tool_call_id {
        pairs.push(("tool_call_id", Value::str(id.clone())));
    }
    if let Some(n) = &m.name {
        pairs.push(("name", Value::str(n.clone())));
    }
    dict_from(pairs)
}

fn str_field(d: &DictMap, key: &str, who: &str, what: &str) -> RtResult<Option<String>> {
    match dict_get(d, key) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(type_error(format!(
            "{who}: {what} '{key}' must be a string, got {}",
            other.type_name()
        ))),
    }
}

fn tool_call_from_value(v: &Value, who: &str) -> RtResult<ToolCall> {
    let Value::Dict(d) = v else {
        return Err(type_error(format!(
            "{who}: a tool call must be a dict, got {}",
            v.type_name()
        )));
    };
    check_fields(d, who, "tool call", CALL_KEYS)?;
    let arguments = match dict_get(d, "arguments") {
        None | Some(Value::Nil) => serde_json::json!({}),
        Some(a) => {
            to_json(a).map_err(|e| value_error(format!("{who}: tool call arguments: {e}")))?
        }
    };
    Ok(ToolCall {
        id: str_field(d, "id", who, "tool call")?.unwrap_or_default(),
        name: str_field(d, "name", who, "tool call")?
            .ok_or_else(|| value_error(format!("{who}: a tool call needs a 'name'")))?,
        arguments,
    })
}

/// Parses a message dict (role required; content defaults to `""`).
pub fn message_from_value(v: &Value, who: &str) -> RtResult<Message> {
    let Value::Dict(d) = v else {
        return Err(type_error(format!(
            "{who}: a message must be a dict, got {}",
            v.type_name()
        )));
    };
    check_fields(d, who, "message", MESSAGE_KEYS)?;
    let role = str_field(d, "role", who, "message")?
        .ok_or_else(|| value_error(format!("{who}: a message needs a 'role'")))?;
    let role = Role::parse(&role).ok_or_else(|| {
        value_error(format!(
            "{who}: message role must be one of system, user, assistant, tool; got '{role}'"
        ))
    })?;
    let content = match dict_get(d, "content") {
        None | Some(Value::Nil) => String::new(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => other.to_display(),
    };
    let tool_calls = match dict_get(d, "tool_calls") {
        None | Some(Value::Nil) => Vec::new(),
        Some(Value::List(items)) => items
            .iter()
            .map(|c| tool_call_from_value(c, who))
            .collect::<RtResult<_>>()?,
        Some(other) => {
            return Err(type_error(format!(
                "{who}: message 'tool_calls' must be a list, got {}",
                other.type_name()
            )))
        }
    };
    Ok(Message {
        role,
        content,
        tool_calls,
        tool_call_id: str_field(d, "tool_call_id", who, "message")?,
        name: str_field(d, "name", who, "message")?,
    })
}

/// Parses a list of message dicts.
pub fn messages_from_value(v: &Value, who: &str) -> RtResult<Vec<Message>> {
    match v {
        Value::List(items) => items.iter().map(|m| message_from_value(m, who)).collect(),
        other => Err(type_error(format!(
            "{who}: messages must be a list, got {}",
            other.type_name()
        ))),
    }
}

impl Transcript {
    /// The transcript dict.
    pub fn to_value(&self) -> Value {
        let mut pairs = vec![
            ("_type", Value::str("transcript")),
            ("id", Value::str(self.id.clone())),
        ];
        if let Some(p) = &self.parent_id {
            pairs.push(("parent_id", Value::str(p.clone())));
        }
        pairs.push((
            "messages",
            Value::list(self.messages.iter().map(message_to_value).collect()),
        ));
        pairs.push((
            "events",
            Value::list(self.events.iter().cloned().map(from_json).collect()),
        ));
        if let Some(s) = &self.summary {
            pairs.push(("summary", Value::str(s.clone())));
        }
        dict_from(pairs)
    }

    /// Parses a transcript dict (`_type: "transcript"` required; a missing
    /// id gets a fresh one, missing events are empty).
    pub fn from_value(v: &Value, who: &str) -> RtResult<Transcript> {
        let bad = || {
            type_error(format!(
                "{who}: expected a transcript (from transcript_new()), got {}",
                v.type_name()
            ))
        };
        let Value::Dict(d) = v else { return Err(bad()) };
        if dict_get(d, "_type").and_then(Value::as_str) != Some("transcript") {
            return Err(bad());
        }
        check_fields(d, who, "transcript", TRANSCRIPT_KEYS)?;
        let messages = match dict_get(d, "messages") {
            None | Some(Value::Nil) => Vec::new(),
            Some(m) => messages_from_value(m, who)?,
        };
        let events = match dict_get(d, "events") {
            None | Some(Value::Nil) => Vec::new(),
            Some(Value::List(items)) => items
                .iter()
                .map(|e| match e {
                    Value::Dict(_) => {
                        to_json(e).map_err(|m| value_error(format!("{who}: transcript event: {m}")))
                    }
                    other => Err(type_error(format!(
                        "{who}: a transcript event must be a dict, got {}",
                        other.type_name()
                    ))),
                })
                .collect::<RtResult<_>>()?,
            Some(other) => {
                return Err(type_error(format!(
                    "{who}: transcript 'events' must be a list, got {}",
                    other.type_name()
                )))
            }
        };
        Ok(Transcript {
            id: str_field(d, "id", who, "transcript")?.unwrap_or_else(super::new_id),
            parent_id: str_field(d, "parent_id", who, "transcript")?,
            messages,
            events,
            summary: str_field(d, "summary", who, "transcript")?,
        })
    }
}
