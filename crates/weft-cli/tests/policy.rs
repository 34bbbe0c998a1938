//! The root capability ceiling of `weft run`: `--deny CAP` and
//! `--policy FILE.json` are enforced by every capability builtin.

use std::path::Path;
use std::process::{Command, Output};

fn weft(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join(".state"))
        .output()
        .expect("run weft")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn deny_fs_write_blocks_writes_but_not_reads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "hello").unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        r#"println(read_file("in.txt"))
let r = try { write_file("out.txt", "x"); "written" } catch e { e.category + ": " + e.message }
println(r)
println(exists("out.txt"))
"#,
    )
    .unwrap();
    let out = weft(dir.path(), &["run", "--deny", "fs.write", "s.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("hello\npermission_denied: fs.write denied for "),
        "{stdout}"
    );
    assert!(stdout.ends_with("false\n"), "{stdout}");
    assert!(!dir.path().join("out.txt").exists());
}

#[test]
fn uncaught_denial_exits_1_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.wf"), "shell(\"echo hi\")\n").unwrap();
    let out = weft(dir.path(), &["run", "--deny", "process.exec", "s.wf"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error[permission_denied]: process.exec denied"),
        "{err}"
    );
    assert!(err.contains("--> s.wf:1:1"), "{err}");
}

#[test]
fn workspace_roots_stop_dotdot_and_symlink_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("docs")).unwrap();
    std::fs::write(work.join("docs/a.txt"), "inside").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), work.join("docs/link")).unwrap();
    std::fs::write(work.join("policy.json"), r#"{"workspace_roots": ["docs"]}"#).unwrap();
    std::fs::write(
        work.join("s.wf"),
        r#"println(read_file("docs/a.txt"))
for p in ["../secret.txt", "docs/../../secret.txt", "docs/link/secret.txt", "policy.json"] {
  println(try { read_file(p) } catch e { e.category })
}
"#,
    )
    .unwrap();
    let out = weft(&work, &["run", "--policy", "policy.json", "s.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "inside\npermission_denied\npermission_denied\npermission_denied\npermission_denied\n"
    );
}

#[test]
fn side_effect_level_in_a_policy_file_limits_processes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.json"),
        r#"{"side_effect_level": "read_only"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.wf"),
        "println(try { shell(\"true\") } catch e { e.message })\n",
    )
    .unwrap();
    let out = weft(dir.path(), &["run", "--policy", "p.json", "s.wf"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("needs side_effect_level process_exec, the policy allows at most read_only"),
        "{stdout}{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_policy_files_and_capabilities_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.wf"), "println(1)\n").unwrap();
    std::fs::write(dir.path().join("p.json"), r#"{"tols": ["x"]}"#).unwrap();
    let out = weft(dir.path(), &["run", "--policy", "p.json", "s.wf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean 'tools'"),
        "{}",
        text(&out.stderr)
    );
    let out = weft(dir.path(), &["run", "--policy", "missing.json", "s.wf"]);
    assert_eq!(out.status.code(), Some(2));
    let out = weft(dir.path(), &["run", "--deny", "fs.wirte", "s.wf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("fs.write"),
        "{}",
        text(&out.stderr)
    );
}
