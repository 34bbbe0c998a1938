//! The typed tool registry behind the `{_type: "tool_registry", tools:
//! [...]}` dict (agents.md §4). Each tool entry is `{name, description,
//! parameters, handler, policy?, idempotent, timeout_ms?,
//! requires_approval?}`; `parameters` is
//! the dict the script gave (per-parameter schemas plus `required: false`).

use weft_syntax::suggest::did_you_mean;
use weft_vm::error::{type_error, value_error, RtResult};
use weft_vm::value::{dict_from, dict_get, to_json, DictMap, Value};

use super::keys::{check_fields, opt_bool, opt_type, opt_uint};
use super::params::parameters_schema;
use super::policy::ToolPolicy;
use crate::llm::ToolSpec;

/// Keys of `tool_define`'s options dict.
pub const DEFINE_KEYS: &[&str] = &[
    "parameters",
    "handler",
    "policy",
    "idempotent",
    "timeout_ms",
    "requires_approval",
];

/// Keys of a tool entry inside a registry dict.
const ENTRY_KEYS: &[&str] = &[
    "name",
    "description",
    "parameters",
    "input_schema",
    "handler",
    "policy",
    "idempotent",
    "timeout_ms",
    "requires_approval",
];

/// One tool.
#[derive(Clone)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// The `parameters` dict as given.
    pub parameters: Value,
    /// The derived object schema (`{type: "object", properties, required}`),
    /// or the `input_schema` given as is.
    pub schema: Value,
    /// A complete JSON schema given instead of `parameters` (MCP tools:
    /// the server's schema, which the server itself enforces).
    pub input_schema: Option<Value>,
    /// The script function called with the validated arguments dict.
    pub handler: Value,
    /// What the tool declares it needs; `None` when undeclared.
    pub policy: Option<ToolPolicy>,
    /// Safe to run again after a crash (workers.md §6).
    pub idempotent: bool,
    /// Bound on one handler run.
    pub timeout_ms: Option<u64>,
    /// A model's call of this tool asks a human first (issue 17 §1).
    pub requires_approval: bool,
}

impl Tool {
    /// Builds a tool from `tool_define`'s arguments (or a registry entry),
    /// checking every option.
    pub fn new(name: &str, description: &str, opts: &DictMap, who: &str) -> RtResult<Tool> {
        check_tool_name(name, who)?;
        let parameters = match dict_get(opts, "parameters") {
            None | Some(Value::Nil) => Value::dict(DictMap::default()),
            Some(p) => p.clone(),
        };
        let input_schema = match dict_get(opts, "input_schema") {
            None | Some(Value::Nil) => None,
            Some(s @ Value::Dict(_)) => Some(s.clone()),
            Some(other) => return Err(opt_type(who, "input_schema", "a JSON schema dict", other)),
        };
        let schema = match &input_schema {
            Some(s) => s.clone(),
            None => parameters_schema(&parameters, who)?,
        };
        let handler = match dict_get(opts, "handler") {
            Some(h) if h.is_callable() => h.clone(),
            None | Some(Value::Nil) => {
                return Err(value_error(format!(
                    "{who}: tool '{name}' needs a 'handler' function"
                )))
            }
            Some(other) => return Err(opt_type(who, "handler", "a function", other)),
        };
        let policy = match dict_get(opts, "policy") {
            None | Some(Value::Nil) => None,
            Some(p) => Some(ToolPolicy::from_value(p, who)?),
        };
        Ok(Tool {
            name: name.to_string(),
            description: description.to_string(),
            parameters,
            schema,
            input_schema,
            handler,
            policy,
            idempotent: opt_bool(opts, who, "idempotent")?.unwrap_or(false),
            timeout_ms: opt_uint(opts, who, "timeout_ms", 1)?,
            requires_approval: opt_bool(opts, who, "requires_approval")?.unwrap_or(false),
        })
    }

