//! Capability policies (workers.md §3): what a task may do, narrowed at
//! every level of delegation and never widened.
//!
//! A [`CapabilityPolicy`] is parsed once from its dict/JSON form; the
//! effective policy of a child is `request.intersect(ceiling)`, which fails
//! with a report of everything the request asks beyond the ceiling.
//! [`CapabilityPolicy::check`] enforces a policy for one capability use
//! (the hook every capability builtin calls through the task context).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use weft_syntax::suggest::did_you_mean;

use crate::value::{DictMap, Value};

/// How much a task may change the world, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SideEffectLevel {
    None,
    ReadOnly,
    WorkspaceWrite,
    ProcessExec,
    Network,
}

impl SideEffectLevel {
    pub const NAMES: [&'static str; 5] = [
        "none",
        "read_only",
        "workspace_write",
        "process_exec",
        "network",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<SideEffectLevel> {
        Some(match s {
            "none" => SideEffectLevel::None,
            "read_only" => SideEffectLevel::ReadOnly,
            "workspace_write" => SideEffectLevel::WorkspaceWrite,
            "process_exec" => SideEffectLevel::ProcessExec,
            "network" => SideEffectLevel::Network,
            _ => return None,
        })
    }
}

/// The capabilities and their operations (`fs.read`, `network.http`, ...).
pub const CAPABILITY_OPS: &[(&str, &[&str])] = &[
    ("fs", &["read", "write"]),
    ("process", &["exec"]),
    ("network", &["http"]),
    ("llm", &["call"]),
    ("workers", &["spawn"]),
    // MCP servers: the entries are not fixed operations but the servers a
    // task may connect to (see `mcp_entry_matches`).
    ("mcp", &[]),
];

/// The prefix of an `approve` entry naming a tool (`tool:deploy`); other
/// entries name builtins.
pub const TOOL_PREFIX: &str = "tool:";

/// Checks an `approve` entry's form: `tool:NAME` with a valid tool name, or
/// a builtin of `builtins` (the program's), with a did-you-mean.
pub fn check_approve_entry<'a>(
    entry: &str,
    builtins: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), String> {
    if let Some(tool) = entry.strip_prefix(TOOL_PREFIX) {
        let ok = !tool.is_empty()
            && tool.len() <= 64
            && tool
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "approve entry '{entry}' does not name a tool (use tool:NAME with 1 to 64 letters, digits, '_' or '-')"
            ))
        };
    }
    if builtins.clone().any(|b| b == entry) {
        return Ok(());
    }
    let hint = match did_you_mean(entry, builtins) {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    };
    Err(format!(
        "approve entry '{entry}' is not a builtin{hint}; name a builtin (write_file, shell, ...) or a tool as tool:NAME"
    ))
}

/// The root default for `max_depth`.
pub const ROOT_MAX_DEPTH: u32 = 8;

/// An effective capability policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapabilityPolicy {
    /// Tool names allowed; `None` = any tool.
    pub tools: Option<BTreeSet<String>>,
    /// For each capability named: the operations allowed. A capability not
    /// named is fully allowed.
    pub capabilities: BTreeMap<String, BTreeSet<String>>,
    /// Absolute, normalised roots file paths must fall inside; `None` =
    /// anywhere.
    pub workspace_roots: Option<Vec<PathBuf>>,
    pub side_effect_level: SideEffectLevel,
    /// Further levels of delegation allowed below this task.
    pub max_depth: u32,
    /// Directory handles on `workspace_roots` (crate::confine).
    pub root_dirs: crate::confine::RootDirs,
    /// Names of process environment variables `env()` may read; `None` =
    /// any. A delegated child gets none unless it asks (docs/security.md).
    pub env: Option<BTreeSet<String>>,
    /// What needs a human's approval before it runs (issue 17 §1): builtin
    /// names (`write_file`, `shell`) and `tool:NAME` entries. A child's list
    /// is its parent's plus its own: entries are never removed.
    pub approve: BTreeSet<String>,
}

