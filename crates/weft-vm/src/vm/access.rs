//! Reading and writing inside values: indexing, properties, slices,
//! copy-on-write path assignment, iteration, pattern checks, interpolation.

use std::fmt::Write;
use std::rc::Rc;

use crate::error::{index_error, type_error, RtError, RtResult};
use crate::value::limits::string_too_long;
use crate::value::{dict_get, write_display_capped, DictMap, SizeLimits, Value};

/// Resolves an int index (negative counts from the end) against `len`.
fn resolve_index(i: i64, len: usize, what: &str) -> RtResult<usize> {
    let idx = if i < 0 { i + len as i64 } else { i };
    if idx < 0 || idx >= len as i64 {
        return Err(index_error(format!(
            "index {i} out of bounds for {what} of length {len}"
        )));
    }
    Ok(idx as usize)
}

fn char_at(s: &str, i: i64) -> RtResult<Value> {
    if s.is_ascii() {
        let idx = resolve_index(i, s.len(), "string")?;
        return Ok(Value::str(&s[idx..idx + 1]));
    }
    let len = s.chars().count();
    let idx = resolve_index(i, len, "string")?;
    let c = s.chars().nth(idx).expect("index in bounds");
    Ok(Value::str(c.to_string()))
}

/// `obj[index]`.
pub(crate) fn index(obj: &Value, idx: &Value) -> RtResult<Value> {
    match (obj, idx) {
        (Value::List(items), Value::Int(i)) => {
            Ok(items[resolve_index(*i, items.len(), "list")?].clone())
        }
        (Value::Str(s), Value::Int(i)) => char_at(s, *i),
        (Value::Dict(d), Value::Str(k)) => Ok(d.get(k).cloned().unwrap_or(Value::Nil)),
        (Value::Range(r), Value::Int(i)) => {
            let idx = resolve_index(*i, r.len(), "range")?;
            Ok(Value::Int(r.start + idx as i64))
        }
        (Value::List(_), other) => Err(type_error(format!(
            "list indices must be ints, got {}",
            other.type_name()
        ))),
        (Value::Str(_), other) => Err(type_error(format!(
            "string indices must be ints, got {}",
            other.type_name()
        ))),
        (Value::Dict(_), other) => Err(type_error(format!(
            "dict keys must be strings, got {}",
            other.type_name()
        ))),
        (other, _) => Err(type_error(format!("cannot index {}", other.type_name()))),
    }
}

/// `obj.name`.
pub(crate) fn get_field(obj: &Value, name: &str) -> RtResult<Value> {
    match obj {
        Value::Dict(d) => Ok(dict_get(d, name).cloned().unwrap_or(Value::Nil)),
        other => Err(type_error(format!(
            "cannot read property '{name}' of {}",
            other.type_name()
        ))),
    }
}

fn slice_bound(v: Option<&Value>, len: usize, default: usize) -> RtResult<usize> {
    match v {
        None | Some(Value::Nil) => Ok(default),
        Some(Value::Int(i)) => {
            let i = if *i < 0 { *i + len as i64 } else { *i };
            Ok(i.clamp(0, len as i64) as usize)
        }
        Some(other) => Err(type_error(format!(
            "slice bounds must be ints, got {}",
            other.type_name()
        ))),
    }
}

/// `obj[start:end]`, clamped to bounds.
pub(crate) fn slice(obj: &Value, start: Option<&Value>, end: Option<&Value>) -> RtResult<Value> {
    match obj {
        Value::List(items) => {
            let len = items.len();
            let a = slice_bound(start, len, 0)?;
            let b = slice_bound(end, len, len)?;
            Ok(Value::list(if a < b {
                items[a..b].to_vec()
            } else {
                Vec::new()
            }))
        }
        Value::Str(s) => {
            if s.is_ascii() {
                let len = s.len();
                let a = slice_bound(start, len, 0)?;
                let b = slice_bound(end, len, len)?;
                return Ok(Value::str(if a < b { &s[a..b] } else { "" }));
            }
            let len = s.chars().count();
            let a = slice_bound(start, len, 0)?;
            let b = slice_bound(end, len, len)?;
            Ok(Value::str(if a < b {
                s.chars().skip(a).take(b - a).collect::<String>()
            } else {
                String::new()
            }))
        }
        other => Err(type_error(format!("cannot slice {}", other.type_name()))),
    }
}

