//! Size limits for untrusted scripts (`max_string_len`,
//! `max_collection_len`; embedding.md §4 "Limits").
//!
//! The limits are checked at the few places that create strings, lists and
//! dicts: the result of every builtin call (`Vm::call_builtin` and the
//! async paths), the collection-building instructions (literals, spreads,
//! interpolation), `+`/`+=` and dict insertion through a path. Builtins that
//! could allocate far beyond the limit in one step (`repeat`, padding,
//! `join`, `replace`, `format`, `regex_replace`, `read_file`, JSON
//! encoding, ranges turned into lists) check the size they are about to
//! build before allocating. With no limit set, each check is one
//! predictable branch.

use super::Value;
use crate::error::{RtError, RtResult};

/// The size limits of a program run; `None` = unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SizeLimits {
    /// Longest string, in bytes of UTF-8.
    pub max_string_len: Option<usize>,
    /// Most items in one list or entries in one dict.
    pub max_collection_len: Option<usize>,
}

/// `string length N exceeds max_string_len M`.
#[cold]
pub fn string_too_long(len: usize, max: usize) -> Box<RtError> {
    RtError::new(
        "limit_exceeded",
        format!("string length {len} exceeds max_string_len {max}"),
    )
}

/// `list length N exceeds max_collection_len M` (or `dict size`).
#[cold]
pub fn collection_too_large(what: &str, len: usize, max: usize) -> Box<RtError> {
    RtError::new(
        "limit_exceeded",
        format!("{what} {len} exceeds max_collection_len {max}"),
    )
}

impl SizeLimits {
    /// True when either limit is set.
    #[inline(always)]
    pub fn any(&self) -> bool {
        self.max_string_len.is_some() || self.max_collection_len.is_some()
    }

    /// The longest string allowed (`usize::MAX` when unlimited).
    #[inline(always)]
    pub fn string_cap(&self) -> usize {
        self.max_string_len.unwrap_or(usize::MAX)
    }

    /// Fails when a string of `len` bytes is over the limit.
    #[inline(always)]
    pub fn check_string_len(&self, len: usize) -> RtResult<()> {
        match self.max_string_len {
            Some(max) if len > max => Err(string_too_long(len, max)),
            _ => Ok(()),
        }
    }

    /// Fails when a list of `len` items is over the limit.
    #[inline(always)]
    pub fn check_list_len(&self, len: usize) -> RtResult<()> {
        match self.max_collection_len {
            Some(max) if len > max => Err(collection_too_large("list length", len, max)),
            _ => Ok(()),
        }
    }

    /// Fails when a dict of `len` entries is over the limit.
    #[inline(always)]
    pub fn check_dict_len(&self, len: usize) -> RtResult<()> {
        match self.max_collection_len {
            Some(max) if len > max => Err(collection_too_large("dict size", len, max)),
            _ => Ok(()),
        }
    }

    /// Checks the top level of `v` (the parts were checked when they were
    /// made).
    #[inline(always)]
    pub fn check(&self, v: &Value) -> RtResult<()> {
        if !self.any() {
            return Ok(());
        }
        self.check_shallow(v)
    }

    fn check_shallow(&self, v: &Value) -> RtResult<()> {
        match v {
            Value::Str(s) => self.check_string_len(s.len()),
            Value::List(l) => self.check_list_len(l.len()),
            Value::Dict(d) => self.check_dict_len(d.len()),
            _ => Ok(()),
        }
    }

    /// Checks `v` and, one level down, its items: the result of an awaited
    /// builtin is often an envelope around new data (`{text: ...}` from a
    /// model, `{stdout: ...}` from a process), while its deeper parts were
    /// checked when they were made.
    #[inline]
    pub fn check_envelope(&self, v: &Value) -> RtResult<()> {
        if !self.any() {
            return Ok(());
        }
        self.check_shallow(v)?;
        match v {
            Value::List(l) => l.iter().try_for_each(|x| self.check_shallow(x)),
            Value::Dict(d) => d.values().try_for_each(|x| self.check_shallow(x)),
            _ => Ok(()),
        }
    }

