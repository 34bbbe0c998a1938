//! agent_loop (agents.md) — being filled in.

use weft_vm::builtins::BuiltinDef;

pub(crate) fn defs() -> Vec<BuiltinDef> {
    Vec::new()
}
