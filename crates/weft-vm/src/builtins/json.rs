//! JSON builtins (stdlib.md "JSON and schemas"): `json_parse`,
//! `json_stringify`. The conversions live in `value::json`.

use weft_syntax::suggest::did_you_mean;

use super::{sync, Args, BuiltinDef};
use crate::error::{type_error, value_error, RtResult};
use crate::value::{json, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("json_parse", &["text"], 1, 1, "json", "Parses JSON text into a value (ints stay ints; bad input raises `value_error` with the line and column).", json_parse),
        sync("json_stringify", &["value", "options"], 1, 2, "json", "The JSON text of a value: compact, or indented by two spaces with `{pretty: true}`.", json_stringify).options(&[STRINGIFY_OPTIONS]),
    ]
}

fn json_parse(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let text = args.str(0)?;
    let v = json::parse_json(text).map_err(|e| value_error(format!("json_parse: {e}")))?;
    vm.program.limits.check_deep(&v)?;
    vm.check_deadline()?;
    Ok(v)
}

const STRINGIFY_OPTIONS: &[&str] = &["pretty"];

fn json_stringify(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let mut pretty = false;
    if args.opt(1).is_some() {
        for (k, v) in args.dict(1)?.iter() {
            match k.as_str() {
                "pretty" => match v {
                    Value::Bool(b) => pretty = *b,
                    Value::Nil => {}
                    other => {
                        return Err(type_error(format!(
                            "json_stringify: option 'pretty' must be a bool, got {}",
                            other.type_name()
                        )))
                    }
                },
                key => {
                    let mut msg = format!("json_stringify: unknown option '{key}'");
                    if let Some(s) = did_you_mean(key, STRINGIFY_OPTIONS.iter().copied()) {
                        msg.push_str(&format!(" (did you mean '{s}'?)"));
                    } else {
                        msg.push_str(" (options: pretty)");
                    }
                    return Err(value_error(msg));
                }
            }
        }
    }
    let mut out = String::new();
    let cap = vm.program.limits.string_cap();
    match json::write_json_capped(&mut out, &args.vals[0], pretty, cap) {
        Ok(()) => Ok(Value::str(out)),
        Err(json::JsonWriteError::TooLong(n)) => Err(crate::value::limits::string_too_long(n, cap)),
        Err(json::JsonWriteError::Invalid(e)) => Err(value_error(format!("json_stringify: {e}"))),
    }
}
