//! The MCP client builtins (`mcp_connect`, `mcp_tools`, `mcp_call`,
//! `mcp_resources`, `mcp_read_resource`, `mcp_prompts`, `mcp_get_prompt`,
//! `mcp_close`). Results are the server's JSON as Weft values (MCP field
//! names); tool calls also get a joined `text`.

use std::rc::Rc;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams};
use weft_syntax::suggest::did_you_mean;
use weft_vm::builtins::{asynchronous, host, Args, BuiltinDef, HostFn, LocalBoxFuture};
use weft_vm::error::{type_error, value_error, RtError, RtResult};
use weft_vm::value::{dict_from, dict_get, from_json, to_json, DictMap, Value};
use weft_vm::vm::Vm;

use super::connection::Connection;
use super::options::ConnectOptions;
use super::state::{self, check_server, connection_id, connection_value, usable};
use crate::tools::keys::{check_keys, opt_str, opt_uint, str_list};
use crate::tools::{Tool, ToolRegistry};

const CONNECT: &[&str] = &["options"];
const TOOLS: &[&str] = &["conn", "options"];
const CALL: &[&str] = &["conn", "name", "args", "options"];
const CONN: &[&str] = &["conn"];
/// The options of `mcp_tools`.
const TOOLS_KEYS: &[&str] = &["only", "prefix"];
/// The options of `mcp_call`.
const CALL_KEYS: &[&str] = &["timeout_ms"];
const READ: &[&str] = &["conn", "uri"];
const PROMPT: &[&str] = &["conn", "name", "args"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    let mut all = super::declare::defs();
    all.extend([
        asynchronous("mcp_connect", CONNECT, 1, 1, "agents", "Connects to an MCP server: `{command, args?, env?, cwd?}` (stdio) or `{url, headers?}` (streamable HTTP), plus `name?` and `timeout_ms?` (default 60000); returns a connection. Needs the `mcp` capability for the server, and `process.exec` (stdio) or `network` (HTTP).", mcp_connect).options(&[super::options::CONNECT_KEYS]),
        asynchronous("mcp_tools", TOOLS, 1, 2, "agents", "A tool registry with the server's tools (schemas from the server): `only` keeps the named tools, `prefix` is prepended to each name.", mcp_tools).options(&[TOOLS_KEYS]),
        asynchronous("mcp_call", CALL, 2, 4, "agents", "Calls a server tool: `{text, content, structured, is_error}`. The tool allow-list of the task's policy applies.", mcp_call).options(&[CALL_KEYS]),
        asynchronous("mcp_resources", CONN, 1, 1, "agents", "The server's resources (`{uri, name, mimeType?, description?}` dicts).", mcp_resources),
        asynchronous("mcp_read_resource", READ, 2, 2, "agents", "The contents of a resource: a list of `{uri, mimeType?, text | blob}` dicts.", mcp_read_resource),
        asynchronous("mcp_prompts", CONN, 1, 1, "agents", "The server's prompts (`{name, description?, arguments?}` dicts).", mcp_prompts),
        asynchronous("mcp_get_prompt", PROMPT, 2, 3, "agents", "A prompt filled with `args` (a dict of strings): `{description?, messages}`.", mcp_get_prompt),
        asynchronous("mcp_close", CONN, 1, 1, "agents", "Closes a connection (a stdio server is stopped); connections also close when the task or worker that opened them ends.", mcp_close),
    ]);
    all
}

fn mcp_connect(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_connect";
        let a = Args::new(WHO, CONNECT, &mut vals);
        let opts = ConnectOptions::parse(a.dict(0)?, WHO)?;
        let stdio = matches!(opts.transport, super::options::Transport::Stdio { .. });
        check_server(vm, opts.target(), stdio)?;
        let owner = crate::workers::run::registry(&vm.program)
            .workers
            .current(&vm.ctx)
            .map(|w| w.id.clone());
        let st = state::state(&vm.program);
        let id = st.new_id();
        let conn = Rc::new(Connection::open(WHO, id, &opts, &vm.ctx, owner).await?);
        st.insert(conn.clone());
        state::ensure_shutdown_hook(&vm.program);
        Ok(connection_value(&conn))
    })
}

/// The connection in argument 0, usable by this task.
fn conn_arg(vm: &Vm, vals: &[Value], who: &str) -> RtResult<Rc<Connection>> {
    let id = connection_id(vals.first().unwrap_or(&Value::Nil), who)?;
    usable(vm, &id, who)
}

