//! Per-task execution context: working directory, environment overlay,
//! and the capability-check hook. Each task (VM) owns its context, so
//! interleaving tasks never see each other's cwd or rights — nothing here
//! lives in a thread-local (architecture.md, "per-task state").

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::confine::{FsError, FsTarget};
use crate::error::RtResult;

/// A capability that builtins check before acting (workers.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    FsRead,
    FsWrite,
    ProcessExec,
    Network,
    LlmCall,
    WorkersSpawn,
    /// Connecting to (and using) an MCP server; the target is the server's
    /// command or URL.
    Mcp,
    /// Reading process environment variables with `env()`/`env_or()`;
    /// the policy's `env` allow-list says which. Denying it empties the
    /// list.
    Env,
}

impl Capability {
    /// Every capability, in the order `weft run --deny` lists them.
    pub const ALL: [Capability; 8] = [
        Capability::FsRead,
        Capability::FsWrite,
        Capability::ProcessExec,
        Capability::Network,
        Capability::LlmCall,
        Capability::WorkersSpawn,
        Capability::Mcp,
        Capability::Env,
    ];

    /// The capability named `name` (`fs.read`, `network`, ...); the error
    /// names the closest known capability and lists them all.
    pub fn parse(name: &str) -> Result<Capability, String> {
        if let Some(cap) = Capability::ALL.into_iter().find(|c| c.name() == name) {
            return Ok(cap);
        }
        let names = Capability::ALL.map(Capability::name);
        let hint = weft_syntax::suggest::did_you_mean(name, names)
            .map(|n| format!(" (did you mean '{n}'?)"))
            .unwrap_or_default();
        Err(format!(
            "unknown capability '{name}'{hint}; known capabilities: {}",
            names.join(", ")
        ))
    }

    /// The policy name, e.g. `fs.read`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::FsRead => "fs.read",
            Capability::FsWrite => "fs.write",
            Capability::ProcessExec => "process.exec",
            Capability::Network => "network",
            Capability::LlmCall => "llm.call",
            Capability::WorkersSpawn => "workers.spawn",
            Capability::Mcp => "mcp",
            Capability::Env => "env",
        }
    }
}

/// The context a task runs in.
#[derive(Clone, Debug)]
pub struct TaskContext {
    /// Directory that relative paths resolve against (the execution
    /// profile's `cwd`); never the process cwd after start-up.
    pub cwd: PathBuf,
    /// Variables layered over the process environment for this task.
    pub env: IndexMap<String, String>,
    /// The effective capability policy of this task (workers.md §3).
    pub policy: std::rc::Rc<crate::policy::CapabilityPolicy>,
    /// Events for the transcript of the agent session this task's code runs
    /// in (set by a running agent loop for its tool handlers; e.g.
    /// `sub_agent_run` adds `sub_agent_start`/`sub_agent_result` here).
    pub session_events: Option<SessionEvents>,
    /// The budget scope this task's model calls and spawns are charged to
    /// (`None`: the program's root budget, if any).
    pub budget: Option<std::rc::Rc<crate::budget::Budget>>,
}

/// A shared buffer of transcript events (see [`TaskContext::session_events`]).
pub type SessionEvents = std::rc::Rc<std::cell::RefCell<Vec<serde_json::Value>>>;

impl TaskContext {
    /// A context rooted at the process's current directory.
    pub fn from_process() -> TaskContext {
        TaskContext {
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            env: IndexMap::new(),
            policy: std::rc::Rc::new(crate::policy::CapabilityPolicy::allow_all()),
            session_events: None,
            budget: None,
        }
    }

    /// `path` resolved against this task's cwd (absolute paths unchanged).
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// An environment variable as this task sees it (overlay first).
    pub fn env_var(&self, name: &str) -> Option<String> {
        match self.env.get(name) {
            Some(v) => Some(v.clone()),
            None => std::env::var(name).ok(),
        }
    }

    /// Whether a script may read environment variable `name`: one of the
    /// task's overlay, or allowed by the policy's `env` list.
    pub fn may_read_env(&self, name: &str) -> bool {
        self.env.contains_key(name) || self.policy.allows_env(name)
    }

