//! The execution profile of a worker (workers.md §4): where it runs (`cwd`,
//! relative to the spawner's cwd), the environment overlay for everything
//! it runs (`env`), and optionally a git worktree made for it
//! (`worktree`, see [`super::worktree`]).
//!
//! Nothing here touches the process's own cwd or environment: the profile
//! produces the child's [`TaskContext`] (cwd and env overlay), which every
//! builtin of the worker consults. A worktree becomes the worker's cwd; a
//! `cwd` given together with a `worktree` is resolved inside the worktree.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use weft_vm::context::TaskContext;
use weft_vm::error::{value_error, RtResult};
use weft_vm::policy::normalize;
use weft_vm::value::{DictMap, Value};

use super::worktree::{Worktree, WorktreeSpec};
use super::{parse_name, wrong_type};
use crate::tools::keys::{check_keys, opt_type, unknown_key};

/// The parsed `execution` option.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutionProfile {
    /// The worker's cwd, relative to the spawner's cwd (or to the worktree).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Variables layered over the spawner's overlay.
    #[serde(with = "super::env_serde")]
    pub env: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<WorktreeSpec>,
}

/// The keys of the `execution` dict.
pub const EXECUTION_KEYS: &[&str] = &["cwd", "env", "worktree"];

impl ExecutionProfile {
    /// Parses the `execution` option (`nil` = run where the spawner runs).
    /// `who` names the builtin in unknown-key errors (`spawn_worker:
    /// unknown execution option 'cwdd' (did you mean 'cwd'?)`).
    pub fn parse(v: &Value, who: &str) -> RtResult<ExecutionProfile> {
        let mut p = ExecutionProfile::default();
        let map = match v {
            Value::Nil => return Ok(p),
            Value::Dict(m) => m,
            other => return Err(opt_type(who, "execution", "a dict", other)),
        };
        check_keys(map, who, "execution", EXECUTION_KEYS)?;
        for (k, v) in map.iter() {
            if v.is_nil() {
                continue;
            }
            match k.as_str() {
                "cwd" => p.cwd = Some(parse_name(v, "execution.cwd")?),
                "env" => p.env = parse_env(v)?,
                "worktree" => p.worktree = WorktreeSpec::parse(v, who)?,
                other => return Err(unknown_key(who, "execution", other, EXECUTION_KEYS)),
            }
        }
        Ok(p)
    }

    /// The dict form `{cwd, env, worktree}` (parses back to the same
    /// profile).
    pub fn to_value(&self) -> Value {
        let mut env = DictMap::default();
        for (k, v) in &self.env {
            env.insert(k.clone().into(), Value::str(v.as_str()));
        }
        weft_vm::value::dict_from([
            (
                "cwd",
                self.cwd.as_deref().map(Value::str).unwrap_or(Value::Nil),
            ),
            ("env", Value::dict(env)),
            (
                "worktree",
                self.worktree
                    .as_ref()
                    .map(WorktreeSpec::to_value)
                    .unwrap_or(Value::Nil),
            ),
        ])
    }

    /// The worker's cwd: `cwd` resolved against `base` (the spawner's cwd,
    /// or the worktree), which must be an existing directory; `base` itself
    /// without `cwd`.
    pub fn resolve_cwd(&self, base: &Path) -> RtResult<PathBuf> {
        let Some(cwd) = &self.cwd else {
            return Ok(base.to_path_buf());
        };
        let dir = normalize(&base.join(cwd));
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(dir),
            Ok(_) => Err(value_error(format!(
                "execution.cwd '{}' is not a directory",
                dir.display()
            ))),
            Err(_) => Err(value_error(format!(
                "execution.cwd '{}' does not exist",
                dir.display()
            ))),
        }
    }

    /// The child's context without creating anything: the parent's context
    /// with the cwd resolved against `base` (default: the parent's cwd) and
    /// this profile's env merged over the parent's overlay. The policy is
    /// the parent's, for the caller to replace.
    pub fn child_context(
        &self,
        parent: &TaskContext,
        base: Option<&Path>,
    ) -> RtResult<TaskContext> {
        let mut child = parent.clone();
        child.cwd = self.resolve_cwd(base.unwrap_or(&parent.cwd))?;
        for (k, v) in &self.env {
            child.env.insert(k.clone(), v.clone());
        }
        Ok(child)
    }

    /// Prepares the worker `worker_id` to run: creates its worktree, if
    /// any (before the worker starts), and returns the child's context —
    /// cwd = `cwd` resolved against the spawner's cwd, or against the
    /// worktree when there is one; env = this overlay merged over the
    /// spawner's; the spawner's policy left as is (the caller sets the
    /// child's). If the cwd is wrong after the worktree was made, the
    /// worktree and its branch are removed again.
    pub async fn apply(
        &self,
        parent: &TaskContext,
        worker_id: &str,
    ) -> RtResult<(TaskContext, Option<Worktree>)> {
        let Some(spec) = &self.worktree else {
            return Ok((self.child_context(parent, None)?, None));
        };
        let wt = spec.create(parent, worker_id).await?;
        match self.child_context(parent, Some(&wt.path)) {
            Ok(child) => Ok((child, Some(wt))),
            Err(e) => {
                wt.discard().await;
                Err(e)
            }
        }
    }
}

