//! Capability policies as far as tool calls use them (workers.md §3): the
//! `tools` allow-list, `capabilities` (a named capability is limited to the
//! listed operations) and `side_effect_level` (none < read_only <
//! workspace_write < process_exec < network). `workspace_roots` and
//! `max_depth` are parsed and kept, but only workers act on them.
//!
//! A tool call is allowed when every policy in force allows it (the agent
//! loop's own `policy`, plus whatever the caller adds) AND the task's
//! effective capability policy (`vm.ctx.policy`, which workers narrow for
//! each worker) allows it — see [`check_active`].

use indexmap::IndexMap;
use weft_syntax::suggest::did_you_mean;
use weft_vm::error::{value_error, RtResult};
pub use weft_vm::policy::SideEffectLevel;
use weft_vm::policy::CAPABILITY_OPS;
use weft_vm::value::{dict_from, dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::keys::{check_keys, opt_type, str_list};

/// Capability names and the operations each one has (the VM's list).
pub const CAPABILITIES: &[(&str, &[&str])] = CAPABILITY_OPS;

/// The keys of a policy dict.
pub const POLICY_KEYS: &[&str] = &[
    "approve",
    "tools",
    "capabilities",
    "workspace_roots",
    "side_effect_level",
    "max_depth",
];

/// The keys of a tool's own `policy` (what the tool needs).
pub const TOOL_POLICY_KEYS: &[&str] = &["capabilities", "side_effect_level"];

fn parse_level(v: &Value, who: &str) -> RtResult<SideEffectLevel> {
    let Value::Str(s) = v else {
        return Err(opt_type(who, "side_effect_level", "a string", v));
    };
    SideEffectLevel::parse(s).ok_or_else(|| {
        value_error(format!(
            "{who}: side_effect_level must be one of {}; got '{s}'",
            SideEffectLevel::NAMES.join(", ")
        ))
    })
}

/// Capability name → allowed (policy) or needed (tool) operations.
pub type CapabilityMap = IndexMap<String, Vec<String>>;

/// Parses and checks a `capabilities` dict.
pub fn parse_capabilities(v: &Value, who: &str) -> RtResult<CapabilityMap> {
    let Value::Dict(d) = v else {
        return Err(opt_type(who, "capabilities", "a dict", v));
    };
    let names: Vec<&str> = CAPABILITIES.iter().map(|(n, _)| *n).collect();
    if let Some(k) = d.keys().find(|k| !names.contains(&k.as_str())) {
        let hint = match did_you_mean(k, names.iter().copied()) {
            Some(s) => format!("did you mean '{s}'?"),
            None => format!("known: {}", names.join(", ")),
        };
        return Err(value_error(format!(
            "{who}: unknown capability '{k}' ({hint})"
        )));
    }
    let mut out = CapabilityMap::new();
    for (cap, ops) in d.iter() {
        let known = CAPABILITIES
            .iter()
            .find(|(n, _)| *n == cap.as_str())
            .map(|(_, ops)| *ops)
            .unwrap_or(&[]);
        let ops = str_list(ops, who, &format!("capabilities.{cap}"))?;
        for op in &ops {
            if !known.contains(&op.as_str()) {
                return Err(value_error(format!(
                    "{who}: unknown operation '{op}' for capability {cap} (known: {})",
                    known.join(", ")
                )));
            }
        }
        out.insert(cap.to_string(), ops);
    }
    Ok(out)
}

fn capabilities_value(caps: &CapabilityMap) -> Value {
    dict_from(caps.iter().map(|(k, ops)| {
        (
            k.clone(),
            Value::list(ops.iter().map(|o| Value::str(o.clone())).collect()),
        )
    }))
}

/// What a tool declares it needs (`tool_define`'s `policy` option).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolPolicy {
    pub capabilities: CapabilityMap,
    pub side_effect_level: Option<SideEffectLevel>,
}

impl ToolPolicy {
    pub fn from_value(v: &Value, who: &str) -> RtResult<ToolPolicy> {
        let Value::Dict(d) = v else {
            return Err(opt_type(who, "policy", "a dict", v));
        };
        check_keys(d, who, "tool policy", TOOL_POLICY_KEYS)?;
        let mut p = ToolPolicy::default();
        if let Some(c) = dict_get(d, "capabilities").filter(|v| !v.is_nil()) {
            p.capabilities = parse_capabilities(c, who)?;
        }
        if let Some(l) = dict_get(d, "side_effect_level").filter(|v| !v.is_nil()) {
            p.side_effect_level = Some(parse_level(l, who)?);
        }
        Ok(p)
    }

    pub fn to_value(&self) -> Value {
        let mut pairs = vec![("capabilities", capabilities_value(&self.capabilities))];
        if let Some(l) = self.side_effect_level {
            pairs.push(("side_effect_level", Value::str(l.name())));
        }
        dict_from(pairs)
    }
}

