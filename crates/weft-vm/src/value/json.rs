//! JSON ↔ [`Value`] conversions.
//!
//! - [`write_json`] stringifies a value directly into a `String` (no
//!   `serde_json::Value` in between): compact output like Python's
//!   `json.dumps(v, separators=(",", ":"))`, or 2-space indented.
//! - [`parse_json`] parses text straight into a [`Value`] through a serde
//!   `DeserializeSeed`, keeping key order and sharing repeated short strings.
//! - [`to_json`] / [`from_json`] convert to and from `serde_json::Value`, for
//!   code that already holds serde values (LLM requests and responses).
//!
//! Ints stay ints when they fit `i64`; larger numbers become floats. Floats
//! print like Python's `repr` (`0.5`, `12.0`, `1e21`); NaN and infinities
//! are not JSON and are rejected, as are functions and ranges.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{DictMap, RcStr, Value};

/// The deepest nesting of lists and dicts that [`write_json`] and
/// [`to_json`] accept: the most `serde_json` parses (its recursion limit),
/// so whatever is written can be read back.
pub const MAX_JSON_DEPTH: usize = 127;

/// Describes why a value cannot be written as JSON.
fn unsupported(v: &Value) -> String {
    format!("cannot convert a {} to JSON", v.type_name())
}

fn too_deep() -> String {
    format!("value nested deeper than {MAX_JSON_DEPTH} levels")
}

fn bad_float(f: f64) -> String {
    let mut s = String::new();
    super::display::write_float(&mut s, f);
    format!("cannot convert {s} to JSON")
}

// ---------------------------------------------------------------------------
// serde_json::Value conversions

/// Converts a value to a `serde_json::Value`.
pub fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    to_json_at(v, 0)
}

fn to_json_at(v: &Value, depth: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match v {
        Value::Nil | Value::Undef => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::Number((*i).into()),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => J::Number(n),
            None => return Err(bad_float(*f)),
        },
        Value::Str(s) => J::String(s.to_string()),
        Value::List(items) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(too_deep());
            }
            J::Array(
                items
                    .iter()
                    .map(|x| to_json_at(x, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Dict(map) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(too_deep());
            }
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, x) in map.iter() {
                out.insert(k.to_string(), to_json_at(x, depth + 1)?);
            }
            J::Object(out)
        }
        Value::Cell(c) => to_json_at(&c.borrow(), depth)?,
        other => return Err(unsupported(other)),
    })
}

/// Converts a `serde_json::Value` to a value (ints that fit `i64` stay ints).
pub fn from_json(j: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(Rc::new(s)),
        J::Array(items) => Value::list(items.into_iter().map(from_json).collect()),
        J::Object(map) => {
            let mut out = DictMap::with_capacity_and_hasher(map.len(), Default::default());
            for (k, x) in map {
                out.insert(Rc::new(k), from_json(x));
            }
            Value::dict(out)
        }
    }
}

// ---------------------------------------------------------------------------
// Stringifying

/// Appends the JSON text of `v` to `out`: compact (`{"a":1,"b":[1,2]}`) or,
/// with `pretty`, indented by two spaces per level (`"key": value`).
///
/// The error names the offending value and where it is: `cannot convert a
/// function to JSON (at $.handlers[1])`.
pub fn write_json(out: &mut String, v: &Value, pretty: bool) -> Result<(), String> {
    let mut w = Writer {
        out,
        pretty,
        cap: usize::MAX,
    };
    w.value(v, 0).map_err(|e| with_location(e, v))
}

/// Why [`write_json_capped`] failed.
#[derive(Debug)]
pub enum JsonWriteError {
    /// A value JSON cannot hold (message as for [`write_json`]).
    Invalid(String),
    /// The text passed `cap` bytes (its length when the writer stopped).
    TooLong(usize),
}

