//! `request_approval(question, {choices?, default?, timeout_ms?, data?})`:
//! the request parsed into a typed [`ApprovalRequest`] at the boundary
//! (unknown keys are errors with did-you-mean), and answers checked
//! against it.

use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, to_json, Value};

use crate::tools::keys::{check_keys, opt_type};

/// The option keys of `request_approval`.
pub const KEYS: [&str; 4] = ["choices", "default", "timeout_ms", "data"];

/// One answer: approved or not, the choice made, a comment, who answered.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalAnswer {
    pub approved: bool,
    /// One of the request's `choices` (nil when it has none).
    pub choice: Option<String>,
    pub comment: Option<String>,
    /// Who answered: `host`, `terminal`, `cli:USER`, `timeout`, ...
    pub by: String,
}

/// A parsed approval request.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalRequest {
    pub question: String,
    /// The choices offered; answering with one of them approves.
    pub choices: Vec<String>,
    /// What a timeout answers: approve (`true`), reject (`false`) or a
    /// choice. `None`: a timeout fails with category `timeout`.
    pub default: Option<(bool, Option<String>)>,
    pub timeout_ms: Option<u64>,
    /// Context shown with the question (JSON).
    pub data: serde_json::Value,
}

/// Parses the arguments of `request_approval`.
pub fn parse_request(
    question: &Value,
    opts: Option<&Value>,
    who: &str,
) -> RtResult<ApprovalRequest> {
    let question = match question {
        Value::Str(s) if !s.trim().is_empty() => s.to_string(),
        Value::Str(_) => {
            return Err(value_error(format!(
                "{who}: the question must not be empty"
            )))
        }
        other => {
            return Err(weft_vm::error::type_error(format!(
                "{who}: the question must be a string, got {}",
                other.type_name()
            )))
        }
    };
    let mut req = ApprovalRequest {
        question,
        choices: Vec::new(),
        default: None,
        timeout_ms: None,
        data: serde_json::Value::Null,
    };
    let d = match opts {
        None | Some(Value::Nil) => return Ok(req),
        Some(Value::Dict(d)) => d,
        Some(other) => return Err(opt_type(who, "options", "a dict", other)),
    };
    check_keys(d, who, "", &KEYS)?;
    match dict_get(d, "choices") {
        None | Some(Value::Nil) => {}
        Some(Value::List(items)) => {
            for item in items.iter() {
                match item {
                    Value::Str(s) if !s.is_empty() => {
                        if req.choices.iter().any(|c| c == s.as_str()) {
                            return Err(value_error(format!(
                                "{who}: choice '{s}' is listed twice"
                            )));
                        }
                        req.choices.push(s.to_string())
                    }
                    other => {
                        return Err(opt_type(
                            who,
                            "choices",
                            "a list of non-empty strings",
                            other,
                        ))
                    }
                }
            }
            if req.choices.is_empty() {
                return Err(value_error(format!(
                    "{who}: option 'choices' must list at least one choice"
                )));
            }
        }
        Some(other) => return Err(opt_type(who, "choices", "a list of strings", other)),
    }
    req.default = match dict_get(d, "default") {
        None | Some(Value::Nil) => None,
        Some(Value::Bool(b)) => Some((*b, None)),
        Some(Value::Str(s)) => {
            if !req.choices.iter().any(|c| c == s.as_str()) {
                return Err(value_error(format!(
                    "{who}: default '{s}' is not one of the choices ({})",
                    if req.choices.is_empty() {
                        "none given; use true or false".to_string()
                    } else {
                        req.choices.join(", ")
                    }
                )));
            }
            Some((true, Some(s.to_string())))
        }
        Some(other) => {
            return Err(opt_type(
                who,
                "default",
                "true, false or one of the choices",
                other,
            ))
        }
    };
    req.timeout_ms = match dict_get(d, "timeout_ms") {
        None | Some(Value::Nil) => None,
        Some(Value::Int(n)) if *n >= 0 => Some(*n as u64),
        Some(Value::Int(n)) => {
            return Err(value_error(format!(
                "{who}: option 'timeout_ms' must be at least 0, got {n}"
            )))
        }
        Some(other) => return Err(opt_type(who, "timeout_ms", "an int", other)),
    };
    if let Some(v) = dict_get(d, "data") {
        req.data = to_json(v)
            .map_err(|e| value_error(format!("{who}: option 'data' must be JSON-like: {e}")))?;
    }
    Ok(req)
}

impl ApprovalRequest {
    /// Checks an answer against the request: a choice must be one of the
    /// choices, and approving a request with choices needs one.
    pub fn check(&self, a: &ApprovalAnswer) -> Result<(), String> {
        match (&a.choice, self.choices.is_empty()) {
            (Some(c), false) if !self.choices.contains(c) => Err(format!(
                "choice '{c}' is not one of {}",
                self.choices.join(", ")
            )),
            (Some(c), true) => Err(format!(
                "choice '{c}' given but the request offers no choices"
            )),
            (None, false) if a.approved => Err(format!(
                "approving needs a choice, one of {}",
                self.choices.join(", ")
            )),
            _ => Ok(()),
        }
    }

    /// The request as JSON (records, events, host callbacks).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "question": self.question,
            "choices": self.choices,
            "default": match &self.default {
                None => serde_json::Value::Null,
                Some((_, Some(c))) => serde_json::Value::String(c.clone()),
                Some((b, None)) => serde_json::Value::Bool(*b),
            },
            "timeout_ms": self.timeout_ms,
            "data": self.data,
        })
    }
}

impl ApprovalAnswer {
    pub fn to_json(&self, at: &str) -> serde_json::Value {
        serde_json::json!({
            "approved": self.approved, "choice": self.choice, "comment": self.comment,
            "by": self.by, "at": at,
        })
    }

    pub fn from_json(v: &serde_json::Value) -> Option<ApprovalAnswer> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(ApprovalAnswer {
            approved: v.get("approved")?.as_bool()?,
            choice: s("choice"),
            comment: s("comment"),
            by: s("by").unwrap_or_default(),
        })
    }
}
