//! One live MCP connection: starting a stdio server (its own process
//! group, stdout checked line by line for malformed messages, the tail of
//! stderr kept for error messages) or connecting to a streamable HTTP
//! server through `rmcp`; running requests under a timeout with failures
//! explained; closing (the child process group killed and reaped).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::service::{Peer, RoleClient, RunningService, ServiceError, ServiceExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;
use tokio::sync::Notify;
use weft_vm::context::TaskContext;
use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::policy::normalize;

use super::options::{ConnectOptions, Transport};

/// How many lines of a stdio server's stderr are kept for messages.
const STDERR_LINES: usize = 8;
/// The longest stderr or malformed line quoted in a message.
const QUOTE_CHARS: usize = 300;

/// What the reader tasks learn about a stdio server.
#[derive(Default)]
struct Diagnostics {
    stderr: Mutex<VecDeque<String>>,
    malformed: Mutex<Option<String>>,
    /// Woken when a malformed message arrives.
    malformed_notify: Notify,
    /// Set (and notified) when the server's stderr reached its end.
    stderr_closed: std::sync::atomic::AtomicBool,
    stderr_notify: Notify,
}

impl Diagnostics {
    fn stderr_tail(&self) -> Option<String> {
        let lines = self.stderr.lock().ok()?;
        let text: Vec<&str> = lines.iter().map(String::as_str).collect();
        (!text.is_empty()).then(|| text.join(" | "))
    }

    fn malformed(&self) -> Option<String> {
        self.malformed.lock().ok()?.clone()
    }
}

/// A connection to one MCP server.
pub struct Connection {
    /// `mcp_1`, `mcp_2`, ... (unique within a program run).
    pub id: String,
    /// The label used in messages.
    pub name: String,
    /// The command or URL (what the `mcp` capability is checked against).
    pub target: String,
    /// Whether the server is a child process (`process.exec` applies).
    pub stdio: bool,
    /// The worker that opened it (`None`: the main task).
    pub owner: Option<String>,
    /// The bound on every request.
    pub timeout: Duration,
    /// The stdio server's process id.
    pub pid: Option<u32>,
    /// Set once the handshake succeeded.
    peer: Option<Peer<RoleClient>>,
    service: RefCell<Option<RunningService<RoleClient, ()>>>,
    child: RefCell<Option<Child>>,
    diag: Arc<Diagnostics>,
    /// Why the connection is closed (`None` while open).
    closed: RefCell<Option<String>>,
}

/// An `mcp_error` raised by `who`.
pub fn mcp_error(who: &str, message: impl std::fmt::Display) -> Box<RtError> {
    RtError::new("mcp_error", format!("{who}: {message}"))
}

fn clip(s: &str) -> String {
    if s.chars().count() <= QUOTE_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(QUOTE_CHARS).collect();
        format!("{cut}...")
    }
}

/// Whether a line from a stdio server is a JSON-RPC message (an object
/// with `"jsonrpc": "2.0"`, or a batch of them).
fn is_jsonrpc(line: &str) -> bool {
    fn one(v: &serde_json::Value) -> bool {
        v.get("jsonrpc").and_then(|j| j.as_str()) == Some("2.0")
    }
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Array(items)) => !items.is_empty() && items.iter().all(one),
        Ok(v) => one(&v),
        Err(_) => false,
    }
}