/// [`write_json`] that stops once the text is longer than `cap` bytes
/// (`max_string_len`), checked between the items of collections.
pub fn write_json_capped(
    out: &mut String,
    v: &Value,
    pretty: bool,
    cap: usize,
) -> Result<(), JsonWriteError> {
    let mut w = Writer { out, pretty, cap };
    match w.value(v, 0) {
        Ok(()) if out.len() <= cap => Ok(()),
        Ok(()) => Err(JsonWriteError::TooLong(out.len())),
        Err(e) if e == TOO_LONG => Err(JsonWriteError::TooLong(out.len())),
        Err(e) => Err(JsonWriteError::Invalid(with_location(e, v))),
    }
}

/// The internal error of a capped writer that passed its cap.
const TOO_LONG: &str = "\0too long";

/// Appends ` (at PATH)` to an error about a nested part of `root`.
fn with_location(e: String, root: &Value) -> String {
    let mut path = String::from("$");
    if locate_bad(root, &mut path, 0) && path != "$" {
        format!("{e} (at {path})")
    } else {
        e
    }
}

/// Finds the first part of `v` that [`Writer::value`] rejects (same walk
/// order), leaving its path in `path`.
fn locate_bad(v: &Value, path: &mut String, depth: usize) -> bool {
    match v {
        Value::Nil | Value::Undef | Value::Bool(_) | Value::Int(_) | Value::Str(_) => false,
        Value::Float(f) => !f.is_finite(),
        Value::List(items) => {
            if depth >= MAX_JSON_DEPTH {
                return true;
            }
            for (i, item) in items.iter().enumerate() {
                let at = path.len();
                path.push_str(&format!("[{i}]"));
                if locate_bad(item, path, depth + 1) {
                    return true;
                }
                path.truncate(at);
            }
            false
        }
        Value::Dict(map) => {
            if depth >= MAX_JSON_DEPTH {
                return true;
            }
            for (k, item) in map.iter() {
                let at = path.len();
                if super::display::is_identifier(k) {
                    path.push('.');
                    path.push_str(k);
                } else {
                    path.push('[');
                    write_json_str(path, k);
                    path.push(']');
                }
                if locate_bad(item, path, depth + 1) {
                    return true;
                }
                path.truncate(at);
            }
            false
        }
        Value::Cell(c) => locate_bad(&c.borrow(), path, depth),
        _ => true,
    }
}

/// A value as a JSON string (see [`write_json`]).
pub fn to_json_string(v: &Value, pretty: bool) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, pretty)?;
    Ok(out)
}

struct Writer<'a> {
    out: &'a mut String,
    pretty: bool,
    /// Stop (with [`TOO_LONG`]) once the output is longer than this.
    cap: usize,
}

impl Writer<'_> {
    fn newline(&mut self, depth: usize) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), String> {
        match v {
            Value::Nil | Value::Undef => self.out.push_str("null"),
            Value::Bool(true) => self.out.push_str("true"),
            Value::Bool(false) => self.out.push_str("false"),
            Value::Int(i) => write_int(self.out, *i),
            Value::Float(f) => {
                if !f.is_finite() {
                    return Err(bad_float(*f));
                }
                super::display::write_float(self.out, *f);
            }
            Value::Str(s) => write_json_str(self.out, s),
            Value::List(items) => {
                if depth >= MAX_JSON_DEPTH {
                    return Err(too_deep());
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if self.out.len() > self.cap {
                        return Err(TOO_LONG.to_string());
                    }
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1)?;
                }
                if !items.is_empty() {
                    self.newline(depth);
                }
                self.out.push(']');
            }
            Value::Dict(map) => {
                if depth >= MAX_JSON_DEPTH {
                    return Err(too_deep());
                }
                self.out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if self.out.len() > self.cap {
                        return Err(TOO_LONG.to_string());
                    }
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_json_str(self.out, k);
                    self.out.push_str(if self.pretty { ": " } else { ":" });
                    self.value(item, depth + 1)?;
                }
                if !map.is_empty() {
                    self.newline(depth);
                }
                self.out.push('}');
            }
            Value::Cell(c) => self.value(&c.borrow(), depth)?,
            other => return Err(unsupported(other)),
        }
        Ok(())
    }
}