/// A capability policy (workers.md §3). `None` fields do not restrict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Tool names allowed; `None` = any tool.
    pub tools: Option<Vec<String>>,
    /// Named capabilities are limited to the listed operations.
    pub capabilities: Option<CapabilityMap>,
    pub workspace_roots: Option<Vec<String>>,
    pub side_effect_level: Option<SideEffectLevel>,
    pub max_depth: Option<i64>,
    /// Builtins and `tool:NAME` entries that need a human's approval while
    /// the loop runs (added to the task's capability policy's `approve`).
    pub approve: Vec<String>,
}

impl Policy {
    /// Parses a policy dict (unknown keys and bad values are errors).
    pub fn from_value(v: &Value, who: &str) -> RtResult<Policy> {
        let Value::Dict(d) = v else {
            return Err(opt_type(who, "policy", "a dict", v));
        };
        Policy::from_dict(d, who)
    }

    pub fn from_dict(d: &DictMap, who: &str) -> RtResult<Policy> {
        check_keys(d, who, "policy", POLICY_KEYS)?;
        let get = |k: &str| dict_get(d, k).filter(|v| !v.is_nil());
        let mut p = Policy::default();
        if let Some(t) = get("tools") {
            p.tools = Some(str_list(t, who, "policy.tools")?);
        }
        if let Some(a) = get("approve") {
            p.approve = str_list(a, who, "policy.approve")?;
        }
        if let Some(c) = get("capabilities") {
            p.capabilities = Some(parse_capabilities(c, who)?);
        }
        if let Some(r) = get("workspace_roots") {
            p.workspace_roots = Some(str_list(r, who, "policy.workspace_roots")?);
        }
        if let Some(l) = get("side_effect_level") {
            p.side_effect_level = Some(parse_level(l, who)?);
        }
        match get("max_depth") {
            None => {}
            Some(Value::Int(n)) if *n >= 0 => p.max_depth = Some(*n),
            Some(Value::Int(n)) => {
                return Err(value_error(format!(
                    "{who}: policy.max_depth must be at least 0, got {n}"
                )))
            }
            Some(other) => return Err(opt_type(who, "policy.max_depth", "an int", other)),
        }
        Ok(p)
    }

    pub fn to_value(&self) -> Value {
        let strs = |xs: &[String]| Value::list(xs.iter().map(|s| Value::str(s.clone())).collect());
        let mut pairs = Vec::new();
        if let Some(t) = &self.tools {
            pairs.push(("tools", strs(t)));
        }
        if let Some(c) = &self.capabilities {
            pairs.push(("capabilities", capabilities_value(c)));
        }
        if let Some(r) = &self.workspace_roots {
            pairs.push(("workspace_roots", strs(r)));
        }
        if let Some(l) = self.side_effect_level {
            pairs.push(("side_effect_level", Value::str(l.name())));
        }
        if let Some(n) = self.max_depth {
            pairs.push(("max_depth", Value::Int(n)));
        }
        if !self.approve.is_empty() {
            pairs.push(("approve", strs(&self.approve)));
        }
        dict_from(pairs)
    }

    /// Whether the allow-list admits a tool of this name (a name the model
    /// invented is judged here too). `Err` is the denial reason.
    pub fn check_name(&self, name: &str) -> Result<(), String> {
        match &self.tools {
            Some(list) if !list.iter().any(|t| t == name) => Err(format!(
                "tool '{name}' is not in the policy's allowed tools ({})",
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            )),
            _ => Ok(()),
        }
    }

    /// Whether what a tool declares it needs fits this policy. A tool that
    /// declares no side-effect level is not limited by `side_effect_level`
    /// (the builtins it calls are still checked by the capability hook).
    pub fn check_needs(&self, name: &str, needs: &ToolPolicy) -> Result<(), String> {
        if let Some(caps) = &self.capabilities {
            for (cap, ops) in &needs.capabilities {
                let Some(allowed) = caps.get(cap) else {
                    continue;
                };
                if let Some(op) = ops.iter().find(|op| !allowed.contains(op)) {
                    return Err(format!(
                        "tool '{name}' needs {cap}.{op}, which the policy does not allow"
                    ));
                }
            }
        }
        if let (Some(max), Some(level)) = (self.side_effect_level, needs.side_effect_level) {
            if level > max {
                return Err(format!(
                    "tool '{name}' has side_effect_level {}, above the policy's {}",
                    level.name(),
                    max.name()
                ));
            }
        }
        Ok(())
    }
}

