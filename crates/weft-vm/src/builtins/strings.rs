//! String builtins (stdlib.md "Strings").

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::{write_display, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![sync("join", &["list", "separator"], 1, 2, "strings", "The display strings of the items joined by the separator (default \"\").", join)]
}

fn join(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let items = args.list(0)?;
    let sep = match args.opt(1) {
        Some(_) => args.str(1)?,
        None => "",
    };
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        write_display(&mut out, v);
    }
    Ok(Value::str(out))
}
