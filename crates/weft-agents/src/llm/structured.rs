//! Structured replies (agents.md §2): with `response_format: "json"` the
//! reply's JSON (see [`extract_json`]) becomes `data`; with `schema`, a
//! reply without valid data is answered with a corrective user message
//! listing the problems and tried again, `schema_retries` times, before
//! `schema_validation` is raised. A reply with tool calls is not checked
//! (the agent loop is not done yet). Token counts of the returned response
//! add up every attempt.

use weft_vm::error::{RtError, RtResult};
use weft_vm::value::{from_json, validate, Value};
use weft_vm::vm::Vm;

use super::extract::{extract_json, visible_text};
use super::{complete, ChatResponse, LlmOptions, Message, ToolSpec};

/// One failed attempt at a schema-checked answer: why the reply did not
/// match, and whether it was cut off at `max_tokens` (`stop_reason`
/// `length`), which is the usual reason for truncated JSON.
#[derive(Debug, Clone)]
pub struct SchemaAttempt {
    pub errors: Vec<String>,
    /// `Some(max_tokens)` when the reply stopped at that limit.
    pub cut_at: Option<u32>,
}

impl SchemaAttempt {
    /// The attempt of a reply with `stop_reason`, under `max_tokens`.
    pub fn new(errors: Vec<String>, stop_reason: &str, max_tokens: Option<u32>) -> SchemaAttempt {
        let cut = matches!(stop_reason, "length" | "max_tokens");
        SchemaAttempt {
            errors,
            cut_at: if cut { max_tokens.or(Some(0)) } else { None },
        }
    }
}

/// The `schema_validation` message after the last attempt failed: every
/// attempt's reasons, and which replies were cut at `max_tokens`.
pub fn schema_failure_message(who: &str, attempts: &[SchemaAttempt]) -> String {
    let tries = attempts.len();
    let plural = if tries == 1 { "attempt" } else { "attempts" };
    let describe = |a: &SchemaAttempt| {
        let mut text = a.errors.join("; ");
        match a.cut_at {
            Some(0) => text.push_str(" (the reply was cut off at the model's output limit)"),
            Some(max) => text.push_str(&format!(
                " (the reply was cut off at max_tokens = {max}; raise max_tokens)"
            )),
            None => {}
        }
        text
    };
    match attempts {
        [only] => format!(
            "{who}: the reply does not match the schema after 1 {plural}: {}",
            describe(only)
        ),
        _ => {
            let each: Vec<String> = attempts
                .iter()
                .enumerate()
                .map(|(i, a)| format!("attempt {}: {}", i + 1, describe(a)))
                .collect();
            format!(
                "{who}: the reply does not match the schema after {tries} {plural}: {}",
                each.join(" | ")
            )
        }
    }
}

/// The corrective message sent after a reply that failed the schema.
pub fn corrective_message(errors: &[String]) -> String {
    let mut msg = String::from("Your reply did not match the required JSON schema:\n");
    for e in errors {
        msg.push_str("- ");
        msg.push_str(e);
        msg.push('\n');
    }
    msg.push_str("Reply again with only the corrected JSON.");
    msg
}

/// The problems of `reply` against `schema` (empty when valid), and the
/// data found.
pub fn check_reply(reply: &str, schema: &Value) -> (Option<Value>, Vec<String>) {
    match extract_json(&visible_text(reply)) {
        None => (None, vec!["the reply contains no JSON".to_string()]),
        Some(j) => {
            let data = from_json(j);
            // The schema was checked when the options were parsed.
            let errors = validate(&data, schema).unwrap_or_else(|e| vec![e]);
            (Some(data), errors)
        }
    }
}

/// [`complete`] plus JSON data and schema retries. Returns the final
/// response and its data (`nil` unless JSON was asked for and found).
pub async fn complete_structured(
    vm: &mut Vm,
    opts: &LlmOptions,
    system: Option<String>,
    mut messages: Vec<Message>,
    tools: Vec<ToolSpec>,
    who: &str,
) -> RtResult<(ChatResponse, Value)> {
    let schema = opts.schema.clone().map(from_json);
    let (mut input, mut output) = (0, 0);
    let mut attempts: Vec<SchemaAttempt> = Vec::new();
    loop {
        let mut resp = complete(vm, opts, system.clone(), messages.clone(), tools.clone()).await?;
        input += resp.input_tokens;
        output += resp.output_tokens;
        resp.input_tokens = input;
        resp.output_tokens = output;
        if !opts.json || !resp.tool_calls.is_empty() {
            return Ok((resp, Value::Nil));
        }
        let Some(schema) = &schema else {
            let data = extract_json(&visible_text(&resp.text)).map_or(Value::Nil, from_json);
            return Ok((resp, data));
        };
        let (data, errors) = check_reply(&resp.text, schema);
        if errors.is_empty() {
            return Ok((resp, data.unwrap_or(Value::Nil)));
        }
        attempts.push(SchemaAttempt::new(
            errors.clone(),
            &resp.stop_reason,
            opts.max_tokens,
        ));
        if attempts.len() > opts.schema_retries as usize {
            return Err(RtError::new(
                "schema_validation",
                schema_failure_message(who, &attempts),
            ));
        }
        messages.push(Message::assistant(resp.text));
        messages.push(Message::user(corrective_message(&errors)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_vm::value::dict_from;

    #[test]
    fn reply_checks() {
        let schema = dict_from([
            ("type", Value::str("object")),
            ("required", Value::list(vec![Value::str("n")])),
            (
                "properties",
                dict_from([("n", dict_from([("type", Value::str("integer"))]))]),
            ),
        ]);
        let (d, e) = check_reply("```json\n{\"n\": 3}\n```", &schema);
        assert!(e.is_empty() && d.is_some());
        let (_, e) = check_reply("{\"n\": \"three\"}", &schema);
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("$.n"), "{e:?}");
        let (d, e) = check_reply("no idea", &schema);
        assert!(d.is_none());
        assert_eq!(e, ["the reply contains no JSON"]);
        let msg = corrective_message(&e);
        assert!(msg.contains("- the reply contains no JSON\n"));
    }
}
