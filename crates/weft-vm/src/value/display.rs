//! How values print (language.md §2 "Display"): strings raw at the top level
//! and JSON-quoted inside collections, floats always with a decimal point,
//! dict keys unquoted when they are identifiers.

use std::fmt::Write;

use super::Value;

/// Appends the display form of `v` (as `println` shows it).
pub fn write_display(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Dict(_) if crate::error::is_error_dict(v) => {
            if let Some((_, message)) = crate::error::error_dict_fields(v) {
                out.push_str(&message);
            }
        }
        _ => write_repr(out, v),
    }
}

/// Appends the repr form of `v` (strings quoted).
pub fn write_repr(out: &mut String, v: &Value) {
    let _ = repr_capped(out, v, usize::MAX);
}

/// The output would pass the cap of [`write_display_capped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// [`write_display`] that stops once `out` is longer than `cap` bytes
/// (checked between the items of collections, so a value that shares one
/// list many times over cannot build an enormous string first).
pub fn write_display_capped(out: &mut String, v: &Value, cap: usize) -> Result<(), TooLong> {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Dict(_) if crate::error::is_error_dict(v) => write_display(out, v),
        _ => repr_capped(out, v, cap)?,
    }
    if out.len() > cap {
        return Err(TooLong);
    }
    Ok(())
}

/// Collections nested deeper than this show as `[...]` / `{...}`: values
/// built in a loop can nest far deeper than the Rust stack allows.
pub const MAX_DISPLAY_DEPTH: usize = 1000;

/// [`write_repr`] that stops once `out` is longer than `cap` bytes.
pub fn repr_capped(out: &mut String, v: &Value, cap: usize) -> Result<(), TooLong> {
    repr_at(out, v, cap, 0)
}

fn repr_at(out: &mut String, v: &Value, cap: usize, depth: usize) -> Result<(), TooLong> {
    match v {
        Value::List(_) if depth >= MAX_DISPLAY_DEPTH => out.push_str("[...]"),
        Value::Dict(_) if depth >= MAX_DISPLAY_DEPTH => out.push_str("{...}"),
        Value::Nil | Value::Undef => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::Str(s) => write_quoted(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if out.len() > cap {
                    return Err(TooLong);
                }
                if i > 0 {
                    out.push_str(", ");
                }
                repr_at(out, item, cap, depth + 1)?;
            }
            out.push(']');
        }
        Value::Dict(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if out.len() > cap {
                    return Err(TooLong);
                }
                if i > 0 {
                    out.push_str(", ");
                }
                if is_identifier(k) {
                    out.push_str(k);
                } else {
                    write_quoted(out, k);
                }
                out.push_str(": ");
                repr_at(out, v, cap, depth + 1)?;
            }
            out.push('}');
        }
        Value::Func(c) => {
            let _ = write!(out, "<fn {}>", c.proto.name);
        }
        Value::Builtin(b) => {
            let _ = write!(out, "<fn {}>", b.name);
        }
        Value::Range(r) => {
            if r.inclusive {
                let _ = write!(out, "{}..={}", r.start, r.end.saturating_sub(1));
            } else {
                let _ = write!(out, "{}..{}", r.start, r.end);
            }
        }
        Value::Task(t) => {
            let _ = write!(out, "<task {}>", t.id);
        }
        Value::Channel(c) => {
            let _ = write!(out, "<channel {}>", c.id);
        }
        Value::Cell(c) => repr_at(out, &c.borrow(), cap, depth + 1)?,
        Value::Pending(_) => out.push_str("<error>"),
    }
    Ok(())
}

/// Floats always show a decimal point or an exponent: `5.0`, `0.1`, `1e21`.
pub fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = write!(out, "{f:?}");
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::dict_from;

    fn shown(v: &Value) -> String {
        v.to_display()
    }

    #[test]
    fn floats_always_have_a_point() {
        assert_eq!(shown(&Value::Float(5.0)), "5.0");
        assert_eq!(shown(&Value::Float(0.1)), "0.1");
        assert_eq!(shown(&Value::Float(1e21)), "1e21");
        assert_eq!(shown(&Value::Float(-2.5)), "-2.5");
    }

    #[test]
    fn very_deep_values_are_cut_off() {
        let mut v = Value::Int(1);
        for _ in 0..100_000 {
            v = Value::list(vec![v]);
        }
        let s = shown(&v);
        assert!(s.starts_with("[[[["));
        assert!(s.contains("[...]"));
        assert_eq!(s.len(), 2 * MAX_DISPLAY_DEPTH + 5);
    }

    #[test]
    fn collections_quote_strings() {
        let v = Value::list(vec![Value::Int(1), Value::str("a"), Value::Nil]);
        assert_eq!(shown(&v), "[1, \"a\", nil]");
        let d = dict_from([("a", Value::Int(1)), ("two words", Value::str("x"))]);
        assert_eq!(shown(&d), "{a: 1, \"two words\": \"x\"}");
        assert_eq!(shown(&Value::str("raw")), "raw");
        assert_eq!(Value::str("q\"").to_repr(), "\"q\\\"\"");
    }
}