    /// Checks `v` and everything inside it (values decoded from outside:
    /// JSON, HTTP bodies, messages from other tasks).
    pub fn check_deep(&self, v: &Value) -> RtResult<()> {
        if !self.any() {
            return Ok(());
        }
        // An explicit stack: decoded values can be deeply nested.
        let mut todo: Vec<&Value> = vec![v];
        while let Some(v) = todo.pop() {
            self.check_shallow(v)?;
            match v {
                Value::List(l) => todo.extend(l.iter()),
                Value::Dict(d) => {
                    for (k, x) in d.iter() {
                        self.check_string_len(k.len())?;
                        todo.push(x);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The display string of `v` (as `println` shows it), failing with
/// `limit_exceeded` once it passes `max_string_len`.
pub fn display_limited(v: &Value, limits: &SizeLimits) -> RtResult<String> {
    let mut out = String::new();
    let cap = limits.string_cap();
    match super::write_display_capped(&mut out, v, cap) {
        Ok(()) => Ok(out),
        Err(_) => Err(string_too_long(out.len(), cap)),
    }
}

/// The repr string of `v` (strings quoted), limited like
/// [`display_limited`].
pub fn repr_limited(v: &Value, limits: &SizeLimits) -> RtResult<String> {
    let mut out = String::new();
    let cap = limits.string_cap();
    match super::display::repr_capped(&mut out, v, cap) {
        Ok(()) if out.len() <= cap => Ok(out),
        _ => Err(string_too_long(out.len(), cap)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_accepts_everything() {
        let l = SizeLimits::default();
        assert!(l.check(&Value::str("x".repeat(100))).is_ok());
        assert!(l.check_deep(&Value::list(vec![Value::Int(1); 100])).is_ok());
    }

    #[test]
    fn messages_name_the_limit_and_sizes() {
        let l = SizeLimits {
            max_string_len: Some(4),
            max_collection_len: Some(2),
        };
        let e = l.check(&Value::str("hello")).unwrap_err();
        assert_eq!(e.category(), "limit_exceeded");
        assert_eq!(e.message(), "string length 5 exceeds max_string_len 4");
        let e = l.check(&Value::list(vec![Value::Nil; 3])).unwrap_err();
        assert_eq!(e.message(), "list length 3 exceeds max_collection_len 2");
        assert!(l.check(&Value::str("four")).is_ok());
    }

    #[test]
    fn display_of_shared_structure_stops_early() {
        // 2^40 copies of one string if it were built in full.
        let mut v = Value::str("x".repeat(1000));
        for _ in 0..40 {
            v = Value::list(vec![v.clone(), v]);
        }
        let l = SizeLimits {
            max_string_len: Some(1 << 20),
            max_collection_len: None,
        };
        let e = display_limited(&v, &l).unwrap_err();
        assert_eq!(e.category(), "limit_exceeded");
        assert!(repr_limited(&v, &l).is_err());
        assert_eq!(
            display_limited(&Value::Int(3), &l).ok().as_deref(),
            Some("3")
        );
    }

    #[test]
    fn envelope_check_looks_one_level_down() {
        let l = SizeLimits {
            max_string_len: Some(4),
            max_collection_len: None,
        };
        let env = crate::value::dict_from([("text", Value::str("hello"))]);
        assert!(l.check(&env).is_ok());
        assert!(l.check_envelope(&env).is_err());
    }

    #[test]
    fn deep_check_finds_nested_values() {
        let l = SizeLimits {
            max_string_len: Some(4),
            max_collection_len: Some(2),
        };
        let inner = Value::list(vec![Value::Nil; 3]);
        let v = Value::list(vec![Value::list(vec![inner])]);
        assert!(l.check(&v).is_ok());
        assert!(l.check_deep(&v).is_err());
    }
}
