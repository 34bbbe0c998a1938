//! Git worktrees for workers (workers.md §4, `execution.worktree`): the
//! parsed [`WorktreeSpec`], its creation with `git worktree add -b BRANCH
//! PATH BASE_REF` before the worker starts, and the [`Worktree`] handle
//! whose [`Worktree::finish`] applies the cleanup mode (`always`,
//! `on_success`, `never`) when the worker ends.
//!
//! A worktree with uncommitted changes (`git status --porcelain` prints
//! anything, untracked files included) is never removed; `finish` then
//! returns the note `"uncommitted changes"` for the handle's
//! `execution.worktree_kept`. Removal removes the worktree directory only:
//! the branch, with whatever the worker committed, stays.
//!
//! git runs as an async child process (`tokio::process`) in the repository
//! directory with the spawner's environment overlay; a failing git command
//! is an `io_error` carrying git's stderr.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use weft_vm::context::{Capability, TaskContext};
use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::policy::normalize;
use weft_vm::value::{dict_from, Value};

use super::{enum_name, parse_enum, parse_name, wrong_type};
use crate::tools::keys::{check_keys, unknown_key};

/// When a worker's worktree is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cleanup {
    /// Whenever the worker ends.
    Always,
    /// When the worker ends successfully.
    #[default]
    OnSuccess,
    /// Never.
    Never,
}

impl Cleanup {
    const TABLE: &'static [(&'static str, Cleanup)] = &[
        ("always", Cleanup::Always),
        ("on_success", Cleanup::OnSuccess),
        ("never", Cleanup::Never),
    ];

    pub fn name(self) -> &'static str {
        enum_name(self, Self::TABLE)
    }
}

/// The parsed `execution.worktree` option. `branch` and `path` default to
/// names derived from the worker id, filled in by
/// [`branch_for`](Self::branch_for) / [`path_for`](Self::path_for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorktreeSpec {
    /// The repository, relative to the spawner's cwd (default `.`).
    pub repo: String,
    /// What the new branch starts from (default `HEAD`).
    pub base_ref: String,
    /// The new branch (default `weft/<worker id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Where the worktree goes, relative to the repository directory
    /// (default `.weft/worktrees/<worker id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub cleanup: Cleanup,
}

impl Default for WorktreeSpec {
    fn default() -> Self {
        WorktreeSpec {
            repo: ".".into(),
            base_ref: "HEAD".into(),
            branch: None,
            path: None,
            cleanup: Cleanup::OnSuccess,
        }
    }
}

/// The keys of the `execution.worktree` dict.
pub const WORKTREE_KEYS: &[&str] = &["repo", "base_ref", "branch", "path", "cleanup"];

impl WorktreeSpec {
    /// Parses `execution.worktree`: a dict, `true` (all defaults), or
    /// `nil`/`false` (no worktree).
    pub fn parse(v: &Value, who: &str) -> RtResult<Option<WorktreeSpec>> {
        let map = match v {
            Value::Nil | Value::Bool(false) => return Ok(None),
            Value::Bool(true) => return Ok(Some(WorktreeSpec::default())),
            Value::Dict(m) => m,
            other => return Err(wrong_type("execution.worktree", "a dict or a bool", other)),
        };
        check_keys(map, who, "execution.worktree", WORKTREE_KEYS)?;
        let mut w = WorktreeSpec::default();
        for (k, v) in map.iter() {
            if v.is_nil() {
                continue;
            }
            let path = format!("execution.worktree.{k}");
            match k.as_str() {
                "repo" => w.repo = parse_name(v, &path)?,
                "base_ref" => w.base_ref = parse_name(v, &path)?,
                "branch" => w.branch = Some(parse_name(v, &path)?),
                "path" => w.path = Some(parse_name(v, &path)?),
                "cleanup" => w.cleanup = parse_enum(v, &path, Cleanup::TABLE)?,
                other => return Err(unknown_key(who, "execution.worktree", other, WORKTREE_KEYS)),
            }
        }
        Ok(Some(w))
    }

