//! The `agent_loop` result dict: `{status, text, visible_text, data,
//! iterations, tool_calls: [{id, name, arguments, ok, result?, error?,
//! duration_ms}], rejected, input_tokens, output_tokens, transcript}`, plus
//! `error: {category, message}` when the status is `failed` or `cancelled`.

use weft_vm::value::{dict_from, from_json, Value};

use super::config::{AgentRun, ToolCallRecord};
use crate::tools::ToolOutcome;

/// One tool-call record as a dict; `result` when ok, else `error:
/// {category, message}`.
pub fn record_to_value(r: &ToolCallRecord) -> Value {
    let mut pairs = vec![
        ("id", Value::str(r.id.clone())),
        ("name", Value::str(r.name.clone())),
        ("arguments", from_json(r.arguments.clone())),
        ("ok", Value::Bool(r.ok())),
    ];
    match &r.outcome {
        ToolOutcome::Ok(v) => pairs.push(("result", v.clone())),
        ToolOutcome::Err(e) => pairs.push(("error", e.to_value())),
    }
    pairs.push(("duration_ms", Value::Int(r.duration_ms as i64)));
    dict_from(pairs)
}

impl AgentRun {
    /// The result dict.
    pub fn to_value(&self) -> Value {
        let p = &self.progress;
        let mut pairs = vec![
            ("status", Value::str(self.status.as_str())),
            ("text", Value::str(self.text.clone())),
            ("visible_text", Value::str(self.visible_text.clone())),
            ("data", self.data.clone()),
            ("iterations", Value::Int(p.iterations as i64)),
            (
                "tool_calls",
                Value::list(p.tool_calls.iter().map(record_to_value).collect()),
            ),
            (
                "rejected",
                Value::list(p.rejected.iter().map(|n| Value::str(n.clone())).collect()),
            ),
            ("input_tokens", Value::Int(p.input_tokens as i64)),
            ("output_tokens", Value::Int(p.output_tokens as i64)),
            ("transcript", self.transcript.to_value()),
        ];
        if let Some(e) = &self.error {
            pairs.push(("error", e.to_value()));
        }
        dict_from(pairs)
    }
}
