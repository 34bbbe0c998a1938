//! The root capability ceiling of an engine ([`Policy`], workers.md §3) and
//! the capabilities a host can deny ([`Capability`]). Every task of a run,
//! the main script included, is confined by it; workers can only narrow it.

use std::fmt;
use std::path::Path;

use weft_vm::policy::{CapabilityPolicy, SideEffectLevel, parse_policy_request};

use crate::error::{Error, Result};

/// A capability a script's builtins check before acting: `fs.read`,
/// `fs.write`, `process.exec`, `network`, `llm.call`, `workers.spawn`,
/// `mcp`, and `env` (reading process environment variables).
///
/// ```
/// use weft::Capability;
/// assert_eq!(Capability::parse("fs.write"), Ok(Capability::FsWrite));
/// assert_eq!(Capability::FsWrite.name(), "fs.write");
/// let err = Capability::parse("fs.wirte").unwrap_err();
/// assert!(err.contains("did you mean 'fs.write'?"));
/// assert_eq!(Capability::ALL.len(), 8);
/// ```
pub use weft_vm::context::Capability;

/// The root ceiling: which tools, capabilities, workspace roots and side
/// effect level the program's main task (and so every worker) may use.
///
/// ```
/// use weft::{Capability, Policy};
/// let p = Policy::read_only();
/// assert!(p.allows(Capability::FsRead) && !p.allows(Capability::FsWrite));
/// let p = Policy::from_json(r#"{"tools": ["read_file"], "side_effect_level": "read_only"}"#)?;
/// assert!(!p.allows(Capability::Network));
/// let p = Policy::unrestricted().deny(Capability::Network);
/// assert!(p.allows(Capability::FsWrite) && !p.allows(Capability::Network));
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Policy(pub(crate) CapabilityPolicy);

impl Policy {
    /// Everything allowed (the default, like `weft run`).
    pub fn unrestricted() -> Policy {
        Policy(CapabilityPolicy::allow_all())
    }

    /// Reading files and calling models only: no file writes, processes,
    /// network or workers with more rights.
    pub fn read_only() -> Policy {
        let mut p = CapabilityPolicy::allow_all();
        p.side_effect_level = SideEffectLevel::ReadOnly;
        Policy(p).narrow(&["fs.write", "process", "network"])
    }

    fn narrow(mut self, caps: &[&str]) -> Policy {
        for cap in caps {
            // The names are known, so `deny` cannot fail.
            let _ = self.0.deny(cap);
        }
        self
    }

    /// A policy from its JSON form (the `--policy FILE.json` format,
    /// workers.md §3: `tools`, `capabilities`, `workspace_roots`,
    /// `side_effect_level`, `max_depth`, `env`: the process environment
    /// variables `env()` may read, docs/security.md; and `approve`: the
    /// builtins and `tool:NAME` tools that ask a human first,
    /// docs/approval-decisions.md). It narrows "allow everything";
    /// relative workspace roots resolve against the current directory.
    /// Unknown keys get a did-you-mean.
    pub fn from_json(text: &str) -> Result<Policy> {
        Policy::parse(text, "policy")
    }

    /// [`Policy::from_json`] of a file's contents; messages name the file
    /// (`policy file p.json: unknown key 'tols' (did you mean 'tools'?)`).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Policy> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                "io_error",
                format!("cannot read policy file {}: {e}", path.display()),
            )
        })?;
        Policy::parse(&text, &format!("policy file {}", path.display()))
    }

    fn parse(text: &str, who: &str) -> Result<Policy> {
        let value = weft_vm::value::parse_json(text)
            .map_err(|e| Error::value(format!("{who} is not valid JSON: {e}")))?;
        let request = parse_policy_request(&value, who).map_err(Error::value)?;
        // `approve` names builtins (the VM's and the agents'), or tools.
        let builtins: Vec<&'static str> = weft_vm::builtins::core_builtins()
            .iter()
            .chain(weft_agents::builtins().iter())
            .map(|d| d.name)
            .collect();
        for entry in request.approve.iter().flatten() {
            weft_vm::policy::check_approve_entry(entry, builtins.iter().copied())
                .map_err(|m| Error::value(format!("{who}: {m}")))?;
        }
        let cwd = std::env::current_dir().map_err(|e| {
            Error::new(
                "io_error",
                format!("cannot read the current directory: {e}"),
            )
        })?;
        CapabilityPolicy::root_from(&request, &cwd)
            .map(Policy)
            .map_err(|e| Error::value(format!("{who}: {e}")))
    }

    /// This policy without `cap`.
    pub fn deny(self, cap: Capability) -> Policy {
        self.narrow(&[cap.name()])
    }

    /// Whether `cap` is allowed (by the capability list and the side
    /// effect level; workspace roots are checked per path at use).
    pub fn allows(&self, cap: Capability) -> bool {
        if cap == Capability::Env {
            return self.0.env.as_ref().is_none_or(|names| !names.is_empty());
        }
        let (name, op) = match cap.name().split_once('.') {
            Some((name, op)) => (name, op),
            None if cap == Capability::Mcp => ("mcp", "*"),
            None => (cap.name(), "http"),
        };
        self.0.check(name, op, None).is_ok()
    }

    /// This policy with `env()` limited to the process environment
    /// variables `names` (the root default is any variable; workers get
    /// none unless their spawner grants them).
    ///
    /// ```
    /// use weft::Policy;
    /// let p = Policy::unrestricted().allow_env(["HOME", "LANG"]);
    /// assert!(p.allows_env("HOME") && !p.allows_env("OPENAI_API_KEY"));
    /// assert!(Policy::unrestricted().allows_env("OPENAI_API_KEY"));
    /// ```
    pub fn allow_env<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Policy {
        let names = names.into_iter().map(Into::into);
        self.0.env = Some(match self.0.env.take() {
            None => names.collect(),
            Some(have) => names.filter(|n| have.contains(n)).collect(),
        });
        self
    }

    /// Whether `env()` may read the process environment variable `name`.
    pub fn allows_env(&self, name: &str) -> bool {
        self.0.allows_env(name)
    }

    /// Whether the tool `name` may be offered to models.
    pub fn allows_tool(&self, name: &str) -> bool {
        self.0.allows_tool(name)
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::unrestricted()
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("tools", &self.0.tools)
            .field("capabilities", &self.0.capabilities)
            .field("workspace_roots", &self.0.workspace_roots)
            .field("side_effect_level", &self.0.side_effect_level.name())
            .field("max_depth", &self.0.max_depth)
            .field("env", &self.0.env)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_are_explained() {
        let e = Policy::from_json("{not json").unwrap_err();
        assert!(e.message().contains("not valid JSON"), "{e}");
        let e = Policy::from_json(r#"{"tols": []}"#).unwrap_err();
        assert!(e.message().contains("did you mean 'tools'"), "{e}");
    }

    #[test]
    fn every_capability_name_parses() {
        for cap in Capability::ALL {
            assert_eq!(Capability::parse(cap.name()), Ok(cap));
        }
        let e = Capability::parse("everything").unwrap_err();
        assert!(!e.contains("did you mean"));
        assert!(e.contains("fs.read, fs.write"));
    }
}
