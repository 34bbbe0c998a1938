//! Running one tool call (agents.md §4–§5): authorise it against the
//! policies in force and the capability hook, validate its arguments, run
//! the handler (bounded by the tool's `timeout_ms`), and turn the outcome
//! into the tool result the model sees. Nothing here throws into the
//! script: every failure becomes a [`ToolError`].

use std::time::Duration;

use serde_json::json;
use weft_vm::value::{dict_from, to_json_string, Value};
use weft_vm::vm::Vm;

use super::params::{check_arguments, check_object};
use super::policy::{check_active, Policy};
use super::registry::{Tool, ToolRegistry};

/// Why a tool call produced no result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    /// `permission_denied`, `approval_rejected`, `unknown_tool`,
    /// `invalid_arguments`, `timeout`, `interrupted`, or the category of
    /// the handler's error.
    pub category: String,
    /// For `permission_denied` and `approval_rejected`, the reason.
    pub message: String,
}

impl ToolError {
    pub fn new(category: impl Into<String>, message: impl Into<String>) -> ToolError {
        ToolError {
            category: category.into(),
            message: message.into(),
        }
    }

    /// The JSON tool result the model receives: `{"error":
    /// "permission_denied" | "approval_rejected", "tool", "reason"}`,
    /// `{"error": "unknown_tool",
    /// "tool", "message"}`, otherwise `{"error": category, "message"}`.
    pub fn model_json(&self, tool: &str) -> serde_json::Value {
        match self.category.as_str() {
            "permission_denied" => {
                json!({"error": "permission_denied", "tool": tool, "reason": self.message})
            }
            "approval_rejected" => {
                json!({"error": "approval_rejected", "tool": tool, "reason": self.message})
            }
            "unknown_tool" => {
                json!({"error": "unknown_tool", "tool": tool, "message": self.message})
            }
            c => json!({"error": c, "message": self.message}),
        }
    }

    /// `{category, message}` for scripts.
    pub fn to_value(&self) -> Value {
        dict_from([
            ("category", Value::str(self.category.clone())),
            ("message", Value::str(self.message.clone())),
        ])
    }
}

/// What a tool call produced.
#[derive(Clone)]
pub enum ToolOutcome {
    Ok(Value),
    Err(ToolError),
}

impl ToolOutcome {
    /// The content of the `tool` message: a string result as is, other
    /// values as compact JSON (their display form when not JSON-able),
    /// errors as the JSON of [`ToolError::model_json`].
    pub fn model_content(&self, tool: &str) -> String {
        match self {
            ToolOutcome::Ok(Value::Str(s)) => s.to_string(),
            ToolOutcome::Ok(v) => to_json_string(v, false).unwrap_or_else(|_| v.to_display()),
            ToolOutcome::Err(e) => e.model_json(tool).to_string(),
        }
    }
}

/// Decides whether the model may call `name`: every policy's allow-list,
/// then the registry (`unknown_tool` when allowed but missing), then the
/// tool's declared needs against every policy and the capability hook.
pub fn authorize<'r>(
    vm: &Vm,
    registry: &'r ToolRegistry,
    policies: &[Policy],
    name: &str,
) -> Result<&'r Tool, ToolError> {
    let denied = |reason: String| ToolError::new("permission_denied", reason);
    for p in policies {
        p.check_name(name).map_err(denied)?;
    }
    check_active(vm, name, None).map_err(denied)?;
    let Some(tool) = registry.get(name) else {
        // Only the tools the model is offered: naming one the policies
        // hide would leak it.
        let allowed = allowed_tools(vm, registry, policies);
        let offered = allowed.names();
        let msg = if offered.is_empty() {
            format!("unknown tool '{name}' (no tools are available)")
        } else {
            format!("unknown tool '{name}' (available: {})", offered.join(", "))
        };
        return Err(ToolError::new("unknown_tool", msg));
    };
    if let Some(needs) = &tool.policy {
        for p in policies {
            p.check_needs(name, needs).map_err(denied)?;
        }
        check_active(vm, name, Some(needs)).map_err(denied)?;
    }
    Ok(tool)
}

/// The tools of `registry` that [`authorize`] admits (what the model is
/// offered).
pub fn allowed_tools(vm: &Vm, registry: &ToolRegistry, policies: &[Policy]) -> ToolRegistry {
    ToolRegistry {
        tools: registry
            .tools
            .iter()
            .filter(|t| authorize(vm, registry, policies, &t.name).is_ok())
            .cloned()
            .collect(),
    }
}

/// Validates `args` and runs the handler. With `timeout_ms` the handler
/// runs on a child VM of the same program (same globals, a clone of this
/// task's context), so a timed-out handler can be dropped without leaving
/// frames behind on `vm`.
pub async fn run_tool(vm: &mut Vm, tool: &Tool, args: &serde_json::Value) -> ToolOutcome {
    let checked = match &tool.input_schema {
        // A server's schema may use keywords Weft's validator does not
        // know; the server validates its own arguments.
        Some(_) => check_object(args),
        None => check_arguments(&tool.schema, args),
    };
    let args = match checked {
        Ok(a) => a,
        Err(msg) => return ToolOutcome::Err(ToolError::new("invalid_arguments", msg)),
    };
    let result = match tool.timeout_ms {
        None => vm.call_value(&tool.handler, &[args]).await,
        Some(ms) => {
            let mut child = Vm::new(vm.program.clone());
            child.ctx = vm.ctx.clone();
            let handler = tool.handler.clone();
            let run = async move { child.call_value(&handler, &[args]).await };
            match tokio::time::timeout(Duration::from_millis(ms), run).await {
                Ok(r) => r,
                Err(_) => {
                    return ToolOutcome::Err(ToolError::new(
                        "timeout",
                        format!("tool '{}' timed out after {ms} ms", tool.name),
                    ))
                }
            }
        }
    };
    match result {
        Ok(v) => ToolOutcome::Ok(v),
        Err(e) => ToolOutcome::Err(ToolError::new(e.category(), e.message())),
    }
}
