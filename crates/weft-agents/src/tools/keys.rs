//! Option-dict helpers shared by the tool and agent builtins: unknown keys
//! become a `value_error` naming the closest known key, wrong types a
//! `type_error` naming the option.

use weft_syntax::suggest::did_you_mean;
use weft_vm::error::{type_error, value_error, RtError, RtResult};
use weft_vm::value::{DictMap, Value};

/// `WHO: unknown WHAT option 'KEY' (did you mean 'X'?)`, or the list of
/// known keys when nothing is close.
pub fn unknown_key(who: &str, what: &str, key: &str, known: &[&str]) -> Box<RtError> {
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("{what} ")
    };
    let mut msg = format!("{who}: unknown {what}option '{key}'");
    match did_you_mean(key, known.iter().copied()) {
        Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
        None => msg.push_str(&format!(" (options: {})", known.join(", "))),
    }
    value_error(msg)
}

/// Fails on the first key of `map` that is not in `known`.
pub fn check_keys(map: &DictMap, who: &str, what: &str, known: &[&str]) -> RtResult<()> {
    for k in map.keys() {
        if !known.contains(&k.as_str()) {
            return Err(unknown_key(who, what, k, known));
        }
    }
    Ok(())
}

/// `WHO: option 'NAME' must be EXPECTED, got TYPE`.
pub fn opt_type(who: &str, name: &str, expected: &str, got: &Value) -> Box<RtError> {
    type_error(format!(
        "{who}: option '{name}' must be {expected}, got {}",
        got.type_name()
    ))
}

/// A string option (`None` when absent or nil).
pub fn opt_str(map: &DictMap, who: &str, name: &str) -> RtResult<Option<String>> {
    match weft_vm::value::dict_get(map, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(opt_type(who, name, "a string", other)),
    }
}

/// A bool option (`None` when absent or nil).
pub fn opt_bool(map: &DictMap, who: &str, name: &str) -> RtResult<Option<bool>> {
    match weft_vm::value::dict_get(map, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(opt_type(who, name, "a bool", other)),
    }
}

/// A non-negative int option (`None` when absent or nil); `min` is the
/// smallest allowed value.
pub fn opt_uint(map: &DictMap, who: &str, name: &str, min: i64) -> RtResult<Option<u64>> {
    match weft_vm::value::dict_get(map, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Int(n)) if *n >= min => Ok(Some(*n as u64)),
        Some(Value::Int(n)) => Err(value_error(format!(
            "{who}: option '{name}' must be at least {min}, got {n}"
        ))),
        Some(other) => Err(opt_type(who, name, "an int", other)),
    }
}

/// A list of strings.
pub fn str_list(v: &Value, who: &str, name: &str) -> RtResult<Vec<String>> {
    let Value::List(items) = v else {
        return Err(opt_type(who, name, "a list of strings", v));
    };
    items
        .iter()
        .map(|x| match x {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(type_error(format!(
                "{who}: '{name}' must be a list of strings, found {}",
                other.type_name()
            ))),
        })
        .collect()
}

/// Fails on the first key of a data dict (a message, a transcript, a
/// registry entry) that is not in `known`: `WHO: unknown key 'KEY' in a
/// WHAT (did you mean 'X'?)`.
pub fn check_fields(map: &DictMap, who: &str, what: &str, known: &[&str]) -> RtResult<()> {
    for k in map.keys() {
        if !known.contains(&k.as_str()) {
            let hint = match did_you_mean(k, known.iter().copied()) {
                Some(s) => format!("did you mean '{s}'?"),
                None => format!("keys: {}", known.join(", ")),
            };
            return Err(value_error(format!(
                "{who}: unknown key '{k}' in a {what} ({hint})"
            )));
        }
    }
    Ok(())
}
