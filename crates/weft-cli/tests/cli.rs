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

/// `local % int` and `local * int` are single instructions, listed by
/// `weft disasm` under their names.
#[test]
fn disasm_lists_fused_local_arithmetic() {
    let dir = dir_with(&[("f.wf", "fn f(x) { x % 7 + x * 3 }\nprintln(f(10))\n")]);
    let out = weft(&dir, &["disasm", "f.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(
        listing.contains("LoadLocalRemInt { slot: 0, n: 7 }"),
        "{listing}"
    );
    assert!(
        listing.contains("LoadLocalMulInt { slot: 0, n: 3 }"),
        "{listing}"
    );
    let out = weft(&dir, &["run", "f.wf"]);
    assert_eq!(stdout(&out), "33\n");
}

/// A dict pattern's fields compile to one `MatchField` each (test, read
/// and jump to the next arm in one instruction, no `IsDict`/`DictHas`), and
/// literal sub-patterns to a compare-and-jump; `weft disasm` shows them.
#[test]
fn disasm_lists_fused_dict_pattern_fields() {
    let src = "fn f(ev) { match ev { {kind: \"a\", x: x} -> x\n _ -> 0 } }\nprintln(f({kind: \"a\", x: 4}), f({kind: \"b\"}))\n";
    let dir = dir_with(&[("f.wf", src)]);
    let out = weft(&dir, &["disasm", "f.wf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(listing.contains("MatchField { slot: "), "{listing}");
    assert!(listing.contains("; \"kind\" else -> "), "{listing}");
    assert!(listing.contains("JumpIfNotEq("), "{listing}");
    assert!(!listing.contains("DictHas"), "{listing}");
    assert!(!listing.contains("IsDict"), "{listing}");
    let out = weft(&dir, &["run", "f.wf"]);
    assert_eq!(stdout(&out), "4 0\n");
}

/// `weft workers list|show|prune` and `weft runs ...` by id prefix, key and
/// name; a header and aligned columns; filters; pruning keeps running
/// records and removes a pruned worker's key (the keyed program then
/// starts afresh).
#[test]
fn stored_records_are_found_by_prefix_key_or_name_filtered_and_pruned() {
    let dir = dir_with(&[(
        "a.wf",
        r#"
llm_mock({text: "hi"})
wait_worker(spawn_worker({name: "greeter", task: "Say hi", key: "greet-1"}))
wait_worker(spawn_worker({name: "greeter", task: "Say hi again"}))
wait_worker(spawn_worker({name: "other", task: "Other", key: "other-1"}))
workflow_execute("the task", {name: "tiny", entry: "a", nodes: {a: {kind: "code", run: { c -> 1 }}}}, {key: "nightly"})
println(len(llm_mock_calls()))
"#,
    )]);
    let out = weft(&dir, &["run", "a.wf"]);
    assert_eq!(stdout(&out), "3\n", "{}", stderr(&out));
    // Run again: the keyed workers are resumed, only the other one calls.
    let out = weft(&dir, &["run", "a.wf"]);
    assert_eq!(stdout(&out), "1\n", "{}", stderr(&out));

    let list = stdout(&weft(&dir, &["workers", "list"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 5, "{list}");
    assert!(lines[0].starts_with("ID "), "{list}");
    let status_col = lines[0].find("STATUS").unwrap();
    for line in &lines[1..] {
        assert_eq!(line.find("completed"), Some(status_col), "{list}");
    }
    let filtered = stdout(&weft(
        &dir,
        &[
            "workers",
            "list",
            "--name",
            "other",
            "--status",
            "completed",
        ],
    ));
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    let none = stdout(&weft(&dir, &["workers", "list", "--status", "failed"]));
    assert_eq!(none.trim(), "no workers match the filters (4 stored)");
    let bad = weft(&dir, &["workers", "list", "--status", "done"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("'done' is not a status of workers"),
        "{}",
        stderr(&bad)
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&weft(&dir, &["workers", "list", "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);

    // show: by key, by unique prefix, by name; ambiguity lists candidates.
    let by_key: serde_json::Value =
        serde_json::from_str(&stdout(&weft(&dir, &["workers", "show", "greet-1"]))).unwrap();
    let id = by_key["id"].as_str().unwrap().to_string();
    assert_eq!(by_key["task"], "Say hi");
    let ids: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    let unique = (1..=id.len())
        .map(|n| &id[..n])
        .find(|p| ids.iter().filter(|i| i.starts_with(p)).count() == 1)
        .unwrap();
    let by_prefix: serde_json::Value =
        serde_json::from_str(&stdout(&weft(&dir, &["workers", "show", unique]))).unwrap();
    assert_eq!(by_prefix["id"], id.as_str());
    let by_name: serde_json::Value =
        serde_json::from_str(&stdout(&weft(&dir, &["workers", "show", "other"]))).unwrap();
    assert_eq!(by_name["task"], "Other");
    let ambiguous = weft(&dir, &["workers", "show", "greeter"]);
    assert_eq!(ambiguous.status.code(), Some(1));
    assert!(
        stderr(&ambiguous).contains("'greeter' matches 3 workers by name"),
        "{}",
        stderr(&ambiguous)
    );

    // runs: list with a header, show by key and by workflow name.
    let runs = stdout(&weft(&dir, &["runs", "list"]));
    assert!(runs.starts_with("ID "), "{runs}");
    assert!(
        runs.lines().nth(1).unwrap().contains("completed  tiny"),
        "{runs}"
    );
    for reference in ["nightly", "tiny"] {
        let show = weft(&dir, &["runs", "show", reference]);
        assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
        assert!(stdout(&show).contains("workflow tiny"), "{}", stdout(&show));
    }

    // prune: a dry run deletes nothing; --older-than spares fresh records;
    // then everything finished goes, keys included.
    let dry = stdout(&weft(&dir, &["workers", "prune", "--dry-run"]));
    assert!(dry.ends_with("would delete 4 workers\n"), "{dry}");
    let fresh = stdout(&weft(&dir, &["workers", "prune", "--older-than", "1h"]));
    assert_eq!(fresh, "deleted 0 workers\n");
    let bad_age = weft(&dir, &["runs", "prune", "--older-than", "3x"]);
    assert_eq!(bad_age.status.code(), Some(2));
    assert!(stderr(&bad_age).contains("expected a duration like 90s, 30m, 12h, 7d or 2w"));
    let pruned = stdout(&weft(&dir, &["workers", "prune", "--older-than", "0s"]));
    assert!(pruned.ends_with("deleted 4 workers\n"), "{pruned}");
    assert_eq!(
        stdout(&weft(&dir, &["workers", "list"])).trim(),
        format!("no workers in .weft")
    );
    assert!(stdout(&weft(&dir, &["runs", "prune"])).ends_with("deleted 1 runs\n"));
    // The keyed worker and run start afresh: the mock is called again.
    let again = weft(&dir, &["run", "a.wf"]);
    assert_eq!(stdout(&again), "3\n", "{}", stderr(&again));
}
