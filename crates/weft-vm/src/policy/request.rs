//! Parsing a policy request from its dict/JSON form (the `policy` option of
//! a worker, a workflow or a node, and `--policy FILE.json`).

use std::collections::{BTreeMap, BTreeSet};

use weft_syntax::suggest::did_you_mean;

use super::*;
use crate::value::Value;

/// Parses a policy request from its dict form (the `policy` option or a
/// `--policy` JSON file). Unknown keys get a did-you-mean; wrong values
/// list what is allowed.
pub fn parse_policy_request(v: &Value, who: &str) -> Result<PolicyRequest, String> {
    const KEYS: [&str; 7] = [
        "approve",
        "tools",
        "capabilities",
        "workspace_roots",
        "side_effect_level",
        "max_depth",
        "env",
    ];
    let Value::Dict(d) = v else {
        return Err(format!(
            "{who}: policy must be a dict, got {}",
            v.type_name()
        ));
    };
    let mut req = PolicyRequest::default();
    for (k, val) in d.iter() {
        match k.as_str() {
            "tools" => req.tools = Some(string_set(val, who, "policy.tools")?),
            "capabilities" => {
                let Value::Dict(caps) = val else {
                    return Err(format!(
                        "{who}: policy.capabilities must be a dict, got {}",
                        val.type_name()
                    ));
                };
                let mut map = BTreeMap::new();
                for (name, ops) in caps.iter() {
                    let known = ops_of(name);
                    if name.as_str() == "mcp" {
                        let set = string_set(ops, who, "policy.capabilities.mcp")?;
                        if set.iter().any(|e| e.is_empty()) {
                            return Err(format!(
                                "{who}: policy.capabilities.mcp must list server commands or URL prefixes; got an empty string"
                            ));
                        }
                        map.insert(name.to_string(), set);
                        continue;
                    }
                    if known.is_empty() {
                        let names: Vec<&str> = CAPABILITY_OPS.iter().map(|(n, _)| *n).collect();
                        let mut msg = format!("{who}: unknown capability '{name}'");
                        match did_you_mean(name, names.iter().copied()) {
                            Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
                            None => msg.push_str(&format!(" (known: {})", names.join(", "))),
                        }
                        return Err(msg);
                    }
                    let set = string_set(ops, who, &format!("policy.capabilities.{name}"))?;
                    for op in &set {
                        if !known.contains(&op.as_str()) {
                            return Err(format!(
                                "{who}: policy.capabilities.{name} must list operations from [{}]; got '{op}'",
                                known.join(", ")
                            ));
                        }
                    }
                    map.insert(name.to_string(), set);
                }
                req.capabilities = Some(map);
            }
            "workspace_roots" => {
                req.workspace_roots = Some(
                    string_set(val, who, "policy.workspace_roots")?
                        .into_iter()
                        .collect(),
                )
            }
            "side_effect_level" => {
                let s = val
                    .as_str()
                    .and_then(SideEffectLevel::parse)
                    .ok_or_else(|| {
                        format!(
                            "{who}: policy.side_effect_level must be one of {}; got {}",
                            SideEffectLevel::NAMES.join(", "),
                            val.to_repr()
                        )
                    })?;
                req.side_effect_level = Some(s);
            }
            "env" => req.env = Some(string_set(val, who, "policy.env")?),
            "approve" => {
                let set = string_set(val, who, "policy.approve")?;
                if set.iter().any(|e| e.is_empty()) {
                    return Err(format!(
                        "{who}: policy.approve must list builtin names or tool:NAME entries; got an empty string"
                    ));
                }
                req.approve = Some(set);
            }
            "max_depth" => match val {
                Value::Int(n) if *n >= 0 && *n <= u32::MAX as i64 => {
                    req.max_depth = Some(*n as u32)
                }
                other => {
                    return Err(format!(
                        "{who}: policy.max_depth must be an int >= 0, got {}",
                        other.to_repr()
                    ))
                }
            },
            other => {
                let mut msg = format!("{who}: unknown policy option '{other}'");
                match did_you_mean(other, KEYS) {
                    Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
                    None => msg.push_str(&format!(" (known: {})", KEYS.join(", "))),
                }
                return Err(msg);
            }
        }
    }
    Ok(req)
}

fn string_set(v: &Value, who: &str, what: &str) -> Result<BTreeSet<String>, String> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    format!(
                        "{who}: {what} must be a list of strings, found {}",
                        i.type_name()
                    )
                })
            })
            .collect(),
        other => Err(format!(
            "{who}: {what} must be a list of strings, got {}",
            other.type_name()
        )),
    }
}
