//! Issue 11 §2: a worker limited to `ws` with `process: []` wrote
//! `out.txt` in its git worktree, where `out.txt` was a committed symlink
//! to a file outside: the file outside was created. A committed `.weft`
//! symlink could also place the worktree itself outside the root.

use std::process::Command;

use super::*;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=T"])
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
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

fn repo_with(s: &Scene, link: &str, target: &Path) {
    git(&s.ws, &["init", "-q"]);
    s.write("ws/README", "repo\n");
    symlink(target, s.ws.join(link));
    git(&s.ws, &["add", "-A"]);
    git(&s.ws, &["commit", "-q", "-m", "hostile"]);
    std::fs::remove_file(s.ws.join(link)).unwrap();
}

#[test]
fn committed_symlink_in_a_worktree_cannot_write_outside() {
    let s = Scene::new();
    repo_with(&s, "out.txt", &s.outside.join("planted.txt"));
    let script = r#"
var tools = tool_registry()
tools = tool_define(tools, "write", "Writes out.txt", {
  parameters: {},
  handler: { args -> try { write_file("out.txt", "pwned"); "written" } catch e { e.category } },
})
llm_mock({match: "go", tool_calls: [{name: "write", arguments: {}}]})
llm_mock({match: "*", text: "finished"})
let h = spawn_worker({task: "go", tools: tools, wait: true,
  policy: {workspace_roots: ["ws"], capabilities: {process: []}},
  execution: {worktree: {repo: "ws", cleanup: "never"}}})
println(h.status, h.result.tool_calls[0].result)
"#;
    let out = s.run(script, &[], &[]);
    assert_eq!(ok_stdout(&out), "completed permission_denied\n");
    assert!(!s.outside.join("planted.txt").exists());
}

#[test]
fn committed_symlink_cannot_move_the_worktree_outside_the_root() {
    let s = Scene::new();
    repo_with(&s, ".weft", &s.outside);
    git(&s.ws, &["checkout", "-q", "--", ".weft"]);
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    let out = s.run(
        r#"println(try { spawn_worker({task: "go", execution: {worktree: {repo: "ws"}}}) } catch e { e.category })"#,
        &["--policy", "policy.json"],
        &[],
    );
    assert_eq!(ok_stdout(&out), "permission_denied\n");
    assert_eq!(std::fs::read_dir(&s.outside).unwrap().count(), 1);
}
