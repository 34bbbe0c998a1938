//! `weft mcp serve FILE.wf [--http ADDR]`: the module's `pub fn`s as MCP
//! tools, through `rmcp`, over stdio or streamable HTTP (axum).
//!
//! The MCP side runs as ordinary (`Send`) tokio tasks; each tool call is
//! passed over a channel to the VM loop, which runs the function with
//! `Engine::call` (one call at a time, under the `--policy` ceiling) and
//! answers through a oneshot. Worker and workflow events of a running
//! call become progress notifications when the client sent a progress
//! token. Script output goes to stderr (stdout carries the protocol).

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::{check_readable, usage_error, vm_thread_failure, Exit};
use crate::cli::McpServeArgs;
use crate::vm_thread::block_on_vm_thread;

/// One tool call handed to the VM loop.
struct Job {
    name: String,
    arguments: serde_json::Map<String, serde_json::Value>,
    progress: Option<(ProgressToken, Peer<RoleServer>)>,
    reply: oneshot::Sender<CallToolResult>,
}

/// How a served function takes its arguments.
#[derive(Clone, Debug)]
struct Served {
    name: String,
    params: Vec<(String, bool)>,
}

/// The MCP server handler: the tool list, and the channel to the VM loop.
#[derive(Clone)]
struct WeftServer {
    tools: Arc<Vec<Tool>>,
    jobs: mpsc::UnboundedSender<Job>,
    name: String,
}

impl ServerHandler for WeftServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new(self.name.clone(), env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items((*self.tools).clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if !self.tools.iter().any(|t| t.name == name) {
            let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_ref()).collect();
            return Err(ErrorData::invalid_params(
                format!("unknown tool '{name}' (tools: {})", names.join(", ")),
                None,
            ));
        }
        let progress = context
            .meta
            .get_progress_token()
            .map(|t| (t, context.peer.clone()));
        let (reply, answer) = oneshot::channel();
        let job = Job {
            name,
            arguments: request.arguments.unwrap_or_default(),
            progress,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Err(ErrorData::internal_error("the Weft VM has stopped", None));
        }
        match answer.await {
            Ok(result) => Ok(result.into()),
            Err(_) => Err(ErrorData::internal_error(
                "the Weft VM stopped during the call",
                None,
            )),
        }
    }
}

/// Runs `weft mcp serve`.
pub fn execute(args: McpServeArgs) -> Exit {
    if let Err(message) = check_readable(&args.file) {
        return usage_error(message);
    }
    let policy = match super::policy::root_policy(args.policy.as_deref(), &args.deny) {
        Ok(p) => p,
        Err(message) => return usage_error(message),
    };
    let source = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => return usage_error(format!("cannot read {}: {e}", args.file.display())),
    };
    let shown = args.file.display().to_string();
    let functions = match weft::mcp::public_functions(&shown, &source) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Exit::Failure;
        }
    };
    let state_dir = std::env::var_os("WEFT_STATE_DIR")
        .map(PathBuf::from)
        .or(args.state_dir.clone())
        .unwrap_or_else(|| PathBuf::from(super::run::DEFAULT_STATE_DIR));
    let outcome = block_on_vm_thread(move || async move {
        let mut builder = weft::Engine::builder()
            .policy(policy)
            .output(std::io::stderr())
            .state_dir(state_dir)
            .persist(super::run::persist_enabled(std::env::var_os(
                super::run::PERSIST_ENV,
            )));
        if let Some(path) = &args.llm_fixture {
            builder = builder.llm_fixture(path);
        }
        let mut engine = builder.build().map_err(|e| e.message().to_string())?;
        engine
            .run_file(&args.file)
            .await
            .map_err(|e| e.to_string())?;
        let declarations = engine.mcp_tool_declarations();
        let (tools, served) = tool_list(&functions, &declarations, &shown)?;
        serve(engine, tools, served, args.http, server_name(&args.file)).await
    });
    match outcome {
        Ok(Ok(())) => Exit::Success,
        Ok(Err(message)) => {
            eprintln!("{message}");
            Exit::Failure
        }
        Err(e) => vm_thread_failure(e),
    }
}

