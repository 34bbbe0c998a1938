//! Schema builtins (stdlib.md "JSON and schemas"): `schema_check`,
//! `schema_expect`. The validator lives in `value::schema`.

use super::{sync, Args, BuiltinDef};
use crate::error::{value_error, RtError, RtResult};
use crate::value::{dict_from, schema, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("schema_check", &["value", "schema"], 2, 2, "json", "Validates a value against a JSON Schema subset: `{valid, errors}` with path-prefixed error strings.", schema_check),
        sync("schema_expect", &["value", "schema"], 2, 2, "json", "Returns the value if it matches the schema, else raises `schema_validation` listing the errors.", schema_expect),
    ]
}

/// Runs the validator; a malformed schema raises `value_error`.
fn run(args: &Args) -> RtResult<Vec<String>> {
    args.dict(1)?;
    schema::validate(&args.vals[0], &args.vals[1])
        .map_err(|e| value_error(format!("{}: {e}", args.name)))
}

fn schema_check(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let errors = run(args)?;
    Ok(dict_from([
        ("valid", Value::Bool(errors.is_empty())),
        (
            "errors",
            Value::list(errors.into_iter().map(Value::str).collect()),
        ),
    ]))
}

/// How many errors a `schema_validation` message lists before "and N more".
const MAX_LISTED: usize = 10;

fn schema_expect(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let errors = run(args)?;
    if errors.is_empty() {
        return Ok(args.take(0));
    }
    let n = errors.len();
    let mut msg = format!(
        "schema_expect: value does not match the schema ({n} {}): ",
        if n == 1 { "error" } else { "errors" }
    );
    msg.push_str(&errors[..n.min(MAX_LISTED)].join("; "));
    if n > MAX_LISTED {
        msg.push_str(&format!("; and {} more", n - MAX_LISTED));
    }
    Err(RtError::new("schema_validation", msg))
}