impl Default for CapabilityPolicy {
    fn default() -> Self {
        CapabilityPolicy::allow_all()
    }
}

/// A policy request as written (every field optional), before it is
/// intersected with a ceiling.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRequest {
    pub tools: Option<BTreeSet<String>>,
    pub capabilities: Option<BTreeMap<String, BTreeSet<String>>>,
    /// As written (relative paths resolve against the spawner's cwd).
    pub workspace_roots: Option<Vec<String>>,
    pub side_effect_level: Option<SideEffectLevel>,
    pub max_depth: Option<u32>,
    /// Environment variable names `env()` may read.
    pub env: Option<BTreeSet<String>>,
    /// Entries added to the ceiling's `approve` list (see
    /// [`CapabilityPolicy::approve`]).
    pub approve: Option<BTreeSet<String>>,
}

/// What a request asks beyond its ceiling.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excess {
    pub tools: Vec<String>,
    pub capabilities: Vec<String>,
    pub roots: Vec<String>,
    pub side_effect_level: Option<(SideEffectLevel, SideEffectLevel)>,
    pub max_depth: Option<(u32, u32)>,
    /// Environment variable names beyond the ceiling's allow-list.
    pub env: Vec<String>,
    /// Delegation is not allowed at all (the ceiling's depth is 0).
    pub depth_exhausted: bool,
}

impl Excess {
    pub fn is_empty(&self) -> bool {
        *self == Excess::default()
    }
}

