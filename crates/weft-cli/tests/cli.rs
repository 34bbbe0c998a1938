//! Integration tests of the `weft` command line: flags, usage errors and
//! exit statuses of `run`, `check` and `disasm`.

use std::fs;
use std::process::{Command, Output};

use tempfile::TempDir;

fn weft(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("WEFT_STATE_DIR")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn version_and_help() {
    let dir = dir_with(&[]);
    let out = weft(&dir, &["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("weft {}", env!("CARGO_PKG_VERSION"))
    );

    let out = weft(&dir, &["help", "run"]);
    assert_eq!(out.status.code(), Some(0));
    for flag in [
        "--state-dir",
        "--max-workers",
        "--policy",
        "--fresh",
        "--deny",
        "--llm-fixture",
        "--llm-record",
        "--events",
        "--progress",
        "--max-steps",
    ] {
        assert!(stdout(&out).contains(flag), "help lacks {flag}");
    }
}

#[test]
fn usage_errors_exit_two() {
    let dir = dir_with(&[("ok.wf", "let x = 1\n")]);
    for args in [
        &["run"][..],
        &["run", "missing.wf"],
        &["run", "."],
        &["check"],
        &["check", "ok.wf", "missing.wf"],
        &["disasm", "missing.wf"],
        &["run", "--max-steps", "lots", "ok.wf"],
        &["run", "--max-workers", "0", "ok.wf"],
        &["frobnicate"],
    ] {
        let out = weft(&dir, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "weft {args:?}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).starts_with("error:"),
            "weft {args:?}: {}",
            stderr(&out)
        );
    }
    let out = weft(&dir, &["run", "missing.wf"]);
    assert_eq!(
        stderr(&out),
        "error: cannot find 'missing.wf': no such file\n"
    );
}

#[test]
fn unknown_capability_gets_a_suggestion() {
    let dir = dir_with(&[("ok.wf", "let x = 1\n")]);
    let out = weft(&dir, &["run", "--deny", "fs.raed", "ok.wf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown capability 'fs.raed' (did you mean 'fs.read'?)"),
        "{err}"
    );
    assert!(err.contains("workers.spawn"), "{err}");
}

#[test]
fn worker_flags_are_accepted() {
    let dir = dir_with(&[("ok.wf", "let x = 1\n"), ("p.json", "{}")]);
    for args in [
        &["--events"][..],
        &["--progress"],
        &["--fresh"],
        &["--max-workers", "4"],
    ] {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push("ok.wf");
        let out = weft(&dir, &all);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        // Not a terminal: --progress draws nothing; no workers, no events.
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

#[test]
fn parsed_only_flags_are_accepted() {
    let dir = dir_with(&[("ok.wf", "let x = 1\n")]);
    let out = weft(
        &dir,
        &[
            "run",
            "--max-steps",
            "1000000",
            "--state-dir",
            "st",
            "ok.wf",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn run_passes_arguments_and_reports_uncaught_errors() {
    let dir = dir_with(&[
        ("args.wf", "println(argv)\n"),
        ("boom.wf", "println(\"start\")\nthrow \"oops\"\n"),
    ]);
    let out = weft(&dir, &["run", "args.wf", "--", "a", "--b"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[\"a\", \"--b\"]\n");

    let out = weft(&dir, &["run", "boom.wf"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "start\n");
    assert!(
        stderr(&out).starts_with("error[thrown]: oops"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_reports_every_failing_file() {
    let dir = dir_with(&[
        ("good.wf", "fn f(x) { x + 1 }\nprintln(f(1))\n"),
        ("bad1.wf", "println(undefined_thing)\n"),
        ("bad2.wf", "let x = 1\nx = 2\n"),
    ]);
    let out = weft(&dir, &["check", "good.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "check runs nothing");
    assert_eq!(stderr(&out), "");

    let out = weft(&dir, &["check", "bad1.wf", "good.wf", "bad2.wf"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("undefined variable 'undefined_thing'"),
        "{err}"
    );
    assert!(
        err.contains("cannot assign to immutable binding 'x'"),
        "{err}"
    );
    assert!(err.contains("bad1.wf:1:9"), "{err}");
}

#[test]
fn deeply_nested_input_does_not_crash() {
    let depth = 20_000;
    let source = format!(
        "let x = {}1{}\nprintln(x)\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let dir = dir_with(&[("deep.wf", &source)]);
    for command in ["run", "check", "disasm"] {
        let out = weft(&dir, &[command, "deep.wf"]);
        // Either it works or it is a clean diagnostic; never a crash.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "weft {command}: {:?}\n{}",
            out.status,
            stderr(&out)
        );
    }
}

#[test]
fn hello_example_prints_its_tour() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", "examples/hello.wf"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Hello, Ada the engineer! (steady)\n\
         Hello, Grace the admiral! (busy)\n\
         Hello, Linus the maintainer! (light)\n\
         3 people, 15 tasks; busiest: Grace\n\
         initials: AGL\n"
    );
}

/// `weft disasm` lists the code `weft run` executes: a top-level `var`
/// that no function reads lives in a frame slot, not in a global.
#[test]
fn disasm_shows_top_level_vars_as_run_compiles_them() {
    let dir = dir_with(&[(
        "loop.wf",
        "var s = 0\nvar i = 0\nwhile i < 10 {\n  s += i\n  i += 1\n}\nprintln(s)\n",
    )]);
    let out = weft(&dir, &["disasm", "loop.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(
        !listing.contains("Global"),
        "top-level vars compiled as globals:\n{listing}"
    );
    assert!(listing.contains("slots=2"), "{listing}");
}
