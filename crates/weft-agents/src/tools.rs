//! Tools (agents.md §4): the builtins `tool_registry`, `tool_define` and
//! `tool_select`, and the Rust API the agent loop and workers use:
//! [`ToolRegistry`] (parsed from the registry dict), [`Policy`] checks,
//! [`authorize`] and [`run_tool`].

pub mod keys;
pub mod params;
pub mod policy;
pub mod registry;
pub mod run;

pub use policy::{Policy, SideEffectLevel, ToolPolicy};
pub use registry::{Tool, ToolRegistry};
pub use run::{allowed_tools, authorize, run_tool, ToolError, ToolOutcome};

use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::RtResult;
use weft_vm::value::{DictMap, Value};
use weft_vm::vm::Vm;

use keys::{check_keys, str_list};

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("tool_registry", &[], 0, 0, "agents", "An empty tool registry `{_type: \"tool_registry\", tools: []}`.", tool_registry),
        sync("tool_define", &["registry", "name", "description", "options"], 4, 4, "agents", "A copy of the registry with the tool added (or replaced); `parameters` and `handler` are required. `requires_approval: true`: a model's call asks a human first; a rejected call returns `{error: \"approval_rejected\"}` to the model.", tool_define).options(&[registry::DEFINE_KEYS]),
        sync("tool_select", &["registry", "names"], 2, 2, "agents", "The registry restricted to the named tools.", tool_select),
        sync("tool_merge", &["a", "b"], 2, 2, "agents", "One registry with the tools of `a` then those of `b`; a name in both is an error.", tool_merge),
    ]
}

fn tool_registry(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(ToolRegistry::default().to_value())
}

fn tool_define(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    const WHO: &str = "tool_define";
    let mut reg = ToolRegistry::from_value(&args.vals[0], WHO)?;
    let name = args.str(1)?.to_string();
    let desc = args.str(2)?.to_string();
    let opts: &DictMap = args.dict(3)?;
    check_keys(opts, WHO, "", registry::DEFINE_KEYS)?;
    reg.define(Tool::new(&name, &desc, opts, WHO)?);
    Ok(reg.to_value())
}

fn tool_select(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    const WHO: &str = "tool_select";
    let reg = ToolRegistry::from_value(&args.vals[0], WHO)?;
    args.list(1)?;
    let names = str_list(&args.vals[1], WHO, "names")?;
    Ok(reg.select(&names, WHO)?.to_value())
}

fn tool_merge(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    const WHO: &str = "tool_merge";
    let a = ToolRegistry::from_value(&args.vals[0], WHO)?;
    let b = ToolRegistry::from_value(&args.vals[1], WHO)?;
    Ok(a.merge(&b, WHO)?.to_value())
}