fn json_value<T: serde::Serialize>(v: &T) -> Value {
    from_json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}

fn mcp_tools(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_tools";
        let conn = conn_arg(vm, &vals, WHO)?;
        let a = Args::new(WHO, TOOLS, &mut vals);
        let empty = Rc::new(DictMap::default());
        let opts = match a.opt(1) {
            Some(_) => a.dict(1)?.clone(),
            None => empty,
        };
        check_keys(&opts, WHO, "", TOOLS_KEYS)?;
        let prefix = opt_str(&opts, WHO, "prefix")?.unwrap_or_default();
        let only = match dict_get(&opts, "only") {
            None | Some(Value::Nil) => None,
            Some(v) => Some(str_list(v, WHO, "only")?),
        };
        let peer = conn.peer(WHO)?;
        let tools = conn
            .request(WHO, "tools/list", None, peer.list_all_tools())
            .await?;
        if let Some(only) = &only {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
            for n in only {
                if !names.contains(&n.as_str()) {
                    let mut msg = format!("{WHO}: MCP server '{}' has no tool '{n}'", conn.name);
                    match did_you_mean(n, names.iter().copied()) {
                        Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
                        None => msg.push_str(&format!(" (tools: {})", names.join(", "))),
                    }
                    return Err(value_error(msg));
                }
            }
        }
        let mut reg = ToolRegistry::default();
        for t in &tools {
            if only
                .as_ref()
                .is_some_and(|o| !o.iter().any(|n| n == t.name.as_ref()))
            {
                continue;
            }
            let name = registry_name(&prefix, &t.name);
            if reg.get(&name).is_some() {
                return Err(value_error(format!(
                    "{WHO}: two tools of MCP server '{}' are both named '{name}' once made safe for models",
                    conn.name
                )));
            }
            let schema = from_json(serde_json::Value::Object((*t.input_schema).clone()));
            let opts = dict_from([
                ("handler", tool_handler(conn.id.clone(), t.name.to_string())),
                ("input_schema", schema),
            ]);
            let Value::Dict(opts) = &opts else {
                unreachable!("dict_from makes a dict")
            };
            let desc = t.description.as_deref().unwrap_or("").to_string();
            reg.define(Tool::new(&name, &desc, opts, WHO)?);
        }
        Ok(reg.to_value())
    })
}

/// A tool name models accept (`[A-Za-z0-9_-]{1,64}`): other characters
/// become `_`.
fn registry_name(prefix: &str, name: &str) -> String {
    let full = format!("{prefix}{name}");
    let safe: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if safe.is_empty() {
        "_".to_string()
    } else {
        safe
    }
}

/// The handler of one MCP tool in a registry: calls the tool and returns
/// its structured content, else its text, else its content list; a tool
/// result marked `isError` raises `tool_error` with the text.
fn tool_handler(conn_id: String, tool: String) -> Value {
    let f: HostFn = Rc::new(move |vm: &mut Vm, mut args: Vec<Value>| {
        let conn_id = conn_id.clone();
        let tool = tool.clone();
        Box::pin(async move {
            let who = format!("MCP tool '{tool}'");
            let args = args.pop().unwrap_or(Value::Nil);
            let conn = usable(vm, &conn_id, &who)?;
            let r = call_tool(&conn, &who, &tool, args, None).await?;
            let get = |k: &str| match &r {
                Value::Dict(d) => dict_get(d, k).cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            };
            if get("is_error").truthy() {
                return Err(RtError::new("tool_error", get("text").to_display()));
            }
            match get("structured") {
                Value::Nil => {}
                s => return Ok(s),
            }
            let all_text = match &get("content") {
                Value::List(items) => items.iter().all(|i| match i {
                    Value::Dict(d) => dict_get(d, "type").and_then(Value::as_str) == Some("text"),
                    _ => false,
                }),
                _ => true,
            };
            Ok(if all_text {
                get("text")
            } else {
                get("content")
            })
        })
    });
    Value::Builtin(Rc::new(host(
        "mcp_tool",
        &["arguments"],
        1,
        1,
        "Calls one tool of an MCP server (made by mcp_tools).",
        f,
    )))
}

