//! time builtins (stdlib.md) — being filled in.

use super::BuiltinDef;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![]
}