    /// `permission_denied` unless the script may read `name` (`who` is the
    /// builtin or option asking).
    pub fn check_env(&self, who: &str, name: &str) -> RtResult<()> {
        if self.may_read_env(name) {
            return Ok(());
        }
        let allowed = match &self.policy.env {
            Some(names) if !names.is_empty() => format!(
                "the policy's env allow-list is [{}]",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => "the policy allows no environment variables (policy.env)".to_string(),
        };
        Err(crate::error::RtError::new(
            "permission_denied",
            format!("{who}: reading environment variable {name} is denied: {allowed}"),
        ))
    }

    /// The one hook every capability builtin calls before acting, checked
    /// against this task's effective policy. `target` describes what is
    /// accessed (a resolved absolute path for `fs.*`, a URL, a program).
    pub fn check_capability(&self, cap: Capability, target: &str) -> RtResult<()> {
        if cap == Capability::Env {
            return self.check_env("env", target);
        }
        let path =
            matches!(cap, Capability::FsRead | Capability::FsWrite).then(|| Path::new(target));
        self.check_op(cap, target, path)
    }

    /// `permission_denied` unless this task's policy grants `cap` at all:
    /// the check for a host function `who` that declared it needs `cap`
    /// (`register_fn(...).requires(...)`). There is no path, URL or
    /// variable to check: the host acts on its own, so the capability
    /// itself must be granted (for `mcp`: some server; for `env`: some
    /// variable, i.e. not `--deny env`).
    pub fn check_host_capability(&self, cap: Capability, who: &str) -> RtResult<()> {
        let denied = |reason: String| {
            Err(crate::error::RtError::new(
                "permission_denied",
                format!(
                    "{who} needs {} and {reason}; the host declared it with requires({})",
                    cap.name(),
                    cap.name()
                ),
            ))
        };
        match cap {
            Capability::Env if self.policy.env.as_ref().is_some_and(|n| n.is_empty()) => {
                denied("the policy allows no environment variables (policy.env)".into())
            }
            Capability::Env => Ok(()),
            Capability::Mcp
                if self
                    .policy
                    .capabilities
                    .get("mcp")
                    .is_some_and(|entries| entries.is_empty()) =>
            {
                denied("the capability policy admits no MCP server".into())
            }
            Capability::Mcp => Ok(()),
            _ => {
                let (name, op) = policy_op(cap, who);
                self.policy
                    .check(name, op, None)
                    .or_else(|d| denied(d.reason))
            }
        }
    }

    fn check_op(&self, cap: Capability, target: &str, path: Option<&Path>) -> RtResult<()> {
        let (name, op) = policy_op(cap, target);
        self.policy.check(name, op, path).map_err(|d| {
            crate::error::RtError::new(
                "permission_denied",
                format!("{} denied for {target}: {}", d.capability, d.reason),
            )
        })
    }

    /// The one entry to the file system for a path a script names: `path`
    /// resolved against the cwd, `cap` (`FsRead`/`FsWrite`) checked, and the
    /// target placed under the policy's roots. Every operation on the
    /// returned target runs beneath a root's directory handle (crate::confine).
    pub fn fs_target(&self, cap: Capability, path: &str) -> RtResult<FsTarget> {
        let resolved = crate::policy::normalize(&self.resolve_path(path));
        self.fs_target_abs(cap, &resolved)
    }

    /// [`Self::fs_target`] for a path that is already absolute.
    pub fn fs_target_abs(&self, cap: Capability, path: &Path) -> RtResult<FsTarget> {
        let shown = path.display().to_string();
        self.check_op(cap, &shown, None)?;
        self.policy.locate(path).map_err(|o| {
            crate::error::RtError::new(
                "permission_denied",
                format!("{} denied for {shown}: {}", cap.name(), o.reason),
            )
        })
    }
}

/// An error of an operation on a confined target as a runtime error: an
/// escape is `permission_denied` (`CAP denied for PATH: ...`), anything else
/// `io_error` (`WHO: cannot VERB 'PATH': REASON`).
pub fn fs_error(
    who: &str,
    verb: &str,
    cap: Capability,
    target: &FsTarget,
    e: FsError,
) -> Box<crate::error::RtError> {
    match e {
        FsError::Escape(o) => crate::error::RtError::new(
            "permission_denied",
            format!(
                "{} denied for {}: {}",
                cap.name(),
                o.path.display(),
                o.reason
            ),
        ),
        FsError::Io(e) => crate::error::RtError::new(
            "io_error",
            format!(
                "{who}: cannot {verb} '{}': {}",
                target.shown.display(),
                os_reason(&e)
            ),
        ),
    }
}

/// The OS reason without Rust's ` (os error N)` suffix.
pub fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// The policy's `(capability, operation)` names for `cap`; `target` is the
/// operation of `mcp` (the server) and `env` (the variable).
fn policy_op(cap: Capability, target: &str) -> (&'static str, &str) {
    match cap {
        Capability::FsRead => ("fs", "read"),
        Capability::FsWrite => ("fs", "write"),
        Capability::ProcessExec => ("process", "exec"),
        Capability::Network => ("network", "http"),
        Capability::LlmCall => ("llm", "call"),
        Capability::WorkersSpawn => ("workers", "spawn"),
        Capability::Mcp => ("mcp", target),
        Capability::Env => ("env", target),
    }
}
