//! Conversion builtins: `type_of`, `to_string`, `repr`, `to_int`,
//! `to_float`, `to_bool`, `to_list`, `len`.

use super::{sync, Args, BuiltinDef};
use crate::error::{type_error, value_error, RtResult};
use crate::value::{dict_from, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync(
            "type_of",
            &["value"],
            1,
            1,
            "conversion",
            "The type name: nil bool int float string list dict function range.",
            type_of,
        ),
        sync(
            "to_string",
            &["value"],
            1,
            1,
            "conversion",
            "The display string of a value (an error dict shows its message).",
            to_string,
        ),
        sync(
            "repr",
            &["value"],
            1,
            1,
            "conversion",
            "The display string with strings quoted.",
            repr,
        ),
        sync(
            "to_int",
            &["value"],
            1,
            1,
            "conversion",
            "Parses a string or truncates a float to an int.",
            to_int,
        ),
        sync(
            "to_float",
            &["value"],
            1,
            1,
            "conversion",
            "Parses a string or widens an int to a float.",
            to_float,
        ),
        sync(
            "to_bool",
            &["value"],
            1,
            1,
            "conversion",
            "The truthiness of a value.",
            to_bool,
        ),
        sync(
            "to_list",
            &["iterable"],
            1,
            1,
            "conversion",
            "A list of the items of a list, range, string (characters) or dict (entries).",
            to_list,
        ),
        sync(
            "len",
            &["value"],
            1,
            1,
            "conversion",
            "Length of a string (Unicode scalars), list, dict or range.",
            len,
        ),
    ]
}

fn type_of(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::str(args.vals[0].type_name()))
}

fn to_string(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if let Value::Str(_) = &args.vals[0] {
        return Ok(args.take(0));
    }
    let s = crate::value::limits::display_limited(&args.vals[0], &vm.program.limits)?;
    Ok(Value::str(s))
}

fn repr(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = crate::value::limits::repr_limited(&args.vals[0], &vm.program.limits)?;
    Ok(Value::str(s))
}

fn to_int(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => {
            if f.is_finite() && *f >= i64::MIN as f64 && *f < i64::MAX as f64 {
                Ok(Value::Int(f.trunc() as i64))
            } else {
                Err(value_error(format!(
                    "to_int: {} cannot be represented as an int",
                    args.vals[0].to_display()
                )))
            }
        }
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Str(s) => s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
            value_error(format!(
                "to_int: cannot parse {} as an int",
                args.vals[0].to_repr()
            ))
        }),
        _ => Err(args.type_err(0, "a string, number or bool")),
    }
}

fn to_float(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Bool(b) => Ok(Value::Float(*b as i64 as f64)),
        Value::Str(s) => s.trim().parse::<f64>().map(Value::Float).map_err(|_| {
            value_error(format!(
                "to_float: cannot parse {} as a float",
                args.vals[0].to_repr()
            ))
        }),
        _ => Err(args.type_err(0, "a string, number or bool")),
    }
}

fn to_bool(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::Bool(args.vals[0].truthy()))
}

/// The items of an iterable value, for builtins that accept any iterable.
/// Most items a range is turned into (as `range()` allows).
const MAX_RANGE_ITEMS: usize = 100_000_000;

pub(crate) fn iter_items(v: &Value, who: &str) -> RtResult<Vec<Value>> {
    match v {
        Value::List(items) => Ok(items.to_vec()),
        Value::Range(r) => {
            if r.len() > MAX_RANGE_ITEMS {
                return Err(crate::error::value_error(format!(
                    "{who}: a range of {} items is too many for a list (the limit is {MAX_RANGE_ITEMS})",
                    r.len()
                )));
            }
            Ok((r.start..r.end).map(Value::Int).collect())
        }
        Value::Str(s) => Ok(s.chars().map(|c| Value::str(c.to_string())).collect()),
        Value::Dict(d) => Ok(d
            .iter()
            .map(|(k, v)| dict_from([("key", Value::Str(k.clone())), ("value", v.clone())]))
            .collect()),
        other => Err(type_error(format!(
            "{who}: cannot iterate over {} (expected a list, range, string or dict)",
            other.type_name()
        ))),
    }
}

fn to_list(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    match &args.vals[0] {
        Value::List(_) => return Ok(args.take(0)),
        Value::Range(r) => vm.program.limits.check_list_len(r.len())?,
        _ => {}
    }
    Ok(Value::list(iter_items(&args.vals[0], "to_list")?))
}

fn len(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let n = match &args.vals[0] {
        Value::Str(s) => {
            if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            }
        }
        Value::List(l) => l.len(),
        Value::Dict(d) => d.len(),
        Value::Range(r) => r.len(),
        _ => return Err(args.type_err(0, "a string, list, dict or range")),
    };
    Ok(Value::Int(n as i64))
}