    /// The dict form; `branch` and `path` are `nil` when defaulted.
    pub fn to_value(&self) -> Value {
        let opt = |s: &Option<String>| s.as_deref().map(Value::str).unwrap_or(Value::Nil);
        dict_from([
            ("repo", Value::str(self.repo.as_str())),
            ("base_ref", Value::str(self.base_ref.as_str())),
            ("branch", opt(&self.branch)),
            ("path", opt(&self.path)),
            ("cleanup", Value::str(self.cleanup.name())),
        ])
    }

    /// The branch for worker `worker_id`.
    pub fn branch_for(&self, worker_id: &str) -> String {
        self.branch
            .clone()
            .unwrap_or_else(|| format!("weft/{worker_id}"))
    }

    /// The worktree path (as written, relative to the repository) for
    /// worker `worker_id`.
    pub fn path_for(&self, worker_id: &str) -> String {
        self.path
            .clone()
            .unwrap_or_else(|| format!(".weft/worktrees/{worker_id}"))
    }

    /// Creates the worktree for worker `worker_id`: `git worktree add -b
    /// BRANCH PATH BASE_REF`, run in the repository (resolved against the
    /// spawner's cwd) with the spawner's environment overlay. Needs the
    /// spawner's `process.exec` and `fs.write` (on the worktree path)
    /// capabilities.
    pub async fn create(&self, spawner: &TaskContext, worker_id: &str) -> RtResult<Worktree> {
        let repo = normalize(&spawner.resolve_path(&self.repo));
        match std::fs::metadata(&repo) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(value_error(format!(
                    "execution.worktree.repo '{}' is not a directory",
                    repo.display()
                )))
            }
            Err(_) => {
                return Err(value_error(format!(
                    "execution.worktree.repo '{}' does not exist",
                    repo.display()
                )))
            }
        }
        let path = normalize(&repo.join(self.path_for(worker_id)));
        spawner.check_capability(Capability::ProcessExec, "git")?;
        // git resolves the path by name: every directory on the way beneath
        // the root must be a real directory, not a (committed) symlink.
        let target = spawner.fs_target_abs(Capability::FsWrite, &path)?;
        target.check_plain_dir_path().map_err(|e| {
            weft_vm::context::fs_error("execution.worktree", "use", Capability::FsWrite, &target, e)
        })?;
        let branch = self.branch_for(worker_id);
        let path_arg = path.to_string_lossy();
        // A crash between `git worktree add` and the worker's first
        // snapshot leaves this very worktree behind (same path, same
        // branch): the re-run takes it over instead of failing on the
        // existing branch.
        let made = Worktree {
            repo: repo.clone(),
            path: path.clone(),
            branch: branch.clone(),
            base_ref: self.base_ref.clone(),
            cleanup: self.cleanup,
            env: spawner.env.clone(),
        };
        if registered(&repo, &spawner.env, &path, &branch).await {
            return Ok(made);
        }
        // A crash in the middle of `git worktree add` can leave the new
        // branch without its worktree: a branch still at the base commit
        // holds nothing, so it is checked out instead of created.
        let args: Vec<&str> =
            if untouched_branch(&repo, &spawner.env, &branch, &self.base_ref).await {
                let _ = git(&repo, &spawner.env, &["worktree", "prune"]).await;
                vec!["worktree", "add", "--", &path_arg, &branch]
            } else {
                vec![
                    "worktree",
                    "add",
                    "-b",
                    &branch,
                    "--",
                    &path_arg,
                    &self.base_ref,
                ]
            };
        git(&repo, &spawner.env, &args).await?;
        Ok(made)
    }
}

/// Whether `branch` exists and points at the commit `base_ref` names.
async fn untouched_branch(
    repo: &Path,
    env: &IndexMap<String, String>,
    branch: &str,
    base_ref: &str,
) -> bool {
    let commit = |r: String| async move {
        git(repo, env, &["rev-parse", "--verify", "--quiet", &r])
            .await
            .ok()
            .map(|s| s.trim().to_string())
    };
    match (
        commit(format!("refs/heads/{branch}")).await,
        commit(format!("{base_ref}^{{commit}}")).await,
    ) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

/// Whether `repo` has a worktree at `path` checked out on `branch`
/// (`git worktree list --porcelain`).
async fn registered(
    repo: &Path,
    env: &IndexMap<String, String>,
    path: &Path,
    branch: &str,
) -> bool {
    if !path.is_dir() {
        return false;
    }
    let Ok(list) = git(repo, env, &["worktree", "list", "--porcelain"]).await else {
        return false;
    };
    let want_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let want_branch = format!("branch refs/heads/{branch}");
    list.split("\n\n").any(|block| {
        let mut lines = block.lines();
        let at = lines
            .next()
            .and_then(|l| l.strip_prefix("worktree "))
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p)));
        at.as_deref() == Some(want_path.as_path()) && block.lines().any(|l| l == want_branch)
    })
}