impl fmt::Display for Excess {
    /// `tools [write_file], capabilities [process.exec]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth_exhausted {
            return f.write_str("delegation depth exhausted");
        }
        let mut parts = Vec::new();
        if !self.tools.is_empty() {
            parts.push(format!("tools [{}]", self.tools.join(", ")));
        }
        if !self.capabilities.is_empty() {
            parts.push(format!("capabilities [{}]", self.capabilities.join(", ")));
        }
        if !self.roots.is_empty() {
            parts.push(format!("workspace_roots [{}]", self.roots.join(", ")));
        }
        if !self.env.is_empty() {
            parts.push(format!("env [{}]", self.env.join(", ")));
        }
        if let Some((want, max)) = self.side_effect_level {
            parts.push(format!(
                "side_effect_level {} (ceiling {})",
                want.name(),
                max.name()
            ));
        }
        if let Some((want, max)) = self.max_depth {
            parts.push(format!("max_depth {want} (ceiling {max})"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Why a capability use was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub capability: String,
    pub reason: String,
}

impl CapabilityPolicy {
    /// Everything allowed (the default root ceiling of `weft run`).
    pub fn allow_all() -> CapabilityPolicy {
        CapabilityPolicy {
            tools: None,
            capabilities: BTreeMap::new(),
            workspace_roots: None,
            side_effect_level: SideEffectLevel::Network,
            max_depth: ROOT_MAX_DEPTH,
            root_dirs: Default::default(),
            env: None,
            approve: BTreeSet::new(),
        }
    }

    /// A root ceiling from a request (`--policy FILE.json`): the request
    /// narrows "allow everything"; `max_depth` defaults to 8 and is not
    /// decremented (the root is not a delegation).
    pub fn root_from(request: &PolicyRequest, cwd: &Path) -> Result<CapabilityPolicy, Excess> {
        let mut unbounded = CapabilityPolicy::allow_all();
        unbounded.max_depth = u32::MAX;
        let mut p = unbounded.intersect(request, cwd)?;
        p.max_depth = request.max_depth.unwrap_or(ROOT_MAX_DEPTH);
        p.env = request.env.clone();
        Ok(p)
    }

    /// This policy with `cap` (`fs.write`, `network`, ...) removed.
    pub fn deny(&mut self, cap: &str) -> Result<(), String> {
        if cap == "env" {
            // Environment reads are an allow-list, not an operation set.
            self.env = Some(BTreeSet::new());
            return Ok(());
        }
        let (name, op) = split_capability(cap)?;
        let all: BTreeSet<String> = ops_of(name).iter().map(|s| s.to_string()).collect();
        let entry = self.capabilities.entry(name.to_string()).or_insert(all);
        match op {
            Some(op) => {
                entry.remove(op);
            }
            None => entry.clear(),
        }
        Ok(())
    }

    /// Whether operation `op` of capability `name` is allowed. For `mcp`
    /// the "operation" is a server (a command or a URL) and the policy's
    /// entries match it as [`mcp_entry_matches`] says.
    pub fn allows_op(&self, name: &str, op: &str) -> bool {
        match self.capabilities.get(name) {
            Some(entries) if name == "mcp" => entries.iter().any(|e| mcp_entry_matches(e, op)),
            Some(ops) => ops.contains(op),
            None => true,
        }
    }

    /// Whether `env()` may read the process environment variable `name`.
    pub fn allows_env(&self, name: &str) -> bool {
        self.env.as_ref().is_none_or(|names| names.contains(name))
    }

    /// Whether calling the builtin `name` needs an approval first.
    pub fn approves_builtin(&self, name: &str) -> bool {
        !self.approve.is_empty() && self.approve.contains(name)
    }

    /// Whether a model's call of the tool `name` needs an approval first
    /// (a `tool:NAME` entry).
    pub fn approves_tool(&self, name: &str) -> bool {
        !self.approve.is_empty()
            && self
                .approve
                .iter()
                .any(|e| e.strip_prefix(TOOL_PREFIX) == Some(name))
    }

    /// Whether a tool name is allowed.
    pub fn allows_tool(&self, name: &str) -> bool {
        self.tools.as_ref().is_none_or(|t| t.contains(name))
    }

    /// Checks one capability use. `path` (already absolute) is checked
    /// against `workspace_roots` after normalising `..`; symbolic links are
    /// the confinement layer's job when the path is opened
    /// ([`Self::locate`]).
    pub fn check(&self, name: &str, op: &str, path: Option<&Path>) -> Result<(), Denial> {
        let cap = capability_label(name, op);
        if name == "mcp" && !self.allows_op(name, op) {
            let entries: Vec<&str> = self
                .capabilities
                .get(name)
                .map(|e| e.iter().map(String::as_str).collect())
                .unwrap_or_default();
            return Err(Denial {
                capability: cap,
                reason: format!(
                    "the capability policy admits no MCP server '{op}' (mcp: [{}])",
                    entries.join(", ")
                ),
            });
        }
        if !self.allows_op(name, op) {
            return Err(Denial {
                capability: cap.clone(),
                reason: format!("{cap} is not allowed by the capability policy"),
            });
        }
        let level = level_of(name, op);
        if level > self.side_effect_level {
            return Err(Denial {
                capability: cap.clone(),
                reason: format!(
                    "{cap} needs side_effect_level {}, the policy allows at most {}",
                    level.name(),
                    self.side_effect_level.name()
                ),
            });
        }
        if let Some(path) = path {
            self.locate(path).map_err(|o| Denial {
                capability: cap,
                reason: o.reason,
            })?;
        }
        Ok(())
    }

    /// Where `path` (absolute) lands under this policy's roots: the one
    /// confinement layer (crate::confine) performs every file operation on
    /// the returned target.
    pub fn locate(&self, path: &Path) -> Result<crate::confine::FsTarget, crate::confine::Outside> {
        crate::confine::locate(self.workspace_roots.as_deref(), &self.root_dirs, path)
    }

    /// The effective policy of a child that asks for `request`, with this
    /// policy as its ceiling and `cwd` the spawner's directory (for
    /// relative roots). Fails with everything that exceeds the ceiling.
    pub fn intersect(
        &self,
        request: &PolicyRequest,
        cwd: &Path,
    ) -> Result<CapabilityPolicy, Excess> {
        let mut excess = Excess::default();
        if self.max_depth == 0 {
            excess.depth_exhausted = true;
            return Err(excess);
        }
        let tools = match (&request.tools, &self.tools) {
            (None, ceiling) => ceiling.clone(),
            (Some(want), None) => Some(want.clone()),
            (Some(want), Some(have)) => {
                excess.tools = want.difference(have).cloned().collect();
                Some(want.intersection(have).cloned().collect())
            }
        };
        let mut capabilities = self.capabilities.clone();
        if let Some(req) = &request.capabilities {
            for (name, ops) in req {
                for op in ops {
                    if !self.allows_op(name, op) {
                        excess.capabilities.push(capability_label(name, op));
                    }
                }
                let allowed: BTreeSet<String> = ops
                    .iter()
                    .filter(|op| self.allows_op(name, op))
                    .cloned()
                    .collect();
                capabilities.insert(name.clone(), allowed);
            }
        }
        let workspace_roots = match &request.workspace_roots {
            None => self.workspace_roots.clone(),
            Some(want) => {
                let mut roots = Vec::new();
                for r in want {
                    let abs = resolve_real(&normalize(&cwd.join(r)));
                    let inside = self
                        .workspace_roots
                        .as_ref()
                        .is_none_or(|have| have.iter().any(|h| abs.starts_with(h)));
                    if inside {
                        roots.push(abs);
                    } else {
                        excess.roots.push(r.clone());
                    }
                }
                Some(roots)
            }
        };
        // Environment reads are off for a delegated child unless it asks.
        let env = match &request.env {
            None => Some(BTreeSet::new()),
            Some(want) => {
                excess.env = want
                    .iter()
                    .filter(|n| !self.allows_env(n))
                    .cloned()
                    .collect();
                Some(
                    want.iter()
                        .filter(|n| self.allows_env(n))
                        .cloned()
                        .collect(),
                )
            }
        };
        let side_effect_level = match request.side_effect_level {
            None => self.side_effect_level,
            Some(want) if want <= self.side_effect_level => want,
            Some(want) => {
                excess.side_effect_level = Some((want, self.side_effect_level));
                self.side_effect_level
            }
        };
        let limit = self.max_depth - 1;
        let max_depth = match request.max_depth {
            None => limit,
            Some(want) if want <= limit => want,
            Some(want) => {
                excess.max_depth = Some((want, limit));
                limit
            }
        };
        if !excess.is_empty() {
            return Err(excess);
        }
        // Approvals only accumulate: the ceiling's entries plus the request's.
        let mut approve = self.approve.clone();
        approve.extend(request.approve.iter().flatten().cloned());
        Ok(CapabilityPolicy {
            approve,
            tools,
            capabilities,
            root_dirs: crate::confine::RootDirs::beneath(
                self.workspace_roots.as_deref(),
                &self.root_dirs,
            ),
            workspace_roots,
            side_effect_level,
            max_depth,
            env,
        })
    }

    /// The policy of code that runs in the same task with a narrower
    /// `request` (a workflow or one of its nodes): like [`Self::intersect`]
    /// but it is not a delegation level, so `max_depth` is not spent (a
    /// requested `max_depth` may be at most this policy's).
    pub fn restrict(
        &self,
        request: &PolicyRequest,
        cwd: &Path,
    ) -> Result<CapabilityPolicy, Excess> {
        let mut widened = self.clone();
        widened.max_depth = self.max_depth.saturating_add(1);
        let mut out = widened.intersect(request, cwd)?;
        if request.max_depth.is_none() {
            out.max_depth = self.max_depth;
        }
        if request.env.is_none() {
            out.env = self.env.clone();
        }
        Ok(out)
    }

    /// The dict form (as in workers.md §3; roots absolute).
    pub fn to_value(&self) -> Value {
        let mut d = DictMap::default();
        if let Some(tools) = &self.tools {
            d.insert(
                key("tools"),
                Value::list(tools.iter().map(Value::str).collect()),
            );
        }
        let mut caps = DictMap::default();
        for (name, ops) in &self.capabilities {
            caps.insert(key(name), Value::list(ops.iter().map(Value::str).collect()));
        }
        d.insert(key("capabilities"), Value::dict(caps));
        if let Some(roots) = &self.workspace_roots {
            d.insert(
                key("workspace_roots"),
                Value::list(
                    roots
                        .iter()
                        .map(|r| Value::str(r.display().to_string()))
                        .collect(),
                ),
            );
        }
        d.insert(
            key("side_effect_level"),
            Value::str(self.side_effect_level.name()),
        );
        d.insert(key("max_depth"), Value::Int(self.max_depth as i64));
        if let Some(env) = &self.env {
            d.insert(
                key("env"),
                Value::list(env.iter().map(Value::str).collect()),
            );
        }
        if !self.approve.is_empty() {
            d.insert(
                key("approve"),
                Value::list(self.approve.iter().map(Value::str).collect()),
            );
        }
        Value::dict(d)
    }
}

fn key(s: &str) -> std::rc::Rc<String> {
    std::rc::Rc::new(s.to_string())
}

fn capability_label(name: &str, op: &str) -> String {
    if name == "network" || name == "mcp" {
        name.to_string()
    } else {
        format!("{name}.{op}")
    }
}

/// Whether the `mcp` policy entry `entry` admits `server` (a stdio
/// server's command or an HTTP server's URL): `*` admits every server; an
/// entry with `://` is a URL prefix; any other entry names a command, by
/// the command as written or by its file name (`node` admits
/// `/usr/bin/node`).
pub fn mcp_entry_matches(entry: &str, server: &str) -> bool {
    if entry == "*" || entry == server {
        return true;
    }
    if entry.contains("://") {
        return server.starts_with(entry);
    }
    if server.contains("://") {
        return false;
    }
    Path::new(server).file_name().and_then(|f| f.to_str()) == Some(entry)
}

fn ops_of(name: &str) -> &'static [&'static str] {
    CAPABILITY_OPS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, ops)| *ops)
        .unwrap_or(&[])
}