impl Connection {
    /// Starts or reaches the server and runs the MCP handshake, bounded by
    /// the options' timeout. Capability checks are the caller's.
    pub async fn open(
        who: &str,
        id: String,
        opts: &ConnectOptions,
        ctx: &TaskContext,
        owner: Option<String>,
    ) -> RtResult<Connection> {
        match &opts.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let dir = match cwd {
                    Some(c) => normalize(&ctx.resolve_path(c)),
                    None => ctx.cwd.clone(),
                };
                if !dir.is_dir() {
                    return Err(value_error(format!(
                        "{who}: working directory '{}' is not a directory",
                        dir.display()
                    )));
                }
                let program =
                    if command.contains('/') && !std::path::Path::new(command).is_absolute() {
                        dir.join(command)
                    } else {
                        std::path::PathBuf::from(command)
                    };
                let mut cmd = tokio::process::Command::new(&program);
                cmd.args(args)
                    .current_dir(&dir)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .kill_on_drop(true);
                #[cfg(unix)]
                cmd.process_group(0);
                for (k, v) in &ctx.env {
                    cmd.env(k, v);
                }
                for (k, v) in env {
                    cmd.env(k, v);
                }
                let mut child = cmd.spawn().map_err(|e| {
                    mcp_error(who, format!("cannot start MCP server '{}': {e}", opts.name))
                })?;
                let pid = child.id();
                let (Some(stdout), Some(stdin), Some(stderr)) =
                    (child.stdout.take(), child.stdin.take(), child.stderr.take())
                else {
                    return Err(mcp_error(who, "the server's pipes were not created"));
                };
                let diag = Arc::new(Diagnostics::default());
                let (mut to_rmcp, from_filter) = tokio::io::duplex(1 << 20);
                let d = diag.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stdout).lines();
                    loop {
                        match lines.next_line().await {
                            Ok(Some(line)) if line.trim().is_empty() => {}
                            Ok(Some(line)) if is_jsonrpc(&line) => {
                                if to_rmcp.write_all(line.as_bytes()).await.is_err()
                                    || to_rmcp.write_all(b"\n").await.is_err()
                                {
                                    break;
                                }
                            }
                            Ok(Some(line)) => {
                                if let Ok(mut m) = d.malformed.lock() {
                                    *m = Some(clip(&line));
                                }
                                d.malformed_notify.notify_waiters();
                            }
                            Ok(None) => break,
                            Err(e) => {
                                if let Ok(mut m) = d.malformed.lock() {
                                    *m = Some(format!("unreadable output ({e})"));
                                }
                                d.malformed_notify.notify_waiters();
                                break;
                            }
                        }
                    }
                });
                let d = diag.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Ok(mut tail) = d.stderr.lock() {
                            if tail.len() == STDERR_LINES {
                                tail.pop_front();
                            }
                            tail.push_back(clip(line.trim_end()));
                        }
                    }
                    d.stderr_closed
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    d.stderr_notify.notify_waiters();
                });
                let mut conn = Connection::shell(id, opts, owner, diag.clone());
                conn.stdio = true;
                conn.pid = pid;
                *conn.child.borrow_mut() = Some(child);
                let handshake = ().serve((from_filter, stdin));
                let result = conn
                    .bounded(who, "the initialize handshake", handshake)
                    .await;
                match result {
                    Ok(service) => Ok(conn.with_service(service)),
                    Err(e) => {
                        conn.close("the handshake failed").await;
                        Err(e)
                    }
                }
            }
            Transport::Http { url, headers } => {
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                use rmcp::transport::StreamableHttpClientTransport;
                let mut map = std::collections::HashMap::new();
                for (k, v) in headers {
                    let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|_| value_error(format!("{who}: invalid header name '{k}'")))?;
                    let value = reqwest::header::HeaderValue::from_str(v).map_err(|_| {
                        value_error(format!("{who}: invalid value for header '{k}'"))
                    })?;
                    map.insert(name, value);
                }
                // reqwest (inside rmcp) uses the process's rustls provider;
                // ring is the one the rest of Weft's HTTP already links.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config =
                    StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(map);
                let transport = StreamableHttpClientTransport::from_config(config);
                let conn = Connection::shell(id, opts, owner, Arc::new(Diagnostics::default()));
                let service = conn
                    .bounded(who, "the initialize handshake", ().serve(transport))
                    .await?;
                Ok(conn.with_service(service))
            }
        }
    }

    /// A connection not yet holding its service (the handshake runs
    /// through [`Self::bounded`] so it is explained like any request).
    fn shell(
        id: String,
        opts: &ConnectOptions,
        owner: Option<String>,
        diag: Arc<Diagnostics>,
    ) -> Connection {
        Connection {
            id,
            name: opts.name.clone(),
            target: opts.target().to_string(),
            stdio: false,
            owner,
            timeout: opts.timeout,
            pid: None,
            peer: None,
            service: RefCell::new(None),
            child: RefCell::new(None),
            diag,
            closed: RefCell::new(None),
        }
    }

    fn with_service(mut self, service: RunningService<RoleClient, ()>) -> Connection {
        self.peer = Some(service.peer().clone());
        *self.service.borrow_mut() = Some(service);
        self
    }

    /// The peer to send requests through, or why there is none.
    pub fn peer(&self, who: &str) -> RtResult<Peer<RoleClient>> {
        match &*self.closed.borrow() {
            Some(reason) => Err(mcp_error(
                who,
                format!(
                    "MCP connection {} ('{}') is closed ({reason})",
                    self.id, self.name
                ),
            )),
            None => self
                .peer
                .clone()
                .ok_or_else(|| mcp_error(who, format!("MCP connection {} is not open", self.id))),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.borrow().is_some()
    }

    /// Runs one request under the connection's timeout (or `timeout`),
    /// failing early when the server sends a malformed message; failures
    /// name the server, the request and what went wrong.
    pub async fn request<T>(
        &self,
        who: &str,
        what: &str,
        timeout: Option<Duration>,
        fut: impl Future<Output = Result<T, ServiceError>>,
    ) -> RtResult<T> {
        let limit = timeout.unwrap_or(self.timeout);
        match self.race(who, what, limit, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.explain(who, what, e).await),
            Err(e) => Err(e),
        }
    }

    /// Like [`Self::request`] for the handshake, whose error type differs.
    async fn bounded<T, E: std::fmt::Display>(
        &self,
        who: &str,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> RtResult<T> {
        match self.race(who, what, self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let status = self.exit_status().await;
                Err(mcp_error(
                    who,
                    format!(
                        "MCP server '{}' failed {what}: {e}{}",
                        self.name,
                        self.context(status)
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// `fut` raced against the timeout and malformed messages.
    async fn race<T>(
        &self,
        who: &str,
        what: &str,
        limit: Duration,
        fut: impl Future<Output = T>,
    ) -> RtResult<T> {
        let malformed = self.diag.malformed_notify.notified();
        tokio::select! {
            r = fut => Ok(r),
            _ = malformed => {
                let line = self.diag.malformed().unwrap_or_default();
                Err(mcp_error(who, format!(
                    "MCP server '{}' sent a malformed message during {what} (expected a JSON-RPC 2.0 message on each line of stdout): {line}",
                    self.name
                )))
            }
            _ = tokio::time::sleep(limit) => {
                Err(RtError::new("timeout", format!(
                    "{who}: MCP server '{}' did not answer {what} within {} ms",
                    self.name,
                    limit.as_millis()
                )))
            }
        }
    }

    /// The error for a failed request.
    async fn explain(&self, who: &str, what: &str, e: ServiceError) -> Box<RtError> {
        match e {
            ServiceError::McpError(data) => mcp_error(
                who,
                format!(
                    "MCP server '{}' refused {what}: {} (code {})",
                    self.name, data.message, data.code.0
                ),
            ),
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                let status = self.exit_status().await;
                let gone = match &status {
                    Some(s) => format!("exited ({s})"),
                    None => "closed the connection".to_string(),
                };
                mcp_error(
                    who,
                    format!(
                        "MCP server '{}' {gone} during {what}{}",
                        self.name,
                        self.context(None)
                    ),
                )
            }
            other => mcp_error(
                who,
                format!("MCP server '{}': {what} failed: {other}", self.name),
            ),
        }
    }

    /// `; stderr: ...` and the last malformed line, for messages.
    fn context(&self, status: Option<String>) -> String {
        let mut out = String::new();
        if let Some(s) = status {
            out.push_str(&format!(" (the server exited: {s})"));
        }
        if let Some(m) = self.diag.malformed() {
            out.push_str(&format!("; last malformed output: {m}"));
        }
        if let Some(t) = self.diag.stderr_tail() {
            out.push_str(&format!("; stderr: {t}"));
        }
        out
    }

    /// How the stdio server ended, waiting (up to 2 s) for it to be
    /// reaped and for the rest of its stderr, so messages are complete.
    async fn exit_status(&self) -> Option<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let mut status = None;
        while tokio::time::Instant::now() < deadline {
            status = {
                let mut child = self.child.borrow_mut();
                child.as_mut()?.try_wait().ok().flatten()
            };
            if status.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let status = status?;
        let closed = self.diag.stderr_notify.notified();
        if !self
            .diag
            .stderr_closed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            let _ = tokio::time::timeout_at(deadline, closed).await;
        }
        Some(describe_status(status))
    }

    /// Marks the connection closed and returns what must be shut down.
    pub fn begin_close(&self, reason: &str) -> Option<Closing> {
        if self.closed.borrow().is_some() {
            return None;
        }
        *self.closed.borrow_mut() = Some(reason.to_string());
        Some(Closing {
            service: self.service.borrow_mut().take(),
            child: self.child.borrow_mut().take(),
            pid: self.pid,
        })
    }

    /// Closes the connection (no-op when already closed).
    pub async fn close(&self, reason: &str) {
        if let Some(c) = self.begin_close(reason) {
            c.finish().await;
        }
    }
}

/// What remains to be shut down for a closed connection.
pub struct Closing {
    service: Option<RunningService<RoleClient, ()>>,
    child: Option<Child>,
    pid: Option<u32>,
}

impl Closing {
    /// Ends the session (closing the server's stdin), gives a stdio server
    /// a moment to exit, then kills its whole process group and reaps it.
    pub async fn finish(self) {
        if let Some(service) = self.service {
            let _ = tokio::time::timeout(Duration::from_secs(2), service.cancel()).await;
        }
        if let Some(mut child) = self.child {
            let exited = tokio::time::timeout(Duration::from_millis(300), child.wait())
                .await
                .is_ok();
            kill_group(self.pid);
            if !exited {
                let _ = child.kill().await;
            }
        }
    }
}

/// Kills the process group a stdio server leads (its children too: `npx`
/// starts `node`).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SAFETY: killpg has no memory-safety preconditions; the group
        // was created for this server (`process_group(0)`).
        unsafe {
            libc::killpg(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn describe_status(st: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = st.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match st.code() {
        Some(c) => format!("exit status {c}"),
        None => st.to_string(),
    }
}
