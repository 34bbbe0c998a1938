//! Regex builtins (stdlib.md "Regex", `regex` crate syntax). Compiled
//! patterns come from `value::schema::cached_regex`, a small bounded
//! per-thread cache shared with schema `pattern`s.

use std::borrow::Cow;
use std::rc::Rc;

use regex::Regex;

use super::{sync, Args, BuiltinDef};
use crate::error::{value_error, RtResult};
use crate::value::{cached_regex, write_repr, DictMap, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("regex_test", &["pattern", "text"], 2, 2, "regex", "True when the pattern matches somewhere in the text.", regex_test),
        sync("regex_find", &["pattern", "text"], 2, 2, "regex", "The first match of the pattern in the text, or nil.", regex_find),
        sync("regex_find_all", &["pattern", "text"], 2, 2, "regex", "Every non-overlapping match of the pattern in the text, as a list of strings.", regex_find_all),
        sync("regex_captures", &["pattern", "text"], 2, 2, "regex", "The groups of the first match as a dict (`\"0\"` whole match, `\"1\"`..., and named groups; unmatched groups nil), or nil.", regex_captures),
        sync("regex_replace", &["pattern", "text", "replacement"], 3, 3, "regex", "Replaces every match; the replacement may use `$1`, `${1}` and `${name}` (`$$` for a dollar).", regex_replace),
        sync("regex_split", &["pattern", "text"], 2, 2, "regex", "Splits the text at every match of the pattern.", regex_split),
    ]
}

/// The compiled pattern (argument 1); an invalid one raises `value_error`.
fn pattern(args: &Args) -> RtResult<Rc<Regex>> {
    let p = args.str(0)?;
    cached_regex(p).map_err(|reason| {
        let mut shown = String::new();
        write_repr(&mut shown, &args.vals[0]);
        value_error(format!("{}: invalid pattern {shown}: {reason}", args.name))
    })
}

fn regex_test(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(Value::Bool(re.is_match(text)))
}

fn regex_find(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(match re.find(text) {
        Some(m) => Value::str(m.as_str()),
        None => Value::Nil,
    })
}

fn regex_find_all(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(Value::list(
        re.find_iter(text).map(|m| Value::str(m.as_str())).collect(),
    ))
}

fn regex_captures(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    let Some(caps) = re.captures(text) else {
        return Ok(Value::Nil);
    };
    let group = |i: usize| caps.get(i).map_or(Value::Nil, |m| Value::str(m.as_str()));
    let mut map = DictMap::default();
    for i in 0..caps.len() {
        map.insert(Rc::new(i.to_string()), group(i));
    }
    for (i, name) in re.capture_names().enumerate() {
        if let Some(name) = name {
            map.insert(Rc::new(name.to_string()), group(i));
        }
    }
    Ok(Value::dict(map))
}

fn regex_replace(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let replacement = args.str(2)?;
    let re = pattern(args)?;
    match re.replace_all(text, replacement) {
        Cow::Borrowed(_) => Ok(args.take(1)),
        Cow::Owned(s) => Ok(Value::str(s)),
    }
}

fn regex_split(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(Value::list(re.split(text).map(Value::str).collect()))
}