/// The side-effect level a capability use implies.
pub fn level_of(name: &str, op: &str) -> SideEffectLevel {
    match (name, op) {
        ("fs", "read") => SideEffectLevel::ReadOnly,
        ("fs", _) => SideEffectLevel::WorkspaceWrite,
        ("process", _) => SideEffectLevel::ProcessExec,
        ("network", _) => SideEffectLevel::Network,
        _ => SideEffectLevel::None,
    }
}

/// `fs.write` → (`fs`, Some(`write`)); `network` → (`network`, None).
pub fn split_capability(cap: &str) -> Result<(&str, Option<&str>), String> {
    let (name, op) = match cap.split_once('.') {
        Some((n, o)) => (n, Some(o)),
        None => (cap, None),
    };
    let all: Vec<String> = CAPABILITY_OPS
        .iter()
        .flat_map(|(n, ops)| {
            let labels: Vec<String> = ops.iter().map(|o| capability_label(n, o)).collect();
            if labels.is_empty() {
                vec![n.to_string()]
            } else {
                labels
            }
        })
        .collect();
    let valid = CAPABILITY_OPS
        .iter()
        .any(|(n, ops)| *n == name && op.is_none_or(|o| ops.contains(&o)));
    if !valid {
        let mut msg = format!("unknown capability '{cap}'");
        if let Some(s) = did_you_mean(cap, all.iter().map(|s| s.as_str())) {
            msg.push_str(&format!(" (did you mean '{s}'?)"));
        } else {
            msg.push_str(&format!(" (known: {})", all.join(", ")));
        }
        return Err(msg);
    }
    Ok((name, op))
}

/// `path` with `.` and `..` components removed lexically (`..` at the root
/// stays at the root; a leading `..` of a relative path is kept). Symbolic
/// links are not consulted (see [`resolve_real`]).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The real location of `path`: symlinks resolved for the longest prefix
/// that exists, `..` folded for the rest.
pub fn resolve_real(path: &Path) -> PathBuf {
    let path = normalize(path);
    let mut existing = path.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return normalize(&out);
        }
        match (
            existing.file_name().map(|f| f.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path,
        }
    }
}

mod request;
pub use request::parse_policy_request;

#[cfg(test)]
mod tests;
