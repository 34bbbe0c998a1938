//! Issue 11 §5: `resume_worker(path)` bypassed the fs rules — under
//! `--deny fs.read` it returned a file's content and was an existence
//! oracle for any path — and `resume_worker("/dev/zero")` read until memory
//! ran out. State files must be regular files of bounded size.

use super::*;

#[test]
fn resume_worker_paths_obey_fs_read() {
    let s = Scene::new();
    let snap = s.write(
        "elsewhere/x.json",
        r#"{"_type": "weft.worker", "version": 1, "id": "w_x", "secret": "TOP-SECRET"}"#,
    );
    let script = r#"
for p in ["PATH", "NOPE"] {
  let e = try { resume_worker(p); "resumed" } catch e { e }
  println(e.category)
  println(replace(e.message, p, "P"))
}
"#
    .replace("PATH", &snap.display().to_string())
    .replace(
        "NOPE",
        &s.dir.join("elsewhere/none.json").display().to_string(),
    );
    let stdout = ok_stdout(&s.run(&script, &["--deny", "fs.read"], &[]));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "permission_denied", "{stdout}");
    // The same answer whether the file exists or not: no oracle.
    assert_eq!(lines[0..2], lines[2..4], "{stdout}");
    assert!(!stdout.contains("TOP-SECRET"));
}

#[test]
fn resume_worker_paths_obey_the_roots() {
    let s = Scene::new();
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    let snap = s.write(
        "outside/w.json",
        r#"{"_type": "weft.worker", "version": 1}"#,
    );
    symlink(&snap, s.ws.join("w.json"));
    let script = r#"
println(try { resume_worker("outside/w.json") } catch e { e.category })
println(try { resume_worker("ws/w.json") } catch e { e.category })
"#;
    let out = s.run(script, &["--policy", "policy.json"], &[]);
    assert_eq!(ok_stdout(&out), "permission_denied\npermission_denied\n");
}

#[test]
fn special_files_are_errors_not_hangs() {
    let s = Scene::new();
    let workers = s.dir.join(".state/workers");
    std::fs::create_dir_all(&workers).unwrap();
    let fifo = std::ffi::CString::new(workers.join("w_fifo.json").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    symlink("/dev/zero", workers.join("w_zero.json"));
    let script = r#"
for t in ["/dev/zero", "w_fifo", "w_zero", "ws"] {
  let e = try { resume_worker(t); "resumed" } catch e { e }
  println(e.category, e.message)
}
"#;
    let stdout = ok_stdout(&s.run(script, &[], &[]));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].contains("Not a regular file"), "{stdout}");
    assert!(lines[1].contains("Not a regular file"), "{stdout}");
    assert!(lines[2].contains("cannot read"), "{stdout}");
    assert!(lines[3].contains("Is a directory"), "{stdout}");
}