/// Calls `name` with `args` (a dict or nil): `{text, content, structured,
/// is_error}`.
async fn call_tool(
    conn: &Connection,
    who: &str,
    name: &str,
    args: Value,
    timeout: Option<Duration>,
) -> RtResult<Value> {
    let mut params = CallToolRequestParams::new(name.to_string());
    match &args {
        Value::Nil => {}
        Value::Dict(_) => match to_json(&args) {
            Ok(serde_json::Value::Object(m)) => params = params.with_arguments(m),
            Ok(_) => unreachable!("a dict converts to an object"),
            Err(e) => return Err(value_error(format!("{who}: arguments: {e}"))),
        },
        other => {
            return Err(type_error(format!(
                "{who}: arguments must be a dict, got {}",
                other.type_name()
            )))
        }
    }
    let peer = conn.peer(who)?;
    let what = format!("tools/call '{name}'");
    let result = conn
        .request(who, &what, timeout, peer.call_tool(params))
        .await?;
    let json = serde_json::to_value(&result).unwrap_or(serde_json::Value::Null);
    let content = json
        .get("content")
        .cloned()
        .unwrap_or(serde_json::Value::Array(vec![]));
    let text: Vec<&str> = content
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(|t| t.as_str()))
                .collect()
        })
        .unwrap_or_default();
    Ok(dict_from([
        ("text", Value::str(text.join("\n"))),
        ("content", from_json(content.clone())),
        (
            "structured",
            from_json(
                json.get("structuredContent")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
            ),
        ),
        ("is_error", Value::Bool(result.is_error == Some(true))),
    ]))
}

fn mcp_call(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_call";
        let conn = conn_arg(vm, &vals, WHO)?;
        let a = Args::new(WHO, CALL, &mut vals);
        let name = a.str(1)?.to_string();
        let args = a.opt(2).cloned().unwrap_or(Value::Nil);
        let timeout = match a.opt(3) {
            Some(_) => {
                let o = a.dict(3)?;
                check_keys(o, WHO, "", CALL_KEYS)?;
                opt_uint(o, WHO, "timeout_ms", 1)?.map(Duration::from_millis)
            }
            None => None,
        };
        if !vm.ctx.policy.allows_tool(&name) {
            return Err(RtError::new(
                "permission_denied",
                format!("{WHO}: tool '{name}' is not in the policy's tool allow-list"),
            ));
        }
        call_tool(&conn, WHO, &name, args, timeout).await
    })
}

fn mcp_resources(vm: &mut Vm, vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_resources";
        let conn = conn_arg(vm, &vals, WHO)?;
        let peer = conn.peer(WHO)?;
        let list = conn
            .request(WHO, "resources/list", None, peer.list_all_resources())
            .await?;
        Ok(json_value(&list))
    })
}

fn mcp_read_resource(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_read_resource";
        let conn = conn_arg(vm, &vals, WHO)?;
        let a = Args::new(WHO, READ, &mut vals);
        let uri = a.str(1)?.to_string();
        let peer = conn.peer(WHO)?;
        let what = format!("resources/read '{uri}'");
        let r = conn
            .request(
                WHO,
                &what,
                None,
                peer.read_resource(ReadResourceRequestParams::new(uri.clone())),
            )
            .await?;
        Ok(json_value(&r.contents))
    })
}

fn mcp_prompts(vm: &mut Vm, vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_prompts";
        let conn = conn_arg(vm, &vals, WHO)?;
        let peer = conn.peer(WHO)?;
        let list = conn
            .request(WHO, "prompts/list", None, peer.list_all_prompts())
            .await?;
        Ok(json_value(&list))
    })
}

fn mcp_get_prompt(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_get_prompt";
        let conn = conn_arg(vm, &vals, WHO)?;
        let a = Args::new(WHO, PROMPT, &mut vals);
        let name = a.str(1)?.to_string();
        let mut params = GetPromptRequestParams::new(name.clone());
        if a.opt(2).is_some() {
            let mut args = serde_json::Map::new();
            for (k, v) in a.dict(2)?.iter() {
                let Value::Str(s) = v else {
                    return Err(type_error(format!(
                        "{WHO}: prompt argument '{k}' must be a string, got {}",
                        v.type_name()
                    )));
                };
                args.insert(k.to_string(), serde_json::Value::String(s.to_string()));
            }
            params = params.with_arguments(args);
        }
        let peer = conn.peer(WHO)?;
        let what = format!("prompts/get '{name}'");
        let r = conn
            .request(WHO, &what, None, peer.get_prompt(params))
            .await?;
        Ok(json_value(&r))
    })
}

fn mcp_close(vm: &mut Vm, vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        const WHO: &str = "mcp_close";
        let id = connection_id(vals.first().unwrap_or(&Value::Nil), WHO)?;
        state::close_one(&vm.program, &id).await;
        Ok(Value::Nil)
    })
}
