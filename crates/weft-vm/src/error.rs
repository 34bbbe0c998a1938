//! Runtime errors: a category and message (or a thrown value), plus the
//! source location where the VM raised it.

use std::rc::Rc;
use std::sync::Arc;

use weft_syntax::{Diagnostic, SourceFile, Span};

use crate::value::{dict_from, dict_get, Value};

/// Where an error was raised.
#[derive(Clone, Debug)]
pub struct Location {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

/// What went wrong.
#[derive(Clone)]
pub enum ErrorKind {
    /// Raised by the runtime or a builtin: `category` per language.md §7.
    Runtime { category: String, message: String },
    /// `throw value`.
    Thrown(Value),
}

/// A runtime error in flight.
#[derive(Clone)]
pub struct RtError {
    pub kind: ErrorKind,
    pub location: Option<Location>,
    /// "in function f" lines from the call stack at the raise point
    /// (innermost first), for uncaught-error diagnostics.
    pub trace: Vec<String>,
}

pub type RtResult<T> = Result<T, Box<RtError>>;

impl RtError {
    pub fn new(category: &str, message: impl Into<String>) -> Box<RtError> {
        Box::new(RtError {
            kind: ErrorKind::Runtime {
                category: category.to_string(),
                message: message.into(),
            },
            location: None,
            trace: Vec::new(),
        })
    }

    pub fn thrown(value: Value) -> Box<RtError> {
        Box::new(RtError {
            kind: ErrorKind::Thrown(value),
            location: None,
            trace: Vec::new(),
        })
    }

    /// The error category (`thrown` for a thrown non-error value).
    pub fn category(&self) -> String {
        match &self.kind {
            ErrorKind::Runtime { category, .. } => category.clone(),
            ErrorKind::Thrown(v) => match error_dict_fields(v) {
                Some((c, _)) => c,
                None => "thrown".to_string(),
            },
        }
    }

    /// The error message (display of the value for a thrown non-error value).
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Runtime { message, .. } => message.clone(),
            ErrorKind::Thrown(v) => match error_dict_fields(v) {
                Some((_, m)) => m,
                None => v.to_display(),
            },
        }
    }

    /// The value a `catch` clause binds: the thrown value itself, or for a
    /// runtime error the dict `{category, message, line, column, file}`.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            ErrorKind::Thrown(v) => v.clone(),
            ErrorKind::Runtime { category, message } => {
                let (line, column, file) = match &self.location {
                    Some(loc) => {
                        let (l, c) = loc.file.line_col(loc.span.start);
                        (
                            Value::Int(l as i64),
                            Value::Int(c as i64),
                            Value::str(loc.file.name.clone()),
                        )
                    }
                    None => (Value::Nil, Value::Nil, Value::Nil),
                };
                dict_from([
                    ("category", Value::str(category.clone())),
                    ("message", Value::str(message.clone())),
                    ("line", line),
                    ("column", column),
                    ("file", file),
                ])
            }
        }
    }

    /// The CLI diagnostic for an uncaught error.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::new(self.category(), self.message(), Span::default());
        if let Some(loc) = &self.location {
            d.span = loc.span;
            d.file = Some(loc.file.clone());
        }
        for line in &self.trace {
            d.notes.push(line.clone());
        }
        d
    }
}

/// `(category, message)` when `v` is an error-shaped dict: a dict with string
/// `category` and `message` fields.
pub fn error_dict_fields(v: &Value) -> Option<(String, String)> {
    if let Value::Dict(d) = v {
        let cat = dict_get(d, "category")?.as_str()?.to_string();
        let msg = dict_get(d, "message")?.as_str()?.to_string();
        return Some((cat, msg));
    }
    None
}

/// True for a runtime error dict as produced by [`RtError::to_value`]: string
/// `category` and `message` plus `line`, `column` and `file` keys. `to_string`
/// of such a dict is its message.
pub fn is_error_dict(v: &Value) -> bool {
    if let Value::Dict(d) = v {
        return d.len() >= 5
            && ["line", "column", "file"]
                .iter()
                .all(|k| dict_get(d, k).is_some())
            && error_dict_fields(v).is_some();
    }
    false
}

/// Shorthand constructors for the common categories.
pub fn type_error(message: impl Into<String>) -> Box<RtError> {
    RtError::new("type_error", message)
}

pub fn value_error(message: impl Into<String>) -> Box<RtError> {
    RtError::new("value_error", message)
}

pub fn index_error(message: impl Into<String>) -> Box<RtError> {
    RtError::new("index_error", message)
}

pub fn overflow() -> Box<RtError> {
    RtError::new("overflow", "integer overflow")
}

/// Wraps an error for a `finally` block in flight.
#[allow(clippy::boxed_local)] // errors travel boxed everywhere else
pub fn pending(e: Box<RtError>) -> Value {
    Value::Pending(Rc::new(*e))
}
