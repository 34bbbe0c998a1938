//! `mcp_tool(name, options)`: declares how `weft mcp serve` offers the
//! module's `pub fn NAME` — its `description` and the schemas of its
//! `parameters` (as `tool_define` takes them) or a whole `input_schema`.
//! Under `weft run` the declaration is checked and recorded, nothing more.

use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::{type_error, value_error, RtResult};
use weft_vm::value::{dict_get, to_json, Value};
use weft_vm::vm::Vm;

use crate::tools::keys::{check_keys, opt_str};
use crate::tools::params::parameters_schema;

/// What `mcp_tool` declared for one function.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolDeclaration {
    pub description: Option<String>,
    /// The JSON schema of the arguments object (`None`: derived from the
    /// function's parameters).
    pub input_schema: Option<serde_json::Value>,
}

/// The options of `mcp_tool`.
const DECLARE_KEYS: &[&str] = &["description", "parameters", "input_schema"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![sync(
        "mcp_tool",
        &["name", "options"],
        2,
        2,
        "agents",
        "Declares how `weft mcp serve` offers `pub fn NAME`: a `description`, and `parameters` (schemas per parameter, as in tool_define) or `input_schema` (a whole JSON schema).",
        mcp_tool,
    )
    .options(&[DECLARE_KEYS])]
}

fn mcp_tool(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    const WHO: &str = "mcp_tool";
    let name = args.str(0)?.to_string();
    let opts = args.dict(1)?.clone();
    check_keys(&opts, WHO, "", DECLARE_KEYS)?;
    let description = opt_str(&opts, WHO, "description")?;
    let params = dict_get(&opts, "parameters").filter(|v| !matches!(v, Value::Nil));
    let whole = dict_get(&opts, "input_schema").filter(|v| !matches!(v, Value::Nil));
    let schema = match (params, whole) {
        (Some(_), Some(_)) => {
            return Err(value_error(format!(
                "{WHO}: give 'parameters' or 'input_schema', not both"
            )))
        }
        (Some(p), None) => Some(parameters_schema(p, WHO)?),
        (None, Some(s @ Value::Dict(_))) => Some(s.clone()),
        (None, Some(other)) => {
            return Err(type_error(format!(
                "{WHO}: option 'input_schema' must be a JSON schema dict, got {}",
                other.type_name()
            )))
        }
        (None, None) => None,
    };
    let input_schema = match schema {
        Some(s) => Some(to_json(&s).map_err(|e| value_error(format!("{WHO}: {e}")))?),
        None => None,
    };
    let st = super::state::state(&vm.program);
    st.declarations.borrow_mut().insert(
        name,
        ToolDeclaration {
            description,
            input_schema,
        },
    );
    Ok(Value::Nil)
}