fn key_desc(key: &Value) -> String {
    match key {
        Value::Str(s) => format!("property '{s}'"),
        other => format!("index {}", other.to_repr()),
    }
}

/// The child of `cur` at `key`, for assignment through it (copying a
/// shared collection first). `next` is the key assigned below it.
fn child_mut<'a>(cur: &'a mut Value, key: &Value, next: &Value) -> RtResult<&'a mut Value> {
    match cur {
        Value::List(items) => {
            let Value::Int(i) = key else {
                return Err(type_error(format!(
                    "list indices must be ints, got {}",
                    key.type_name()
                )));
            };
            let idx = resolve_index(*i, items.len(), "list")?;
            Ok(&mut Rc::make_mut(items)[idx])
        }
        Value::Dict(d) => {
            let Value::Str(k) = key else {
                return Err(type_error(format!(
                    "dict keys must be strings, got {}",
                    key.type_name()
                )));
            };
            if !d.contains_key(k) {
                return Err(type_error(format!(
                    "cannot assign to {} of nil (key '{k}' is missing)",
                    key_desc(next)
                )));
            }
            Ok(Rc::make_mut(d).get_mut(k).expect("key present"))
        }
        other => Err(type_error(format!(
            "cannot assign to {} of {}",
            key_desc(key),
            other.type_name()
        ))),
    }
}

/// Sets `root[k1][k2]...[kn] = v`, copying shared collections on the way.
pub(crate) fn set_path(
    root: &mut Value,
    keys: &[Value],
    v: Value,
    limits: &SizeLimits,
) -> RtResult<()> {
    let (last, inner) = keys.split_last().expect("at least one key");
    let mut cur = root;
    for (i, key) in inner.iter().enumerate() {
        let next = keys.get(i + 1).unwrap_or(last);
        cur = child_mut(cur, key, next)?;
    }
    match cur {
        Value::List(items) => {
            let Value::Int(i) = last else {
                return Err(type_error(format!(
                    "list indices must be ints, got {}",
                    last.type_name()
                )));
            };
            let idx = resolve_index(*i, items.len(), "list")?;
            Rc::make_mut(items)[idx] = v;
            Ok(())
        }
        Value::Dict(d) => {
            let Value::Str(k) = last else {
                return Err(type_error(format!(
                    "dict keys must be strings, got {}",
                    last.type_name()
                )));
            };
            if limits.max_collection_len.is_some() && !d.contains_key(k) {
                limits.check_dict_len(d.len() + 1)?;
            }
            Rc::make_mut(d).insert(k.clone(), v);
            Ok(())
        }
        Value::Str(_) => Err(type_error(
            "cannot assign into a string (strings are immutable)",
        )),
        other => Err(type_error(format!(
            "cannot assign to {} of {}",
            key_desc(last),
            other.type_name()
        ))),
    }
}

/// Reads `root[k1]...[kn]` (for compound path assignment).
pub(crate) fn get_path(root: &Value, keys: &[Value]) -> RtResult<Value> {
    let mut cur = root.clone();
    for key in keys {
        cur = match (&cur, key) {
            (Value::Dict(_), _) | (Value::List(_), _) => index(&cur, key)?,
            (other, Value::Str(k)) => {
                return Err(type_error(format!(
                    "cannot read property '{k}' of {}",
                    other.type_name()
                )))
            }
            _ => index(&cur, key)?,
        };
    }
    Ok(cur)
}

/// Checks that a value can be iterated.
pub(crate) fn check_iterable(v: &Value) -> RtResult<()> {
    match v {
        Value::List(_) | Value::Str(_) | Value::Dict(_) | Value::Range(_) => Ok(()),
        other => Err(type_error(format!(
            "cannot iterate over {} (expected a list, string, dict or range)",
            other.type_name()
        ))),
    }
}