fn server_name(file: &std::path::Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "weft".to_string())
}

/// The MCP tools for the module's `pub fn`s: descriptions from
/// `mcp_tool` or the doc comment, schemas from `mcp_tool` or one property
/// per parameter (required unless it has a default).
fn tool_list(
    functions: &[weft::mcp::PublicFunction],
    declarations: &[weft::mcp::ToolDeclaration],
    file: &str,
) -> Result<(Vec<Tool>, Vec<Served>), String> {
    weft::mcp::check_declarations(functions, declarations)
        .map_err(|message| format!("error: {file}: {message}"))?;
    if functions.is_empty() {
        return Err(format!(
            "error: {file} has no `pub fn` to serve as an MCP tool"
        ));
    }
    let mut tools = Vec::new();
    let mut served = Vec::new();
    for f in functions {
        let decl = declarations.iter().find(|d| d.name == f.name);
        let description = decl
            .and_then(|d| d.description.clone())
            .unwrap_or_else(|| f.doc.clone());
        let schema = match decl.and_then(|d| d.input_schema.clone()) {
            Some(s) => s,
            None => {
                let mut props = serde_json::Map::new();
                for (p, _) in &f.params {
                    props.insert(p.clone(), json!({}));
                }
                let required: Vec<&str> = f
                    .params
                    .iter()
                    .filter(|(_, has_default)| !has_default)
                    .map(|(p, _)| p.as_str())
                    .collect();
                json!({"type": "object", "properties": props, "required": required})
            }
        };
        let tool = json!({"name": f.name, "description": description, "inputSchema": schema});
        let tool: Tool = serde_json::from_value(tool)
            .map_err(|e| format!("error: {file}: tool '{}': {e}", f.name))?;
        tools.push(tool);
        served.push(Served {
            name: f.name.clone(),
            params: f.params.clone(),
        });
    }
    Ok((tools, served))
}

/// Starts the transport and runs tool calls until the client goes away
/// (stdio) or the process is stopped (HTTP).
async fn serve(
    mut engine: weft::Engine,
    tools: Vec<Tool>,
    served: Vec<Served>,
    http: Option<std::net::SocketAddr>,
    name: String,
) -> Result<(), String> {
    let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
    let server = WeftServer {
        tools: Arc::new(tools),
        jobs,
        name,
    };
    let (done_tx, mut done) = oneshot::channel::<Result<(), String>>();
    match http {
        None => {
            tokio::spawn(async move {
                let r = match server.serve(rmcp::transport::stdio()).await {
                    Ok(running) => running
                        .waiting()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("error: MCP handshake failed: {e}")),
                };
                let _ = done_tx.send(r);
            });
        }
        Some(addr) => {
            use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
            use rmcp::transport::streamable_http_server::{
                StreamableHttpServerConfig, StreamableHttpService,
            };
            let service = StreamableHttpService::new(
                move || Ok(server.clone()),
                Arc::new(LocalSessionManager::default()),
                StreamableHttpServerConfig::default(),
            );
            let router = axum::Router::new().nest_service("/mcp", service);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("error: cannot listen on {addr}: {e}"))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            eprintln!("weft mcp serve: listening on http://{local}/mcp");
            tokio::spawn(async move {
                let r = axum::serve(listener, router)
                    .await
                    .map_err(|e| format!("error: HTTP server: {e}"));
                let _ = done_tx.send(r);
            });
        }
    }
    let current: Rc<RefCell<Option<ProgressState>>> = Rc::new(RefCell::new(None));
    let sink = current.clone();
    engine.on_event(move |event| {
        if let Some(p) = sink.borrow_mut().as_mut() {
            p.count += 1;
            let mut message = event.kind().to_string();
            if let Some(w) = event.worker_id() {
                message.push_str(&format!(" {w}"));
            }
            let param = ProgressNotificationParam::new(p.token.clone(), p.count as f64)
                .with_message(message);
            let peer = p.peer.clone();
            tokio::spawn(async move {
                let _ = peer.notify_progress(param).await;
            });
        }
    });
    loop {
        tokio::select! {
            job = queue.recv() => {
                let Some(job) = job else { return Ok(()) };
                *current.borrow_mut() = job.progress.clone().map(|(token, peer)| ProgressState { token, peer, count: 0 });
                let result = run_job(&mut engine, &served, &job).await;
                *current.borrow_mut() = None;
                let _ = job.reply.send(result);
            }
            r = &mut done => {
                return r.unwrap_or(Ok(()));
            }
        }
    }
}