/// `execution.env`: a dict of strings with valid variable names.
fn parse_env(v: &Value) -> RtResult<IndexMap<String, String>> {
    let Value::Dict(map) = v else {
        return Err(wrong_type("execution.env", "a dict of strings", v));
    };
    let mut env = IndexMap::new();
    for (k, val) in map.iter() {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(value_error(format!(
                "execution.env: invalid variable name '{k}'"
            )));
        }
        match val {
            Value::Str(s) if s.contains('\0') => {
                return Err(value_error(format!(
                    "execution.env.{k} must not contain a NUL character"
                )))
            }
            Value::Str(s) => {
                env.insert(k.to_string(), s.to_string());
            }
            other => return Err(wrong_type(&format!("execution.env.{k}"), "a string", other)),
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Cleanup;
    use crate::profile::OrPanic;
    use std::rc::Rc;
    use weft_vm::policy::CapabilityPolicy;
    use weft_vm::value::from_json;

    fn parse(j: serde_json::Value) -> RtResult<ExecutionProfile> {
        ExecutionProfile::parse(&from_json(j), "spawn_worker")
    }

    fn err(j: serde_json::Value) -> (String, String) {
        let e = parse(j).unwrap_err();
        (e.category(), e.message())
    }

    fn ctx(cwd: &Path) -> TaskContext {
        let mut env = IndexMap::new();
        env.insert("A".to_string(), "parent".to_string());
        env.insert("B".to_string(), "parent".to_string());
        TaskContext {
            cwd: cwd.to_path_buf(),
            env,
            policy: Rc::new(CapabilityPolicy::allow_all()),
            session_events: None,
            budget: None,
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn parses() {
        assert_eq!(
            ExecutionProfile::parse(&Value::Nil, "spawn_worker").or_panic(),
            ExecutionProfile::default()
        );
        let p = parse(serde_json::json!({
            "cwd": "services/api", "env": {"RUST_LOG": "debug"},
            "worktree": {"base_ref": "main", "cleanup": "never"}
        }))
        .or_panic();
        assert_eq!(p.cwd.as_deref(), Some("services/api"));
        assert_eq!(p.env.get("RUST_LOG").map(String::as_str), Some("debug"));
        let w = p.worktree.clone().unwrap();
        assert_eq!(w.repo, ".");
        assert_eq!(w.base_ref, "main");
        assert_eq!(w.cleanup, Cleanup::Never);
        assert_eq!(w.branch_for("w_1"), "weft/w_1");
        assert_eq!(w.path_for("w_1"), ".weft/worktrees/w_1");
        let defaults = parse(serde_json::json!({"worktree": true})).or_panic();
        assert_eq!(defaults.worktree, Some(WorktreeSpec::default()));
        assert_eq!(defaults.worktree.unwrap().cleanup, Cleanup::OnSuccess);
        assert_eq!(
            parse(serde_json::json!({"worktree": false}))
                .or_panic()
                .worktree,
            None
        );
        // Round trips through the dict form and serde.
        assert_eq!(ExecutionProfile::parse(&p.to_value(), "x").or_panic(), p);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["worktree"]["cleanup"], "never");
        assert_eq!(serde_json::from_value::<ExecutionProfile>(json).unwrap(), p);
    }

    #[test]
    fn option_errors() {
        assert_eq!(
            err(serde_json::json!({"cwdd": "x"})),
            (
                "value_error".into(),
                "spawn_worker: unknown execution option 'cwdd' (did you mean 'cwd'?)".into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"worktree": {"clenup": "always"}})).1,
            "spawn_worker: unknown execution.worktree option 'clenup' (did you mean 'cleanup'?)"
        );
        assert_eq!(
            err(serde_json::json!({"worktree": {"cleanup": "sometimes"}})),
            (
                "value_error".into(),
                "execution.worktree.cleanup must be one of always, on_success, never; got 'sometimes'"
                    .into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"env": {"N": 1}})),
            (
                "type_error".into(),
                "execution.env.N must be a string; got 1".into()
            )
        );
        assert_eq!(
            err(serde_json::json!({"env": ["A=1"]})).1,
            "execution.env must be a dict of strings; got [\"A=1\"]"
        );
        assert_eq!(
            err(serde_json::json!({"env": {"A=B": "1"}})).1,
            "execution.env: invalid variable name 'A=B'"
        );
        assert_eq!(
            err(serde_json::json!({"cwd": 3})).1,
            "execution.cwd must be a string; got 3"
        );
        assert_eq!(
            err(serde_json::json!({"worktree": {"branch": ""}})).1,
            "execution.worktree.branch must be a non-empty string; got ''"
        );
        assert_eq!(
            err(serde_json::json!({"worktree": "yes"})).1,
            "execution.worktree must be a dict or a bool; got 'yes'"
        );
        let e = ExecutionProfile::parse(&Value::str("x"), "spawn_worker").unwrap_err();
        assert_eq!(
            e.message(),
            "spawn_worker: option 'execution' must be a dict, got string"
        );
    }

    #[test]
    fn cwd_and_env() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("services/api")).unwrap();
        std::fs::write(tmp.path().join("file.txt"), "x").unwrap();
        let parent = ctx(tmp.path());
        let p = parse(serde_json::json!({
            "cwd": "services/./api", "env": {"B": "child", "C": "new"}
        }))
        .or_panic();
        let (child, wt) = block_on(p.apply(&parent, "w_1")).or_panic();
        assert!(wt.is_none());
        assert_eq!(child.cwd, tmp.path().join("services/api"));
        assert_eq!(child.env_var("A").as_deref(), Some("parent"));
        assert_eq!(child.env_var("B").as_deref(), Some("child"));
        assert_eq!(child.env_var("C").as_deref(), Some("new"));
        // The parent's context and policy are untouched.
        assert_eq!(parent.cwd, tmp.path());
        assert_eq!(parent.env.get("B").map(String::as_str), Some("parent"));
        assert!(Rc::ptr_eq(&child.policy, &parent.policy));
        // A relative cwd from a nested spawner.
        let nested = ctx(&tmp.path().join("services"));
        let p = parse(serde_json::json!({"cwd": "../services/api"})).or_panic();
        assert_eq!(
            p.child_context(&nested, None).or_panic().cwd,
            tmp.path().join("services/api")
        );
        // No profile: the spawner's cwd and env.
        let (same, _) = block_on(ExecutionProfile::default().apply(&parent, "w_2")).or_panic();
        assert_eq!(same.cwd, parent.cwd);
        assert_eq!(same.env, parent.env);
    }

    #[test]
    fn cwd_must_be_an_existing_directory() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("file.txt"), "x").unwrap();
        let parent = ctx(tmp.path());
        let missing = parse(serde_json::json!({"cwd": "nope"})).or_panic();
        let e = block_on(missing.apply(&parent, "w_1")).unwrap_err();
        assert_eq!(e.category(), "value_error");
        assert_eq!(
            e.message(),
            format!(
                "execution.cwd '{}' does not exist",
                tmp.path().join("nope").display()
            )
        );
        let file = parse(serde_json::json!({"cwd": "file.txt"})).or_panic();
        let e = file.child_context(&parent, None).unwrap_err();
        assert_eq!(e.category(), "value_error");
        assert!(
            e.message().ends_with("is not a directory"),
            "{}",
            e.message()
        );
    }
}
