//! Typed access to a builtin's arguments, with `type_error`s that name the
//! builtin and the argument (`split: argument 2 (separator) must be a
//! string, got int`).

use std::rc::Rc;

use crate::error::{type_error, RtError, RtResult};
use crate::value::{DictMap, Value};

/// The arguments of one builtin call.
pub struct Args<'a> {
    pub name: &'static str,
    params: &'static [&'static str],
    pub vals: &'a mut [Value],
}

impl<'a> Args<'a> {
    pub fn new(
        name: &'static str,
        params: &'static [&'static str],
        vals: &'a mut [Value],
    ) -> Args<'a> {
        Args { name, params, vals }
    }

    pub fn len(&self) -> usize {
        self.vals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// Argument `i`, if passed.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.vals.get(i)
    }

    /// Argument `i`, if passed and not nil.
    pub fn opt(&self, i: usize) -> Option<&Value> {
        match self.vals.get(i) {
            None | Some(Value::Nil) => None,
            Some(v) => Some(v),
        }
    }

    /// Moves argument `i` out (call only after validating every argument).
    pub fn take(&mut self, i: usize) -> Value {
        std::mem::take(&mut self.vals[i])
    }

    fn param_name(&self, i: usize) -> &'static str {
        match self.params.get(i) {
            Some(&"...") | None => self
                .params
                .iter()
                .rev()
                .find(|p| **p != "...")
                .copied()
                .unwrap_or("value"),
            Some(p) => p,
        }
    }

    /// `NAME: argument N (param) must be EXPECTED, got TYPE`.
    pub fn type_err(&self, i: usize, expected: &str) -> Box<RtError> {
        let got = self.vals.get(i).map(|v| v.type_name()).unwrap_or("nothing");
        type_error(format!(
            "{}: argument {} ({}) must be {expected}, got {got}",
            self.name,
            i + 1,
            self.param_name(i)
        ))
    }

    pub fn str(&self, i: usize) -> RtResult<&str> {
        match self.vals.get(i) {
            Some(Value::Str(s)) => Ok(s.as_str()),
            _ => Err(self.type_err(i, "a string")),
        }
    }

    pub fn rc_str(&self, i: usize) -> RtResult<&Rc<String>> {
        match self.vals.get(i) {
            Some(Value::Str(s)) => Ok(s),
            _ => Err(self.type_err(i, "a string")),
        }
    }

    pub fn int(&self, i: usize) -> RtResult<i64> {
        match self.vals.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Err(self.type_err(i, "an int")),
        }
    }

    /// An int or float, as f64.
    pub fn num(&self, i: usize) -> RtResult<f64> {
        match self.vals.get(i) {
            Some(Value::Int(n)) => Ok(*n as f64),
            Some(Value::Float(f)) => Ok(*f),
            _ => Err(self.type_err(i, "a number")),
        }
    }

    pub fn list(&self, i: usize) -> RtResult<&Rc<Vec<Value>>> {
        match self.vals.get(i) {
            Some(Value::List(l)) => Ok(l),
            _ => Err(self.type_err(i, "a list")),
        }
    }

    pub fn dict(&self, i: usize) -> RtResult<&Rc<DictMap>> {
        match self.vals.get(i) {
            Some(Value::Dict(d)) => Ok(d),
            _ => Err(self.type_err(i, "a dict")),
        }
    }

    pub fn func(&self, i: usize) -> RtResult<&Value> {
        match self.vals.get(i) {
            Some(v) if v.is_callable() => Ok(v),
            _ => Err(self.type_err(i, "a function")),
        }
    }
}
