//! A JSON Schema subset validator over [`Value`]s (stdlib.md "JSON and
//! schemas"), reused by `schema_check`/`schema_expect`, tool arguments and
//! structured LLM responses.
//!
//! Keywords: `type` (`string integer number boolean object array null`, or
//! a list of them; `number` accepts ints and floats, `integer` only ints),
//! `properties`, `required`, `additionalProperties` (bool), `items`, `enum`,
//! `const`, `minimum`, `maximum`, `minLength`, `maxLength` (Unicode
//! scalars), `minItems`, `maxItems`, `pattern` (`regex` crate syntax,
//! unanchored), `anyOf`, `oneOf` (exactly one), `description` (ignored).
//! As in JSON Schema, keywords for one kind of value (`minLength`, `items`,
//! `required`, ...) ignore values of other kinds.
//!
//! Errors are path-prefixed: `$.items[2].age: expected integer, got string`.
//! A malformed schema is reported once, before any value is checked, with a
//! JSON pointer into the schema: `invalid schema at #/properties/age:
//! unknown keyword 'minimun' (did you mean 'minimum'?)`.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;

use regex::Regex;
use weft_syntax::suggest::did_you_mean;

use super::display::{is_identifier, write_quoted};
use super::{compare, dict_get, values_equal, DictMap, Value};

/// The keywords this validator understands.
pub const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "anyOf",
    "oneOf",
    "description",
    "title",
    "default",
    "examples",
    "format",
    "$schema",
    "$comment",
];

/// The names `type` accepts.
pub const SCHEMA_TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "object", "array", "null",
];

/// How deeply schemas may nest (`properties`, `items`, `anyOf`, `oneOf`).
pub const MAX_SCHEMA_DEPTH: usize = 128;

/// Validates `value` against `schema`. `Ok(errors)` lists every violation
/// (empty when the value is valid); `Err` describes a malformed schema.
pub fn validate(value: &Value, schema: &Value) -> Result<Vec<String>, String> {
    check_schema(schema)?;
    let mut v = Validator { errors: Vec::new() };
    let mut path = String::from("$");
    v.check(value, schema, &mut path);
    Ok(v.errors)
}

/// Checks that `schema` is well formed (every keyword known and of the
/// right type, every `pattern` a valid regex).
pub fn check_schema(schema: &Value) -> Result<(), String> {
    let mut ptr = String::from("#");
    check_schema_at(schema, &mut ptr, 0)
        .map_err(|(at, msg)| format!("invalid schema at {at}: {msg}"))
}

// ---------------------------------------------------------------------------
// Regex cache (shared with the regex builtins)

thread_local! {
    /// Compiled regexes by pattern. A pure cache (no per-task state): a
    /// bounded map, emptied when full. Entries are shared (`Rc`) rather than
    /// cloned because a cloned `Regex` starts with empty search caches.
    static REGEX_CACHE: RefCell<HashMap<String, Rc<Regex>, foldhash::fast::RandomState>> =
        RefCell::new(HashMap::default());
}

const REGEX_CACHE_SIZE: usize = 256;
const REGEX_CACHE_MAX_PATTERN: usize = 4096;

/// Compiles `pattern` (`regex` crate syntax), reusing a recent compilation.
/// The error is the regex crate's reason, on one line (`unclosed group`).
pub fn cached_regex(pattern: &str) -> Result<Rc<Regex>, String> {
    if let Some(re) = REGEX_CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Rc::new(Regex::new(pattern).map_err(|e| regex_error_reason(&e))?);
    if pattern.len() <= REGEX_CACHE_MAX_PATTERN {
        REGEX_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= REGEX_CACHE_SIZE {
                c.clear();
            }
            c.insert(pattern.to_string(), Rc::clone(&re));
        });
    }
    Ok(re)
}

