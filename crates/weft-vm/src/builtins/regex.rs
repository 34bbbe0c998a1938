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

/// Wraps a regex builtin: a long match over a big input is noticed against
/// the wall-clock limit as soon as it returns (the regex engine cannot be
/// interrupted, but it is linear in its input, which `max_string_len`
/// bounds).
macro_rules! timed {
    ($($name:ident => $inner:ident),* $(,)?) => {$(
        fn $name(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
            let v = $inner(vm, args)?;
            vm.check_deadline()?;
            Ok(v)
        }
    )*};
}

timed! {
    regex_test => regex_test_impl,
    regex_find => regex_find_impl,
    regex_find_all => regex_find_all_impl,
    regex_captures => regex_captures_impl,
    regex_replace => regex_replace_impl,
    regex_split => regex_split_impl,
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

fn regex_test_impl(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(Value::Bool(re.is_match(text)))
}

fn regex_find_impl(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    Ok(match re.find(text) {
        Some(m) => Value::str(m.as_str()),
        None => Value::Nil,
    })
}

/// Collects at most one item past `max_collection_len`, then checks: a
/// pattern that matches everywhere cannot build a huge list first.
fn bounded_list(vm: &Vm, items: impl Iterator<Item = Value>) -> RtResult<Value> {
    let limits = vm.program.limits;
    let items: Vec<Value> = match limits.max_collection_len {
        Some(max) => items.take(max.saturating_add(1)).collect(),
        None => items.collect(),
    };
    limits.check_list_len(items.len())?;
    Ok(Value::list(items))
}

fn regex_find_all_impl(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    bounded_list(vm, re.find_iter(text).map(|m| Value::str(m.as_str())))
}

fn regex_captures_impl(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
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

fn regex_replace_impl(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let replacement = args.str(2)?;
    let re = pattern(args)?;
    let limits = vm.program.limits;
    if let Some(max) = limits.max_string_len {
        // What `replace_all` does, checking the length after every match.
        let mut out = String::new();
        let mut last = 0;
        let mut any = false;
        for caps in re.captures_iter(text) {
            any = true;
            let m = caps.get(0).expect("group 0 always matches");
            out.push_str(&text[last..m.start()]);
            caps.expand(replacement, &mut out);
            last = m.end();
            limits.check_string_len(out.len().saturating_add(text.len() - last))?;
        }
        if !any {
            return Ok(args.take(1));
        }
        out.push_str(&text[last..]);
        debug_assert!(out.len() <= max);
        return Ok(Value::str(out));
    }
    match re.replace_all(text, replacement) {
        Cow::Borrowed(_) => Ok(args.take(1)),
        Cow::Owned(s) => Ok(Value::str(s)),
    }
}

fn regex_split_impl(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(1)?;
    let re = pattern(args)?;
    bounded_list(vm, re.split(text).map(Value::str))
}
