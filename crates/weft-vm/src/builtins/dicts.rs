//! Dict builtins (stdlib.md "Dicts").

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::Value;
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("keys", &["dict"], 1, 1, "dicts", "The keys of a dict, in insertion order.", keys),
        sync("values", &["dict"], 1, 1, "dicts", "The values of a dict, in insertion order.", values),
    ]
}

fn keys(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    Ok(Value::list(d.keys().map(|k| Value::Str(k.clone())).collect()))
}

fn values(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let d = args.dict(0)?;
    Ok(Value::list(d.values().cloned().collect()))
}