/// A worktree created for a worker. Serializable, so a snapshot can keep
/// it and a resumed worker can still clean it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worktree {
    /// The repository directory git ran in (absolute).
    pub repo: PathBuf,
    /// The worktree directory (absolute); the worker's cwd.
    pub path: PathBuf,
    pub branch: String,
    pub base_ref: String,
    pub cleanup: Cleanup,
    /// The spawner's environment overlay, used for every git command.
    #[serde(default, with = "super::env_serde")]
    pub env: IndexMap<String, String>,
}

/// The note [`Worktree::finish`] returns for a worktree kept because of
/// uncommitted changes.
pub const UNCOMMITTED: &str = "uncommitted changes";

impl Worktree {
    /// `{repo, path, branch, base_ref, cleanup}`.
    pub fn to_value(&self) -> Value {
        dict_from([
            ("repo", Value::str(self.repo.to_string_lossy().into_owned())),
            ("path", Value::str(self.path.to_string_lossy().into_owned())),
            ("branch", Value::str(self.branch.as_str())),
            ("base_ref", Value::str(self.base_ref.as_str())),
            ("cleanup", Value::str(self.cleanup.name())),
        ])
    }

    /// Whether the worktree has uncommitted changes (tracked or untracked).
    pub async fn is_dirty(&self) -> RtResult<bool> {
        let out = git(&self.path, &self.env, &["status", "--porcelain"]).await?;
        Ok(!out.trim().is_empty())
    }

    /// Applies the cleanup mode when the worker ends (`success`: it
    /// completed). Returns why a worktree that was due for removal was kept:
    /// [`UNCOMMITTED`] when it has uncommitted changes, or the failing git
    /// command's message; `None` when it was removed, or kept because the
    /// mode says so (`never`, `on_success` after a failure).
    pub async fn finish(&self, success: bool) -> Option<String> {
        let remove = match self.cleanup {
            Cleanup::Always => true,
            Cleanup::OnSuccess => success,
            Cleanup::Never => false,
        };
        if !remove {
            return None;
        }
        if !self.path.is_dir() {
            // Already gone: only git's bookkeeping is left to drop.
            return git(&self.repo, &self.env, &["worktree", "prune"])
                .await
                .err()
                .map(|e| e.message());
        }
        match self.is_dirty().await {
            Ok(true) => return Some(UNCOMMITTED.to_string()),
            Ok(false) => {}
            Err(e) => return Some(e.message()),
        }
        let path = self.path.to_string_lossy();
        git(&self.repo, &self.env, &["worktree", "remove", "--", &path])
            .await
            .err()
            .map(|e| e.message())
    }

    /// Removes the worktree and its branch whatever they hold: for a
    /// worker that never started (its setup failed after the worktree was
    /// made). Best effort; errors are ignored.
    pub async fn discard(&self) {
        let path = self.path.to_string_lossy();
        let _ = git(
            &self.repo,
            &self.env,
            &["worktree", "remove", "--force", "--", &path],
        )
        .await;
        let _ = git(&self.repo, &self.env, &["branch", "-D", "--", &self.branch]).await;
    }
}