/// Where the events of the running call are reported.
struct ProgressState {
    token: ProgressToken,
    peer: Peer<RoleServer>,
    count: u64,
}

/// Runs one call: arguments by parameter name, the result as text (and as
/// structured content when it is a dict); a failure is a tool error.
async fn run_job(engine: &mut weft::Engine, served: &[Served], job: &Job) -> CallToolResult {
    let Some(f) = served.iter().find(|s| s.name == job.name) else {
        return error_result(format!("unknown tool '{}'", job.name));
    };
    let args = match positional(f, &job.arguments) {
        Ok(a) => a,
        Err(message) => return error_result(message),
    };
    match engine.call(&f.name, args).await {
        Ok(v) => {
            let json = v.to_json().unwrap_or_else(|_| json!(v.repr()));
            let text = match &json {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if json.is_object() {
                result["structuredContent"] = json;
            }
            serde_json::from_value(result).unwrap_or_else(|e| error_result(e.to_string()))
        }
        Err(e) => error_result(format!("error[{}]: {}", e.category(), e.message())),
    }
}

/// The arguments in parameter order, up to the last one given; a missing
/// required parameter or an unknown name is an error for the client.
fn positional(
    f: &Served,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<weft::Value>, String> {
    for k in args.keys() {
        if !f.params.iter().any(|(p, _)| p == k) {
            let names: Vec<&str> = f.params.iter().map(|(p, _)| p.as_str()).collect();
            return Err(format!(
                "{}: unknown argument '{k}' (parameters: {})",
                f.name,
                names.join(", ")
            ));
        }
    }
    let last = f.params.iter().rposition(|(p, _)| args.contains_key(p));
    let mut out = Vec::new();
    for (i, (p, has_default)) in f.params.iter().enumerate() {
        match args.get(p) {
            Some(v) => out.push(weft::Value::from_json(v.clone())),
            None if !has_default => {
                return Err(format!("{}: missing argument '{p}'", f.name));
            }
            None if last.is_some_and(|l| i < l) => out.push(weft::Value::nil()),
            None => break,
        }
    }
    Ok(out)
}

fn error_result(message: String) -> CallToolResult {
    serde_json::from_value(json!({"content": [{"type": "text", "text": message}], "isError": true}))
        .unwrap_or_else(|_| CallToolResult::success(vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Served {
        Served {
            name: "f".into(),
            params: vec![("a".into(), false), ("b".into(), true), ("c".into(), true)],
        }
    }

    #[test]
    fn arguments_by_name() {
        let args = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert_eq!(
            positional(&served(), &args(json!({"a": 1}))).unwrap().len(),
            1
        );
        let three = positional(&served(), &args(json!({"a": 1, "c": 3}))).unwrap();
        assert_eq!(three.len(), 3);
        assert!(three[1].is_nil());
        let e = positional(&served(), &args(json!({"b": 1}))).unwrap_err();
        assert_eq!(e, "f: missing argument 'a'");
        let e = positional(&served(), &args(json!({"a": 1, "d": 1}))).unwrap_err();
        assert!(e.contains("unknown argument 'd'"), "{e}");
    }
}