/// The one-line reason of a regex error: the `error: ...` line of a syntax
/// error (whose display spans several lines), else the whole message.
pub fn regex_error_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    if let Some(line) = text.lines().find_map(|l| l.strip_prefix("error: ")) {
        return line.trim().to_string();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Schema checking

type SchemaErr = (String, String);

fn push_pointer(ptr: &mut String, seg: &str) {
    ptr.push('/');
    for c in seg.chars() {
        match c {
            '~' => ptr.push_str("~0"),
            '/' => ptr.push_str("~1"),
            c => ptr.push(c),
        }
    }
}

fn schema_err(ptr: &str, msg: impl Into<String>) -> SchemaErr {
    (ptr.to_string(), msg.into())
}

/// `'kw' must be WHAT, got TYPE`.
fn kw_type_err(ptr: &str, kw: &str, what: &str, got: &Value) -> SchemaErr {
    schema_err(
        ptr,
        format!("'{kw}' must be {what}, got {}", got.type_name()),
    )
}

fn check_type_name(ptr: &str, name: &str) -> Result<(), SchemaErr> {
    if SCHEMA_TYPES.contains(&name) {
        return Ok(());
    }
    let hint = match name {
        "int" => Some("integer"),
        "float" => Some("number"),
        "bool" => Some("boolean"),
        "dict" | "map" => Some("object"),
        "list" => Some("array"),
        "nil" => Some("null"),
        "str" => Some("string"),
        _ => did_you_mean(name, SCHEMA_TYPES.iter().copied()),
    };
    let mut msg = format!("unknown type '{name}'");
    match hint {
        Some(h) => {
            let _ = write!(msg, " (did you mean '{h}'?)");
        }
        None => {
            let _ = write!(msg, " (expected one of {})", SCHEMA_TYPES.join(", "));
        }
    }
    Err(schema_err(ptr, msg))
}

fn check_schema_at(schema: &Value, ptr: &mut String, depth: usize) -> Result<(), SchemaErr> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(schema_err(
            ptr,
            format!("schemas nested deeper than {MAX_SCHEMA_DEPTH} levels"),
        ));
    }
    let Value::Dict(map) = schema else {
        return Err(schema_err(
            ptr,
            format!("a schema must be a dict, got {}", schema.type_name()),
        ));
    };
    for (k, v) in map.iter() {
        let kw = k.as_str();
        match kw {
            "type" => match v {
                Value::Str(name) => check_type_name(ptr, name)?,
                Value::List(names) if !names.is_empty() => {
                    for n in names.iter() {
                        match n {
                            Value::Str(name) => check_type_name(ptr, name)?,
                            _ => {
                                return Err(kw_type_err(
                                    ptr,
                                    kw,
                                    "a type name or a list of type names",
                                    n,
                                ))
                            }
                        }
                    }
                }
                Value::List(_) => return Err(schema_err(ptr, "'type' must not be an empty list")),
                _ => {
                    return Err(kw_type_err(
                        ptr,
                        kw,
                        "a type name or a list of type names",
                        v,
                    ))
                }
            },
            "properties" => {
                let Value::Dict(props) = v else {
                    return Err(kw_type_err(ptr, kw, "a dict of schemas", v));
                };
                for (name, sub) in props.iter() {
                    let len = ptr.len();
                    push_pointer(ptr, kw);
                    push_pointer(ptr, name);
                    check_schema_at(sub, ptr, depth + 1)?;
                    ptr.truncate(len);
                }
            }
            "required" => {
                let Value::List(names) = v else {
                    return Err(kw_type_err(ptr, kw, "a list of strings", v));
                };
                if let Some(bad) = names.iter().find(|n| !matches!(n, Value::Str(_))) {
                    let msg = format!(
                        "'{kw}' must be a list of strings, but an item is {}",
                        bad.type_name()
                    );
                    return Err(schema_err(ptr, msg));
                }
            }
            "additionalProperties" => {
                if !matches!(v, Value::Bool(_)) {
                    return Err(kw_type_err(ptr, kw, "a bool", v));
                }
            }
            "items" => {
                let len = ptr.len();
                push_pointer(ptr, kw);
                check_schema_at(v, ptr, depth + 1)?;
                ptr.truncate(len);
            }
            "enum" => {
                if !matches!(v, Value::List(_)) {
                    return Err(kw_type_err(ptr, kw, "a list", v));
                }
            }
            "const" => {}
            "minimum" | "maximum" => match v {
                Value::Int(_) => {}
                Value::Float(f) if f.is_finite() => {}
                Value::Float(_) => {
                    return Err(schema_err(ptr, format!("'{kw}' must be a finite number")))
                }
                _ => return Err(kw_type_err(ptr, kw, "a number", v)),
            },
            "minLength" | "maxLength" | "minItems" | "maxItems" => match v {
                Value::Int(n) if *n >= 0 => {}
                Value::Int(n) => {
                    return Err(schema_err(
                        ptr,
                        format!("'{kw}' must not be negative, got {n}"),
                    ))
                }
                _ => return Err(kw_type_err(ptr, kw, "a non-negative int", v)),
            },
            "pattern" => {
                let Value::Str(p) = v else {
                    return Err(kw_type_err(ptr, kw, "a string", v));
                };
                if let Err(reason) = cached_regex(p) {
                    let mut shown = String::new();
                    write_quoted(&mut shown, p);
                    return Err(schema_err(
                        ptr,
                        format!("'pattern' {shown} is not a valid regex: {reason}"),
                    ));
                }
            }
            "anyOf" | "oneOf" => {
                let Value::List(subs) = v else {
                    return Err(kw_type_err(ptr, kw, "a list of schemas", v));
                };
                if subs.is_empty() {
                    return Err(schema_err(ptr, format!("'{kw}' must not be an empty list")));
                }
                for (i, sub) in subs.iter().enumerate() {
                    let len = ptr.len();
                    push_pointer(ptr, kw);
                    let _ = write!(ptr, "/{i}");
                    check_schema_at(sub, ptr, depth + 1)?;
                    ptr.truncate(len);
                }
            }
            "description" | "title" | "$comment" => {
                if !matches!(v, Value::Str(_)) {
                    return Err(kw_type_err(ptr, kw, "a string", v));
                }
            }
            // Annotations common in tool schemas written for other systems:
            // accepted and ignored.
            "default" | "examples" | "format" | "$schema" => {}
            _ => {
                let mut msg = format!("unknown keyword '{kw}'");
                if let Some(s) = did_you_mean(kw, SCHEMA_KEYWORDS.iter().copied()) {
                    let _ = write!(msg, " (did you mean '{s}'?)");
                }
                return Err(schema_err(ptr, msg));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Validation

struct Validator {
    errors: Vec<String>,
}

/// Appends `.key` (identifier keys) or `["key"]` to a value path.
fn push_key(path: &mut String, key: &str) {
    if is_identifier(key) {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        write_quoted(path, key);
        path.push(']');
    }
}

/// The repr of a value, cut to a readable length.
fn short_repr(v: &Value) -> String {
    const MAX: usize = 60;
    let s = v.to_repr();
    if s.chars().count() <= MAX {
        return s;
    }
    let cut: String = s.chars().take(MAX - 3).collect();
    format!("{cut}...")
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "string" => matches!(v, Value::Str(_)),
        "integer" => matches!(v, Value::Int(_)),
        "number" => matches!(v, Value::Int(_) | Value::Float(_)),
        "boolean" => matches!(v, Value::Bool(_)),
        "object" => matches!(v, Value::Dict(_)),
        "array" => matches!(v, Value::List(_)),
        "null" => matches!(v, Value::Nil | Value::Undef),
        _ => false,
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Validator {
    fn fail(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {msg}"));
    }

    fn check(&mut self, v: &Value, schema: &Value, path: &mut String) {
        let Value::Dict(s) = schema else { return };
        if let Value::Cell(c) = v {
            let inner = c.borrow().clone();
            return self.check(&inner, schema, path);
        }

        if let Some(t) = dict_get(s, "type") {
            let names: Vec<&str> = match t {
                Value::Str(n) => vec![n.as_str()],
                Value::List(ns) => ns.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !names.is_empty() && !names.iter().any(|n| type_matches(n, v)) {
                self.fail(
                    path,
                    format_args!("expected {}, got {}", or_list(&names), v.type_name()),
                );
                // Further keywords would only repeat the mismatch.
                return;
            }
        }
        if let Some(c) = dict_get(s, "const") {
            if !values_equal(v, c) {
                self.fail(
                    path,
                    format_args!("expected {}, got {}", short_repr(c), short_repr(v)),
                );
            }
        }
        if let Some(Value::List(options)) = dict_get(s, "enum") {
            if !options.iter().any(|o| values_equal(v, o)) {
                let shown = short_repr(&Value::List(options.clone()));
                self.fail(
                    path,
                    format_args!("expected one of {shown}, got {}", short_repr(v)),
                );
            }
        }
        match v {
            Value::Str(text) => self.check_string(text, s, path),
            Value::Int(_) | Value::Float(_) => self.check_number(v, s, path),
            Value::List(items) => self.check_array(items, s, path),
            Value::Dict(map) => self.check_object(map, s, path),
            _ => {}
        }
        if let Some(Value::List(subs)) = dict_get(s, "anyOf") {
            self.check_any_of(v, subs, path);
        }
        if let Some(Value::List(subs)) = dict_get(s, "oneOf") {
            self.check_one_of(v, subs, path);
        }
    }

    fn check_string(&mut self, text: &str, s: &DictMap, path: &str) {
        let min = dict_get(s, "minLength");
        let max = dict_get(s, "maxLength");
        if min.is_some() || max.is_some() {
            let len = text.chars().count() as i64;
            if let Some(Value::Int(n)) = min {
                if len < *n {
                    self.fail(
                        path,
                        format_args!(
                            "expected at least {}, got {len}",
                            plural(*n, "character", "characters")
                        ),
                    );
                }
            }
            if let Some(Value::Int(n)) = max {
                if len > *n {
                    self.fail(
                        path,
                        format_args!(
                            "expected at most {}, got {len}",
                            plural(*n, "character", "characters")
                        ),
                    );
                }
            }
        }
        if let Some(Value::Str(p)) = dict_get(s, "pattern") {
            // The pattern compiled when the schema was checked.
            if let Ok(re) = cached_regex(p) {
                if !re.is_match(text) {
                    let got = short_repr(&Value::str(text));
                    self.fail(
                        path,
                        format_args!("expected a string matching /{p}/, got {got}"),
                    );
                }
            }
        }
    }

    fn check_number(&mut self, v: &Value, s: &DictMap, path: &str) {
        if let Some(min) = dict_get(s, "minimum") {
            if matches!(compare(v, min), Ok(Some(Ordering::Less))) {
                self.fail(
                    path,
                    format_args!("expected at least {}, got {}", min.to_repr(), v.to_repr()),
                );
            }
        }
        if let Some(max) = dict_get(s, "maximum") {
            if matches!(compare(v, max), Ok(Some(Ordering::Greater))) {
                self.fail(
                    path,
                    format_args!("expected at most {}, got {}", max.to_repr(), v.to_repr()),
                );
            }
        }
    }

    fn check_array(&mut self, items: &[Value], s: &DictMap, path: &mut String) {
        let len = items.len() as i64;
        if let Some(Value::Int(n)) = dict_get(s, "minItems") {
            if len < *n {
                self.fail(
                    path,
                    format_args!(
                        "expected at least {}, got {len}",
                        plural(*n, "item", "items")
                    ),
                );
            }
        }
        if let Some(Value::Int(n)) = dict_get(s, "maxItems") {
            if len > *n {
                self.fail(
                    path,
                    format_args!(
                        "expected at most {}, got {len}",
                        plural(*n, "item", "items")
                    ),
                );
            }
        }
        if let Some(sub) = dict_get(s, "items") {
            for (i, item) in items.iter().enumerate() {
                let at = path.len();
                let _ = write!(path, "[{i}]");
                self.check(item, sub, path);
                path.truncate(at);
            }
        }
    }

    fn check_object(&mut self, map: &DictMap, s: &DictMap, path: &mut String) {
        if let Some(Value::List(required)) = dict_get(s, "required") {
            for name in required.iter().filter_map(Value::as_str) {
                if dict_get(map, name).is_none() {
                    self.fail(path, format_args!("missing required property '{name}'"));
                }
            }
        }
        let props = match dict_get(s, "properties") {
            Some(Value::Dict(p)) => Some(p),
            _ => None,
        };
        if let Some(props) = props {
            for (name, sub) in props.iter() {
                if let Some(item) = dict_get(map, name) {
                    let at = path.len();
                    push_key(path, name);
                    self.check(item, sub, path);
                    path.truncate(at);
                }
            }
        }
        if let Some(Value::Bool(false)) = dict_get(s, "additionalProperties") {
            for k in map.keys() {
                if props.is_none_or(|p| dict_get(p, k).is_none()) {
                    self.fail(path, format_args!("unexpected property '{k}'"));
                }
            }
        }
    }

    /// The errors of `v` against each branch.
    fn branch_errors(v: &Value, subs: &[Value], path: &mut String) -> Vec<Vec<String>> {
        subs.iter()
            .map(|sub| {
                let mut b = Validator { errors: Vec::new() };
                b.check(v, sub, path);
                b.errors
            })
            .collect()
    }

    /// `[0] expected string, got bool; [1] $.a.b: ...` (errors at `path`
    /// itself lose their prefix; at most 3 per branch).
    fn summarize(branches: &[Vec<String>], path: &str) -> String {
        const PER_BRANCH: usize = 3;
        let prefix = format!("{path}: ");
        let mut parts = Vec::new();
        for (i, errs) in branches.iter().enumerate() {
            for e in errs.iter().take(PER_BRANCH) {
                let e = e.strip_prefix(&prefix).unwrap_or(e);
                parts.push(format!("[{i}] {e}"));
            }
            if errs.len() > PER_BRANCH {
                parts.push(format!("[{i}] ... {} more", errs.len() - PER_BRANCH));
            }
        }
        parts.join("; ")
    }

    fn check_any_of(&mut self, v: &Value, subs: &[Value], path: &mut String) {
        let branches = Self::branch_errors(v, subs, path);
        if branches.iter().any(Vec::is_empty) {
            return;
        }
        let detail = Self::summarize(&branches, path);
        self.fail(
            path,
            format_args!("does not match any anyOf schema ({detail})"),
        );
    }

    fn check_one_of(&mut self, v: &Value, subs: &[Value], path: &mut String) {
        let branches = Self::branch_errors(v, subs, path);
        let matched: Vec<String> = branches
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_empty())
            .map(|(i, _)| i.to_string())
            .collect();
        match matched.len() {
            1 => {}
            0 => {
                let detail = Self::summarize(&branches, path);
                self.fail(
                    path,
                    format_args!("does not match any oneOf schema ({detail})"),
                );
            }
            n => self.fail(
                path,
                format_args!(
                    "matches {n} oneOf schemas ({}), expected exactly one",
                    matched.join(", ")
                ),
            ),
        }
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