/// Runs `git ARGS` in `dir` with the environment overlay `env`; returns
/// its stdout. A non-zero exit is an `io_error`: `git worktree add failed:
/// <git's stderr>`.
pub async fn git(dir: &Path, env: &IndexMap<String, String>, args: &[&str]) -> RtResult<String> {
    let what: Vec<&str> = args.iter().take(2).copied().collect();
    let what = format!("git {}", what.join(" "));
    let out = tokio::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(env)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| {
            RtError::new(
                "io_error",
                format!("{what}: cannot run git in '{}': {e}", dir.display()),
            )
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        let reason = if stderr.is_empty() {
            format!("exit status {}", out.status.code().unwrap_or(-1))
        } else {
            stderr.to_string()
        };
        return Err(RtError::new("io_error", format!("{what} failed: {reason}")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ExecutionProfile;
    use crate::profile::OrPanic;
    use std::process::Command;
    use std::rc::Rc;
    use weft_vm::policy::CapabilityPolicy;
    use weft_vm::value::from_json;

    /// Runs git synchronously for test setup, with an identity so it works
    /// without any git configuration.
    fn sh_git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.email=weft@example.com", "-c", "user.name=Weft"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A temporary repository with one commit, or `None` without git.
    fn repo() -> Option<tempfile::TempDir> {
        if Command::new("git").arg("--version").output().is_err() {
            eprintln!("git not found: skipping");
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        sh_git(tmp.path(), &["init", "-q"]);
        std::fs::create_dir_all(tmp.path().join("src")).unwrap();
        std::fs::write(tmp.path().join("src/lib.txt"), "hello\n").unwrap();
        sh_git(tmp.path(), &["add", "."]);
        sh_git(tmp.path(), &["commit", "-q", "-m", "initial"]);
        Some(tmp)
    }

    fn ctx(cwd: &Path) -> TaskContext {
        TaskContext {
            cwd: cwd.to_path_buf(),
            env: IndexMap::new(),
            policy: Rc::new(CapabilityPolicy::allow_all()),
            session_events: None,
            budget: None,
        }
    }

    fn profile(j: serde_json::Value) -> ExecutionProfile {
        ExecutionProfile::parse(&from_json(j), "spawn_worker").or_panic()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Creates the worktree of `cleanup` mode for worker `id`.
    fn make(dir: &Path, id: &str, cleanup: &str) -> (TaskContext, Worktree) {
        let p = profile(serde_json::json!({"worktree": {"cleanup": cleanup}}));
        let (child, wt) = block_on(p.apply(&ctx(dir), id)).or_panic();
        (child, wt.unwrap())
    }

    fn branches(dir: &Path) -> String {
        sh_git(dir, &["branch", "--list"])
    }

    #[test]
    fn creates_a_worktree_as_the_cwd() {
        let Some(tmp) = repo() else { return };
        let (child, wt) = make(tmp.path(), "w_1", "on_success");
        let expected = tmp.path().join(".weft/worktrees/w_1");
        assert_eq!(wt.path, expected);
        assert_eq!(child.cwd, expected);
        assert_eq!(wt.branch, "weft/w_1");
        assert_eq!(wt.repo, tmp.path());
        assert_eq!(
            std::fs::read_to_string(expected.join("src/lib.txt")).unwrap(),
            "hello\n"
        );
        assert!(branches(tmp.path()).contains("weft/w_1"));
        let head = sh_git(&expected, &["rev-parse", "--abbrev-ref", "HEAD"]);
        assert_eq!(head.trim(), "weft/w_1");
        let v = wt.to_value();
        let Value::Dict(d) = &v else { panic!() };
        assert_eq!(
            weft_vm::value::dict_get(d, "branch").and_then(Value::as_str),
            Some("weft/w_1")
        );
        // Serializable for snapshots.
        let json = serde_json::to_string(&wt).unwrap();
        assert_eq!(serde_json::from_str::<Worktree>(&json).unwrap(), wt);
    }

    /// A crash after `git worktree add` and before the worker's first
    /// snapshot: the re-run's new worker takes over the same worktree.
    #[test]
    fn the_worktree_a_crash_left_is_taken_over() {
        let Some(tmp) = repo() else { return };
        let p = profile(serde_json::json!({"worktree": {
            "branch": "weft/fix", "path": ".weft/worktrees/fix", "cleanup": "never"}}));
        let (_, first) = block_on(p.apply(&ctx(tmp.path()), "w_a")).or_panic();
        let first = first.unwrap();
        std::fs::write(first.path.join("src/lib.txt"), "edited\n").unwrap();
        let (child, again) = block_on(p.apply(&ctx(tmp.path()), "w_b")).or_panic();
        let again = again.unwrap();
        assert_eq!(again.path, first.path);
        assert_eq!(again.branch, "weft/fix");
        assert_eq!(child.cwd, first.path);
        assert_eq!(
            std::fs::read_to_string(again.path.join("src/lib.txt")).unwrap(),
            "edited\n"
        );
        // A crash inside `git worktree add` can leave only the branch: one
        // still at the base commit is checked out; one with work is not
        // touched.
        sh_git(tmp.path(), &["branch", "weft/left"]);
        let left = profile(serde_json::json!({"worktree": {
            "branch": "weft/left", "path": ".weft/worktrees/left"}}));
        let (_, wt) = block_on(left.apply(&ctx(tmp.path()), "w_d")).or_panic();
        assert!(wt.unwrap().path.join("src/lib.txt").exists());
        sh_git(tmp.path(), &["branch", "weft/worked"]);
        sh_git(tmp.path(), &["commit", "-q", "--allow-empty", "-m", "more"]);
        sh_git(tmp.path(), &["branch", "-f", "weft/worked", "HEAD"]);
        sh_git(tmp.path(), &["reset", "-q", "--hard", "HEAD~1"]);
        let worked = profile(serde_json::json!({"worktree": {
            "branch": "weft/worked", "path": ".weft/worktrees/worked"}}));
        let e = block_on(worked.apply(&ctx(tmp.path()), "w_e")).unwrap_err();
        assert!(e.message().contains("already exists"), "{}", e.message());
        // Another path on the same branch is still git's error.
        let other = profile(serde_json::json!({"worktree": {
            "branch": "weft/fix", "path": ".weft/worktrees/other"}}));
        let e = block_on(other.apply(&ctx(tmp.path()), "w_c")).unwrap_err();
        assert!(
            e.message().contains("is already used by worktree"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn explicit_branch_path_base_ref_and_cwd_inside() {
        let Some(tmp) = repo() else { return };
        sh_git(tmp.path(), &["branch", "base"]);
        let sub = tmp.path().join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        // repo is relative to the spawner's cwd; cwd is inside the worktree.
        let p = profile(serde_json::json!({
            "cwd": "src",
            "env": {"X": "1"},
            "worktree": {"repo": "..", "base_ref": "base", "branch": "feature/x",
                         "path": "../wt-x", "cleanup": "always"}
        }));
        let (child, wt) = block_on(p.apply(&ctx(&sub), "w_2")).or_panic();
        let wt = wt.unwrap();
        let wt_dir = tmp.path().parent().unwrap().join("wt-x");
        assert_eq!(wt.path, wt_dir);
        assert_eq!(child.cwd, wt_dir.join("src"));
        assert_eq!(child.env_var("X").as_deref(), Some("1"));
        assert_eq!(wt.branch, "feature/x");
        assert_eq!(block_on(wt.finish(true)), None);
        assert!(!wt_dir.exists());
        // The branch (with the worker's commits) stays.
        assert!(branches(tmp.path()).contains("feature/x"));
    }

    #[test]
    fn a_missing_cwd_inside_the_worktree_discards_it() {
        let Some(tmp) = repo() else { return };
        let p = profile(serde_json::json!({"cwd": "nope", "worktree": {}}));
        let e = block_on(p.apply(&ctx(tmp.path()), "w_3")).unwrap_err();
        assert_eq!(e.category(), "value_error");
        assert!(e.message().contains("does not exist"), "{}", e.message());
        assert!(!tmp.path().join(".weft/worktrees/w_3").exists());
        assert!(!branches(tmp.path()).contains("weft/w_3"));
    }

    #[test]
    fn cleanup_always_removes() {
        let Some(tmp) = repo() else { return };
        let (_, wt) = make(tmp.path(), "w_a", "always");
        assert!(wt.path.is_dir());
        assert_eq!(block_on(wt.finish(false)), None);
        assert!(!wt.path.exists());
        let list = sh_git(tmp.path(), &["worktree", "list"]);
        assert!(!list.contains("w_a"), "{list}");
    }

    #[test]
    fn cleanup_on_success() {
        let Some(tmp) = repo() else { return };
        let (_, ok) = make(tmp.path(), "w_ok", "on_success");
        assert_eq!(block_on(ok.finish(true)), None);
        assert!(!ok.path.exists());
        let (_, failed) = make(tmp.path(), "w_failed", "on_success");
        assert_eq!(block_on(failed.finish(false)), None);
        assert!(failed.path.is_dir());
    }

    #[test]
    fn cleanup_never_keeps() {
        let Some(tmp) = repo() else { return };
        let (_, wt) = make(tmp.path(), "w_n", "never");
        assert_eq!(block_on(wt.finish(true)), None);
        assert!(wt.path.is_dir());
    }

    #[test]
    fn uncommitted_changes_are_never_removed() {
        let Some(tmp) = repo() else { return };
        // A modified tracked file.
        let (_, wt) = make(tmp.path(), "w_mod", "always");
        std::fs::write(wt.path.join("src/lib.txt"), "changed\n").unwrap();
        assert!(block_on(wt.is_dirty()).or_panic());
        assert_eq!(block_on(wt.finish(true)).as_deref(), Some(UNCOMMITTED));
        assert!(wt.path.join("src/lib.txt").exists());
        // An untracked file.
        let (_, wt) = make(tmp.path(), "w_new", "on_success");
        std::fs::write(wt.path.join("notes.md"), "draft").unwrap();
        assert_eq!(
            block_on(wt.finish(true)).as_deref(),
            Some("uncommitted changes")
        );
        assert!(wt.path.join("notes.md").exists());
        // Committed work is not "uncommitted": removed, the branch keeps it.
        let (_, wt) = make(tmp.path(), "w_commit", "on_success");
        std::fs::write(wt.path.join("done.txt"), "done").unwrap();
        sh_git(&wt.path, &["add", "."]);
        sh_git(&wt.path, &["commit", "-q", "-m", "work"]);
        assert!(!block_on(wt.is_dirty()).or_panic());
        assert_eq!(block_on(wt.finish(true)), None);
        assert!(!wt.path.exists());
        let files = sh_git(tmp.path(), &["ls-tree", "--name-only", "weft/w_commit"]);
        assert!(files.contains("done.txt"), "{files}");
    }

    #[test]
    fn a_vanished_worktree_is_pruned() {
        let Some(tmp) = repo() else { return };
        let (_, wt) = make(tmp.path(), "w_gone", "always");
        std::fs::remove_dir_all(&wt.path).unwrap();
        assert_eq!(block_on(wt.finish(true)), None);
        let list = sh_git(tmp.path(), &["worktree", "list"]);
        assert!(!list.contains("w_gone"), "{list}");
    }

    #[test]
    fn failing_git_is_an_io_error_with_its_stderr() {
        let Some(tmp) = repo() else { return };
        let p = profile(serde_json::json!({"worktree": {"base_ref": "no-such-ref"}}));
        let e = block_on(p.apply(&ctx(tmp.path()), "w_bad")).unwrap_err();
        assert_eq!(e.category(), "io_error");
        assert!(
            e.message().starts_with("git worktree add failed: fatal: "),
            "{}",
            e.message()
        );
        assert!(e.message().contains("no-such-ref"), "{}", e.message());
        assert!(!tmp.path().join(".weft/worktrees/w_bad").exists());
        // Not a repository at all.
        let plain = tempfile::tempdir().unwrap();
        let p = profile(serde_json::json!({"worktree": true}));
        let e = block_on(p.apply(&ctx(plain.path()), "w_x")).unwrap_err();
        assert_eq!(e.category(), "io_error");
        assert!(
            e.message().to_lowercase().contains("not a git repository"),
            "{}",
            e.message()
        );
        // A missing repo directory is the script's mistake.
        let p = profile(serde_json::json!({"worktree": {"repo": "missing"}}));
        let e = block_on(p.apply(&ctx(plain.path()), "w_y")).unwrap_err();
        assert_eq!(e.category(), "value_error");
    }

    #[test]
    fn needs_the_spawners_process_exec() {
        let Some(tmp) = repo() else { return };
        let mut policy = CapabilityPolicy::allow_all();
        policy.deny("process.exec").unwrap();
        let mut c = ctx(tmp.path());
        c.policy = Rc::new(policy);
        let p = profile(serde_json::json!({"worktree": true}));
        let e = block_on(p.apply(&c, "w_p")).unwrap_err();
        assert_eq!(e.category(), "permission_denied");
        assert!(!tmp.path().join(".weft").exists());
    }
}