/// Appends the decimal digits of `i` without going through `fmt`.
fn write_int(out: &mut String, i: i64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    // The buffer holds ASCII digits only.
    out.push_str(std::str::from_utf8(&buf[pos..]).unwrap_or("0"));
}

/// Which bytes need escaping in a JSON string (0 = none).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a JSON string literal (UTF-8 kept as is; control
/// characters, quotes and backslashes escaped).
pub fn write_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        // Escaped bytes are ASCII, so `i` is a char boundary.
        out.push_str(&s[start..i]);
        start = i + 1;
        out.push('\\');
        if esc == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push(esc as char);
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

// ---------------------------------------------------------------------------
// Parsing

/// Parses JSON text into a value. The error is serde_json's message, which
/// ends with the position: `expected value at line 1 column 5`.
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut state = ParseState::default();
    let v = ValueSeed { st: &mut state }.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Per-parse state: shares the `Rc<String>` of short strings that repeat
/// (the keys of a list of records, enum-like values such as `"active"`),
/// so each distinct one is allocated once per parse, and remembers the size
/// of the last object to pre-size the next one (records come in runs of the
/// same shape).
#[derive(Default)]
struct ParseState {
    strings: HashMap<Box<str>, RcStr, foldhash::fast::RandomState>,
    last_map_len: usize,
}

impl ParseState {
    /// Longest key shared.
    const MAX_KEY_LEN: usize = 32;
    /// Longest string value shared (longer values rarely repeat).
    const MAX_VALUE_LEN: usize = 16;
    /// Most distinct strings remembered.
    const MAX_STRINGS: usize = 1024;

    fn share(&mut self, s: &str, max_len: usize) -> RcStr {
        if s.len() > max_len {
            return Rc::new(s.to_string());
        }
        if let Some(rc) = self.strings.get(s) {
            return Rc::clone(rc);
        }
        let rc = Rc::new(s.to_string());
        if self.strings.len() < Self::MAX_STRINGS {
            self.strings.insert(s.into(), Rc::clone(&rc));
        }
        rc
    }

    fn share_owned(&mut self, s: String, max_len: usize) -> RcStr {
        if s.len() > max_len {
            return Rc::new(s);
        }
        self.share(&s, max_len)
    }
}

struct ValueSeed<'c> {
    st: &'c mut ParseState,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(u as f64),
        })
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(self.st.share(s, ParseState::MAX_VALUE_LEN)))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(
            self.st.share_owned(s, ParseState::MAX_VALUE_LEN),
        ))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(ValueSeed { st: &mut *self.st })? {
            items.push(v);
        }
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map =
            DictMap::with_capacity_and_hasher(self.st.last_map_len.min(64), Default::default());
        while let Some(k) = access.next_key_seed(KeySeed { st: &mut *self.st })? {
            let v = access.next_value_seed(ValueSeed { st: &mut *self.st })?;
            map.insert(k, v);
        }
        self.st.last_map_len = map.len();
        Ok(Value::dict(map))
    }
}