/// Checks a tool call against the task's effective capability policy
/// (`vm.ctx.policy`, the one every capability builtin is checked against):
/// its `tools` allow-list, then each capability the tool declares (its
/// operations and the side-effect level they imply — but not
/// `workspace_roots`, which apply to the paths the handler's builtins
/// touch), then the tool's declared `side_effect_level`. `Err` is the
/// denial reason.
pub fn check_active(vm: &Vm, name: &str, needs: Option<&ToolPolicy>) -> Result<(), String> {
    let active = &vm.ctx.policy;
    if !active.allows_tool(name) {
        let allowed: Vec<&str> = active.tools.iter().flatten().map(String::as_str).collect();
        return Err(format!(
            "tool '{name}' is not allowed by the capability policy (allowed tools: {})",
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        ));
    }
    let Some(needs) = needs else { return Ok(()) };
    for (cap, ops) in &needs.capabilities {
        for op in ops {
            active
                .check(cap, op, None)
                .map_err(|d| format!("tool '{name}' needs {}: {}", d.capability, d.reason))?;
        }
    }
    if let Some(level) = needs.side_effect_level {
        if level > active.side_effect_level {
            return Err(format!(
                "tool '{name}' has side_effect_level {}, above the capability policy's {}",
                level.name(),
                active.side_effect_level.name()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_vm::value::from_json;

    fn policy(j: serde_json::Value) -> Policy {
        Policy::from_value(&from_json(j), "t").unwrap_or_else(|e| panic!("{}", e.message()))
    }

    fn needs(j: serde_json::Value) -> ToolPolicy {
        ToolPolicy::from_value(&from_json(j), "t").unwrap_or_else(|e| panic!("{}", e.message()))
    }

    #[test]
    fn levels_are_ordered() {
        assert!(SideEffectLevel::None < SideEffectLevel::ReadOnly);
        assert!(SideEffectLevel::ReadOnly < SideEffectLevel::WorkspaceWrite);
        assert!(SideEffectLevel::WorkspaceWrite < SideEffectLevel::ProcessExec);
        assert!(SideEffectLevel::ProcessExec < SideEffectLevel::Network);
    }

    #[test]
    fn allow_list() {
        let p = policy(serde_json::json!({"tools": ["read"]}));
        assert!(p.check_name("read").is_ok());
        let e = p.check_name("write").unwrap_err();
        assert!(
            e.contains("not in the policy's allowed tools (read)"),
            "{e}"
        );
        assert!(Policy::default().check_name("anything").is_ok());
        let none = policy(serde_json::json!({"tools": []}));
        assert!(none.check_name("read").unwrap_err().contains("(none)"));
    }

    #[test]
    fn capabilities_limit_named_ones_only() {
        let p = policy(serde_json::json!({"capabilities": {"fs": ["read"]}}));
        assert!(p
            .check_needs(
                "r",
                &needs(serde_json::json!({"capabilities": {"fs": ["read"]}}))
            )
            .is_ok());
        let e = p
            .check_needs(
                "w",
                &needs(serde_json::json!({"capabilities": {"fs": ["read", "write"]}})),
            )
            .unwrap_err();
        assert_eq!(
            e,
            "tool 'w' needs fs.write, which the policy does not allow"
        );
        // process is not named by the policy: unrestricted.
        assert!(p
            .check_needs(
                "x",
                &needs(serde_json::json!({"capabilities": {"process": ["exec"]}}))
            )
            .is_ok());
        let empty = policy(serde_json::json!({"capabilities": {"network": []}}));
        assert!(empty
            .check_needs(
                "h",
                &needs(serde_json::json!({"capabilities": {"network": ["http"]}}))
            )
            .is_err());
    }

    #[test]
    fn side_effect_levels() {
        let p = policy(serde_json::json!({"side_effect_level": "workspace_write"}));
        assert!(p
            .check_needs(
                "a",
                &needs(serde_json::json!({"side_effect_level": "read_only"}))
            )
            .is_ok());
        assert!(p
            .check_needs(
                "b",
                &needs(serde_json::json!({"side_effect_level": "workspace_write"}))
            )
            .is_ok());
        let e = p
            .check_needs(
                "c",
                &needs(serde_json::json!({"side_effect_level": "network"})),
            )
            .unwrap_err();
        assert_eq!(
            e,
            "tool 'c' has side_effect_level network, above the policy's workspace_write"
        );
        // Undeclared level: not limited.
        assert!(p.check_needs("d", &ToolPolicy::default()).is_ok());
    }

    #[test]
    fn bad_policies() {
        let err = |j: serde_json::Value| {
            Policy::from_value(&from_json(j), "agent_loop")
                .unwrap_err()
                .message()
        };
        assert_eq!(
            err(serde_json::json!({"tool": ["a"]})),
            "agent_loop: unknown policy option 'tool' (did you mean 'tools'?)"
        );
        assert!(err(serde_json::json!({"capabilities": {"fss": ["read"]}}))
            .contains("did you mean 'fs'"));
        assert!(err(serde_json::json!({"capabilities": {"fs": ["exec"]}}))
            .contains("unknown operation 'exec' for capability fs"));
        assert!(err(serde_json::json!({"side_effect_level": "high"}))
            .contains("must be one of none, read_only"));
        assert!(err(serde_json::json!({"tools": "read"})).contains("must be a list of strings"));
    }

    #[test]
    fn round_trip() {
        let p = policy(
            serde_json::json!({"tools": ["a"], "capabilities": {"fs": ["read"]}, "side_effect_level": "read_only", "max_depth": 2}),
        );
        assert_eq!(
            Policy::from_value(&p.to_value(), "t").unwrap_or_else(|e| panic!("{}", e.message())),
            p
        );
    }
}
