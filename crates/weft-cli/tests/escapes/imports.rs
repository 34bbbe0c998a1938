//! Issue 11 §5: an `import` of a file outside the roots was read, and its
//! first line printed in the diagnostic (a parse error's excerpt).

use super::*;

#[test]
fn imports_outside_the_roots_are_not_read() {
    let s = Scene::new();
    s.write("outside/m.wf", "TOP-SECRET line one @@@\n");
    s.write("ws/ok.wf", "pub fn f() { 1 }\n");
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    s.write(
        "ws/main.wf",
        "import { g } from \"../outside/m.wf\"\nprintln(g())\n",
    );
    let out = s.weft(&["run", "--policy", "policy.json", "ws/main.wf"], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error[permission_denied]"), "{err}");
    assert!(err.contains("outside the workspace roots"), "{err}");
    assert!(!err.contains("TOP-SECRET"), "{err}");
    // Through a symlink inside the root: same.
    symlink(s.outside.join("m.wf"), s.ws.join("link.wf"));
    s.write("ws/main2.wf", "import { g } from \"./link.wf\"\n");
    let out = s.weft(&["run", "--policy", "policy.json", "ws/main2.wf"], &[]);
    let err = text(&out.stderr);
    assert!(err.contains("error[permission_denied]"), "{err}");
    assert!(!err.contains("TOP-SECRET"), "{err}");
    // Imports inside the root work.
    s.write(
        "ws/main3.wf",
        "import { f } from \"./ok.wf\"\nprintln(f())\n",
    );
    let out = s.weft(&["run", "--policy", "policy.json", "ws/main3.wf"], &[]);
    assert_eq!(ok_stdout(&out), "1\n");
}

#[test]
fn imports_obey_deny_fs_read() {
    let s = Scene::new();
    s.write("m.wf", "TOP-SECRET @@@\n");
    s.write("main.wf", "import { g } from \"./m.wf\"\n");
    let out = s.weft(&["run", "--deny", "fs.read", "main.wf"], &[]);
    let err = text(&out.stderr);
    assert!(err.contains("error[permission_denied]"), "{err}");
    assert!(err.contains("fs.read"), "{err}");
    assert!(!err.contains("TOP-SECRET"), "{err}");
}