struct KeySeed<'c> {
    st: &'c mut ParseState,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = RcStr;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RcStr, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = RcStr;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<RcStr, E> {
        Ok(self.st.share(s, ParseState::MAX_KEY_LEN))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<RcStr, E> {
        Ok(self.st.share_owned(s, ParseState::MAX_KEY_LEN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{dict_from, values_equal};

    fn compact(v: &Value) -> String {
        to_json_string(v, false).unwrap()
    }

    #[test]
    fn writes_compact_json() {
        let v = dict_from([
            ("a", Value::Int(1)),
            (
                "b",
                Value::list(vec![Value::Int(1), Value::Float(0.5), Value::Nil]),
            ),
            ("c", Value::str("q\"\\\n\u{1}é")),
            ("d", Value::Float(12.0)),
        ]);
        assert_eq!(
            compact(&v),
            r#"{"a":1,"b":[1,0.5,null],"c":"q\"\\\n\u0001é","d":12.0}"#
        );
        assert_eq!(compact(&Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(compact(&Value::Int(0)), "0");
        assert_eq!(compact(&Value::Float(1e21)), "1e21");
    }

    #[test]
    fn writes_pretty_json() {
        let v = dict_from([
            ("a", Value::list(vec![Value::Int(1), Value::Int(2)])),
            ("e", Value::list(vec![])),
            ("f", dict_from::<_, String>([])),
        ]);
        assert_eq!(
            to_json_string(&v, true).unwrap(),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": [],\n  \"f\": {}\n}"
        );
    }

    #[test]
    fn rejects_non_json_values() {
        assert!(compact_err(&Value::Float(f64::NAN)).contains("nan"));
        assert!(compact_err(&Value::Float(f64::INFINITY)).contains("inf"));
        let r = Value::Range(Rc::new(crate::value::RangeVal {
            start: 0,
            end: 2,
            inclusive: false,
        }));
        assert_eq!(compact_err(&r), "cannot convert a range to JSON");
        assert!(to_json(&r).is_err());
        let nested = dict_from([
            ("ok", Value::Int(1)),
            ("two words", Value::list(vec![Value::Int(1), r])),
        ]);
        assert_eq!(
            compact_err(&nested),
            "cannot convert a range to JSON (at $[\"two words\"][1])"
        );
    }

    fn compact_err(v: &Value) -> String {
        to_json_string(v, false).unwrap_err()
    }

    #[test]
    fn limits_depth() {
        let mut v = Value::Int(1);
        for _ in 0..MAX_JSON_DEPTH {
            v = Value::list(vec![v]);
        }
        let text = compact(&v);
        assert!(parse_json(&text).is_ok());
        let deeper = Value::list(vec![v]);
        assert!(compact_err(&deeper).contains("deeper"));
        let text = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert!(parse_json(&text).is_err());
    }

    #[test]
    fn parses_json() {
        let v = parse_json(r#" {"b": [1, 2.5, -3, 18446744073709551615], "a": null, "s": "x\u00e9\n", "t": true} "#)
            .unwrap();
        let want = dict_from([
            (
                "b",
                Value::list(vec![
                    Value::Int(1),
                    Value::Float(2.5),
                    Value::Int(-3),
                    Value::Float(18446744073709551615.0),
                ]),
            ),
            ("a", Value::Nil),
            ("s", Value::str("xé\n")),
            ("t", Value::Bool(true)),
        ]);
        assert!(values_equal(&v, &want));
        // Key order is kept.
        let Value::Dict(d) = &v else { panic!() };
        let keys: Vec<&str> = d.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "s", "t"]);
        assert!(matches!(parse_json("1.0").unwrap(), Value::Float(_)));
    }

    #[test]
    fn parse_errors_have_positions() {
        let e = parse_json("[1, x]").err().unwrap().to_string();
        assert_eq!(e, "expected value at line 1 column 5");
        let e = parse_json("[1, ]").err().unwrap().to_string();
        assert_eq!(e, "trailing comma at line 1 column 5");
        let e = parse_json("{\"a\": 1}\nx").err().unwrap().to_string();
        assert!(e.contains("line 2 column 1"), "{e}");
    }

    #[test]
    fn round_trips_through_serde() {
        let text = r#"{"a":[1,2.5,"x",{"k":null}],"b":true}"#;
        let v = parse_json(text).unwrap();
        let j = to_json(&v).unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), text);
        assert!(values_equal(&from_json(j), &v));
        assert_eq!(compact(&v), text);
    }

    #[test]
    fn shares_repeated_keys() {
        let v = parse_json(r#"[{"id":1},{"id":2}]"#).unwrap();
        let Value::List(items) = &v else { panic!() };
        let key = |i: usize| match &items[i] {
            Value::Dict(d) => Rc::clone(d.keys().next().unwrap()),
            _ => panic!(),
        };
        assert!(Rc::ptr_eq(&key(0), &key(1)));
    }
}