/// The next item of an iteration and the advanced cursor.
pub(crate) fn iter_next(iterable: &Value, cursor: i64) -> Option<(Value, i64)> {
    let i = cursor as usize;
    match iterable {
        Value::List(items) => items.get(i).map(|v| (v.clone(), cursor + 1)),
        Value::Str(s) => s.get(i..).and_then(|rest| rest.chars().next()).map(|c| {
            let mut buf = [0u8; 4];
            (
                Value::str(&*c.encode_utf8(&mut buf)),
                cursor + c.len_utf8() as i64,
            )
        }),
        Value::Dict(d) => d.get_index(i).map(|(k, v)| {
            let mut entry = DictMap::default();
            entry.insert(Rc::new("key".to_string()), Value::Str(k.clone()));
            entry.insert(Rc::new("value".to_string()), v.clone());
            (Value::dict(entry), cursor + 1)
        }),
        Value::Range(r) => {
            let v = r.start.checked_add(cursor)?;
            (v < r.end).then_some((Value::Int(v), cursor + 1))
        }
        _ => None,
    }
}

/// Pattern test for `[a, b, ...rest]`.
pub(crate) fn list_fits(v: &Value, len: usize, rest: bool) -> bool {
    match v {
        Value::List(items) => items.len() == len || (rest && items.len() > len),
        _ => false,
    }
}

/// Destructuring check for a list pattern.
pub(crate) fn expect_list(v: &Value, len: usize, rest: bool) -> RtResult<()> {
    match v {
        Value::List(items) if items.len() >= len => Ok(()),
        Value::List(items) => {
            let _ = rest;
            Err(RtError::new(
                "value_error",
                format!(
                    "list pattern expects at least {len} elements, got a list of length {}",
                    items.len()
                ),
            ))
        }
        other => Err(type_error(format!(
            "cannot destructure {} with a list pattern",
            other.type_name()
        ))),
    }
}

/// Destructuring check for a dict pattern.
pub(crate) fn expect_dict(v: &Value) -> RtResult<()> {
    match v {
        Value::Dict(_) => Ok(()),
        other => Err(type_error(format!(
            "cannot destructure {} with a dict pattern",
            other.type_name()
        ))),
    }
}

/// The concatenated display strings of `parts` (string interpolation).
pub(crate) fn interpolate(parts: &[Value], limits: &SizeLimits) -> RtResult<Value> {
    let mut out = String::new();
    let cap = limits.string_cap();
    for p in parts {
        match p {
            Value::Str(s) => out.push_str(s),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            other => {
                if write_display_capped(&mut out, other, cap).is_err() {
                    return Err(string_too_long(out.len(), cap));
                }
            }
        }
        limits.check_string_len(out.len())?;
    }
    Ok(Value::str(out))
}

impl super::Vm {
    /// Executes `Slice`, `IterInit`, `SaveHeight` or `RestoreHeight` in the frame whose slots start at
    /// `base` (kept out of the dispatch loop's body).
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_access(&mut self, op: crate::bytecode::Op, base: usize) -> RtResult<()> {
        use crate::bytecode::Op;
        match op {
            Op::Slice { start, end } => {
                let pop = |vm: &mut Self| vm.stack.pop().expect("operand stack underflow");
                let e = if end { Some(pop(self)) } else { None };
                let s = if start { Some(pop(self)) } else { None };
                let top = self.stack.last_mut().expect("operand stack underflow");
                *top = slice(top, s.as_ref(), e.as_ref())?;
            }
            Op::IterInit(s) => {
                let v = self.stack.pop().expect("operand stack underflow");
                check_iterable(&v)?;
                self.stack[base + s as usize] = v;
                self.stack[base + s as usize + 1] = Value::Int(0);
            }
            Op::SaveHeight(s) => {
                self.stack[base + s as usize] = Value::Int(self.stack.len() as i64);
            }
            Op::RestoreHeight(s) => {
                if let Value::Int(h) = self.stack[base + s as usize] {
                    self.stack.truncate(h as usize);
                }
            }
            _ => unreachable!("not an access instruction: {op:?}"),
        }
        Ok(())
    }
}