    /// The registry-entry dict.
    pub fn to_value(&self) -> Value {
        let mut pairs = vec![
            ("name", Value::str(self.name.clone())),
            ("description", Value::str(self.description.clone())),
            ("parameters", self.parameters.clone()),
            ("handler", self.handler.clone()),
        ];
        if let Some(s) = &self.input_schema {
            pairs.push(("input_schema", s.clone()));
        }
        if let Some(p) = &self.policy {
            pairs.push(("policy", p.to_value()));
        }
        pairs.push(("idempotent", Value::Bool(self.idempotent)));
        if let Some(t) = self.timeout_ms {
            pairs.push(("timeout_ms", Value::Int(t as i64)));
        }
        if self.requires_approval {
            pairs.push(("requires_approval", Value::Bool(true)));
        }
        dict_from(pairs)
    }

    /// The tool as offered to the model.
    pub fn to_spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: to_json(&self.schema).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Names must suit every provider: `[A-Za-z0-9_-]{1,64}`.
fn check_tool_name(name: &str, who: &str) -> RtResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(value_error(format!(
            "{who}: invalid tool name '{name}' (use 1 to 64 letters, digits, '_' or '-')"
        )))
    }
}

/// An ordered set of tools with unique names.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    pub tools: Vec<Tool>,
}

impl ToolRegistry {
    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.tools.iter().map(|t| t.name.as_str()).collect()
    }

    /// Adds a tool; one with the same name is replaced in place.
    pub fn define(&mut self, tool: Tool) {
        match self.tools.iter_mut().find(|t| t.name == tool.name) {
            Some(slot) => *slot = tool,
            None => self.tools.push(tool),
        }
    }

    /// The registry restricted to `names` (registry order); an unknown name
    /// is a `value_error` with a did-you-mean hint.
    pub fn select(&self, names: &[String], who: &str) -> RtResult<ToolRegistry> {
        for n in names {
            if self.get(n).is_none() {
                let mut msg = format!("{who}: unknown tool '{n}'");
                match did_you_mean(n, self.names()) {
                    Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
                    None if self.tools.is_empty() => msg.push_str(" (the registry is empty)"),
                    None => msg.push_str(&format!(" (tools: {})", self.names().join(", "))),
                }
                return Err(value_error(msg));
            }
        }
        Ok(ToolRegistry {
            tools: self
                .tools
                .iter()
                .filter(|t| names.contains(&t.name))
                .cloned()
                .collect(),
        })
    }

    /// `self` followed by the tools of `other`; a name in both is an error.
    pub fn merge(&self, other: &ToolRegistry, who: &str) -> RtResult<ToolRegistry> {
        let mut out = self.clone();
        for t in &other.tools {
            if self.get(&t.name).is_some() {
                return Err(value_error(format!(
                    "{who}: tool '{}' is in both registries (rename one, e.g. with mcp_tools' prefix option)",
                    t.name
                )));
            }
            out.tools.push(t.clone());
        }
        Ok(out)
    }

    /// The specs offered to the model.
    pub fn to_specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(Tool::to_spec).collect()
    }

    /// The registry dict.
    pub fn to_value(&self) -> Value {
        dict_from([
            ("_type", Value::str("tool_registry")),
            (
                "tools",
                Value::list(self.tools.iter().map(Tool::to_value).collect()),
            ),
        ])
    }

    /// Parses (and checks) a registry dict.
    pub fn from_value(v: &Value, who: &str) -> RtResult<ToolRegistry> {
        let bad = || {
            type_error(format!(
                "{who}: expected a tool registry (from tool_registry()), got {}",
                v.type_name()
            ))
        };
        let Value::Dict(d) = v else { return Err(bad()) };
        if dict_get(d, "_type").and_then(Value::as_str) != Some("tool_registry") {
            return Err(bad());
        }
        let Some(Value::List(entries)) = dict_get(d, "tools") else {
            return Err(value_error(format!(
                "{who}: tool registry has no 'tools' list"
            )));
        };
        let mut reg = ToolRegistry::default();
        for e in entries.iter() {
            let Value::Dict(e) = e else {
                return Err(type_error(format!(
                    "{who}: a tool registry entry must be a dict, got {}",
                    e.type_name()
                )));
            };
            check_fields(e, who, "tool registry entry", ENTRY_KEYS)?;
            let name = dict_get(e, "name").and_then(Value::as_str).unwrap_or("");
            let desc = dict_get(e, "description")
                .and_then(Value::as_str)
                .unwrap_or("");
            reg.define(Tool::new(name, desc, e, who)?);
        }
        Ok(reg)
    }
}
