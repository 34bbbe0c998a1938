//! Searching and picking by position (stdlib.md "Strings" and "Lists"):
//! `contains`, `index_of`, `last_index_of` on strings, lists and ranges;
//! `char_at` and `substring` on strings. Positions count Unicode scalars;
//! negative positions count from the end.

use super::strings::scalar_count;
use super::{sync, Args, BuiltinDef};
use crate::error::{index_error, RtResult};
use crate::value::{values_equal, RangeVal, Value};
use crate::vm::Vm;

const SEARCH: &[&str] = &["haystack", "needle"];

#[rustfmt::skip]
pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("contains", SEARCH, 2, 2, "strings", "True when the string contains the substring (or the list or range contains an item `==` the value).", contains),
        sync("index_of", SEARCH, 2, 2, "strings", "Index (in Unicode scalars) of the first occurrence of a substring, or of the first list or range item `==` the value; -1 when absent.", index_of),
        sync("last_index_of", SEARCH, 2, 2, "strings", "Index (in Unicode scalars) of the last occurrence of a substring, or of the last list or range item `==` the value; -1 when absent.", last_index_of),
        sync("char_at", &["string", "index"], 2, 2, "strings", "The character at `index` as a one-character string (negative counts from the end); `index_error` when out of bounds, like `s[index]`.", char_at),
        sync("substring", &["string", "start", "end"], 2, 3, "strings", "The characters from `start` up to (not including) `end` (default: the end of the string); negative positions count from the end and positions are clamped to the string, like `s[start:end]`.", substring),
    ]
}

/// Which occurrence a search looks for.
#[derive(Clone, Copy, PartialEq)]
enum Occurrence {
    First,
    Last,
}

fn contains(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::Bool(search(args, Occurrence::First)? >= 0))
}

fn index_of(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::Int(search(args, Occurrence::First)?))
}

fn last_index_of(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::Int(search(args, Occurrence::Last)?))
}

/// The position of the needle in the haystack (argument 0), or -1.
fn search(args: &Args, which: Occurrence) -> RtResult<i64> {
    let needle = &args.vals[1];
    let found = match &args.vals[0] {
        Value::Str(s) => {
            let Value::Str(sub) = needle else {
                return Err(args.type_err(1, "a string when searching a string"));
            };
            let pos = match which {
                Occurrence::First => s.find(sub.as_str()),
                Occurrence::Last => s.rfind(sub.as_str()),
            };
            pos.map(|p| scalar_count(&s[..p]) as i64)
        }
        Value::List(items) => {
            let pos = match which {
                Occurrence::First => items.iter().position(|x| values_equal(x, needle)),
                Occurrence::Last => items.iter().rposition(|x| values_equal(x, needle)),
            };
            pos.map(|p| p as i64)
        }
        // A range holds each of its ints once: first and last agree.
        Value::Range(r) => range_position(r, needle),
        _ => return Err(args.type_err(0, "a string, list or range")),
    };
    Ok(found.unwrap_or(-1))
}

/// The index of `needle` among a range's items (`==`, so `2.0` finds `2`).
fn range_position(r: &RangeVal, needle: &Value) -> Option<i64> {
    let n = match needle {
        Value::Int(i) => *i,
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => *f as i64,
        _ => return None,
    };
    (n >= r.start && n < r.end).then(|| n - r.start)
}

fn char_at(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let i = args.int(1)?;
    let len = scalar_count(s);
    let idx = if i < 0 {
        i.checked_add(len as i64)
    } else {
        Some(i)
    };
    match idx {
        Some(idx) if idx >= 0 && (idx as usize) < len => {
            let c = s.chars().nth(idx as usize).expect("index in bounds");
            Ok(Value::str(c.to_string()))
        }
        _ => Err(index_error(format!(
            "char_at: index {i} out of bounds for string of length {len}"
        ))),
    }
}

fn substring(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let len = scalar_count(s);
    let start = clamp_position(args.int(1)?, len);
    let end = match args.opt(2) {
        Some(_) => clamp_position(args.int(2)?, len),
        None => len,
    };
    if start >= end {
        return Ok(Value::str(""));
    }
    if start == 0 && end == len {
        return Ok(args.take(0));
    }
    Ok(Value::str(
        s.chars().skip(start).take(end - start).collect::<String>(),
    ))
}

/// A position (negative from the end) clamped to `0..=len`.
fn clamp_position(i: i64, len: usize) -> usize {
    let len = len as i64;
    let i = if i < 0 { i.saturating_add(len) } else { i };
    i.clamp(0, len) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_clamp_and_count_from_the_end() {
        assert_eq!(clamp_position(2, 5), 2);
        assert_eq!(clamp_position(-2, 5), 3);
        assert_eq!(clamp_position(-9, 5), 0);
        assert_eq!(clamp_position(9, 5), 5);
        assert_eq!(clamp_position(i64::MIN, 5), 0);
    }

    #[test]
    fn range_positions() {
        let r = RangeVal {
            start: 2,
            end: 6,
            inclusive: false,
        };
        assert_eq!(range_position(&r, &Value::Int(2)), Some(0));
        assert_eq!(range_position(&r, &Value::Float(5.0)), Some(3));
        assert_eq!(range_position(&r, &Value::Int(6)), None);
        assert_eq!(range_position(&r, &Value::Float(2.5)), None);
        assert_eq!(range_position(&r, &Value::str("2")), None);
    }
}
