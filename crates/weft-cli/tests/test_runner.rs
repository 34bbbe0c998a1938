//! Integration tests of the `weft test` runner itself (embedding.md §3),
//! on temporary directories holding small `.wf` tests.
//!
//! The scripts use plain language features (`println`, `throw`, loops,
//! imports, `env`), so most checks need a working `weft run`; the rest
//! (discovery, filtering, ordering, usage errors) hold whatever the VM does.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A temporary directory of test files; `weft test` runs with it as cwd.
struct Suite {
    dir: TempDir,
}

/// What one `weft test` invocation printed.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// The `FAIL path: ...` lines, in order.
    fn failures(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("FAIL "))
            .collect()
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Suite {
    fn new(files: &[(&str, &str)]) -> Suite {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Suite { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn weft_test(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .arg("test")
            .args(args)
            .current_dir(self.path())
            .env_remove("WEFT_TEST_TIMEOUT_SECS")
            .env_remove("WEFT_STATE_DIR");
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn passing_and_failing_tests_with_a_diff() {
    let suite = Suite::new(&[
        ("t/pass.wf", "println(\"hi\")\n"),
        // Trailing newlines are trimmed on both sides.
        ("t/pass.expected", "hi\n\n\n"),
        ("t/fail.wf", "println(\"one\")\nprintln(\"two\")\n"),
        ("t/fail.expected", "one\nthree\n"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 1 failed", "{out:?}");
    assert_eq!(
        out.failures(),
        ["FAIL t/fail.wf: stdout differs from fail.expected"],
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("--- fail.expected\n+++ actual stdout\n"),
        "{out:?}"
    );
    assert!(out.stdout.contains("\n one\n-three\n+two\n"), "{out:?}");
}

#[test]
fn all_passing_exits_zero() {
    let suite = Suite::new(&[
        ("t/a.wf", "let xs = [1, 2, 3]\nprintln(len(xs))\n"),
        ("t/a.expected", "3"),
        ("t/b.wf", "throw \"oops\"\n"),
        ("t/b.error", "error[thrown]: oops\n"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout.lines().last(),
        Some("2 passed, 0 failed"),
        "{out:?}"
    );
    assert!(out.failures().is_empty(), "{out:?}");
}

#[test]
fn error_files_match_plain_and_regex_lines() {
    let suite = Suite::new(&[
        ("t/add.wf", "let x = 1\nlet y = \"a\" + x\n"),
        (
            "t/add.error",
            "error[type_error]: cannot add string and int\n\nre: add\\.wf:2:\\d+\n",
        ),
        ("t/wrong.wf", "throw \"oops\"\n"),
        ("t/wrong.error", "oops\nsomething else\nre:^never\\d+$\n"),
        ("t/ok.wf", "println(\"fine\")\n"),
        ("t/ok.error", "fine\n"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 2 failed", "{out:?}");
    assert_eq!(
        out.failures(),
        [
            "FAIL t/ok.wf: expected the run to fail (ok.error), but it exited with status 0",
            "FAIL t/wrong.wf: stderr does not match 2 lines of wrong.error",
        ],
        "{out:?}"
    );
    assert!(
        out.stdout.contains("  missing: something else\n"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("  missing (regex): re:^never\\d+$\n"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("missing: oops"), "{out:?}");
    assert!(out.stdout.contains("  | error[thrown]: oops"), "{out:?}");
}

#[test]
fn an_expected_test_that_errors_shows_its_stderr() {
    let suite = Suite::new(&[
        ("t/boom.wf", "println(\"before\")\nthrow \"boom\"\n"),
        ("t/boom.expected", "before\nafter\n"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.failures(),
        ["FAIL t/boom.wf: exited with status 1"],
        "{out:?}"
    );
    assert!(out.stdout.contains("  | error[thrown]: boom"), "{out:?}");
    assert!(out.stdout.contains("-after"), "{out:?}");
}

#[test]
fn helper_modules_are_not_tests() {
    let suite = Suite::new(&[
        ("t/util.wf", "pub fn double(x) { x * 2 }\n"),
        (
            "t/main.wf",
            "import { double } from \"./util.wf\"\nprintln(double(21))\n",
        ),
        ("t/main.expected", "42\n"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 0 failed", "{out:?}");
}

#[test]
fn a_runaway_test_is_killed_at_the_timeout() {
    let suite = Suite::new(&[
        ("t/spin.wf", "var i = 0\nwhile true { i += 1 }\n"),
        ("t/spin.expected", ""),
        ("t/quick.wf", "println(\"done\")\n"),
        ("t/quick.expected", "done\n"),
    ]);
    let started = Instant::now();
    let out = suite.weft_test(&["t"], &[("WEFT_TEST_TIMEOUT_SECS", "2")]);
    assert!(started.elapsed() < Duration::from_secs(20), "{out:?}");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.failures(),
        ["FAIL t/spin.wf: timed out after 2s"],
        "{out:?}"
    );
    assert_eq!(out.last_line(), "1 passed, 1 failed", "{out:?}");
}

#[test]
fn tests_run_hermetically_in_their_own_directory() {
    let suite = Suite::new(&[
        ("t/sub/data.txt", "x"),
        (
            "t/sub/env.wf",
            "println(env(\"WEFT_LLM_DISABLED\"))\n\
             println(env(\"WEFT_STATE_DIR\") != nil)\n\
             println(env(\"OPENAI_API_KEY\"))\n\
             println(exists(\"data.txt\"))\n",
        ),
        ("t/sub/env.expected", "1\ntrue\nnil\ntrue\n"),
    ]);
    let out = suite.weft_test(&["t"], &[("OPENAI_API_KEY", "sk-not-for-tests")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 0 failed", "{out:?}");
}

// The tests below hold whatever `weft run` does: their outcome depends only
// on discovery, filtering and reporting.

#[test]
fn filter_selects_tests_by_path() {
    let suite = Suite::new(&[
        ("t/a/ok.wf", "let x = 1\n"),
        ("t/a/ok.expected", ""),
        ("t/b/bad.wf", "let x = 1\n"),
        ("t/b/bad.expected", "never printed\n"),
    ]);
    let all = suite.weft_test(&["t"], &[]);
    assert_eq!(all.last_line(), "1 passed, 1 failed", "{all:?}");
    assert_eq!(all.code, Some(1), "{all:?}");

    let only_a = suite.weft_test(&["t", "--filter", "a/"], &[]);
    assert_eq!(only_a.code, Some(0), "{only_a:?}");
    assert_eq!(only_a.stdout.trim_end(), "1 passed, 0 failed", "{only_a:?}");

    let none = suite.weft_test(&["t", "--filter", "zzz"], &[]);
    assert_eq!(none.code, Some(0), "{none:?}");
    assert_eq!(none.last_line(), "0 passed, 0 failed", "{none:?}");
    assert!(none.stderr.contains("no tests matching 'zzz'"), "{none:?}");
}

#[test]
fn failures_are_reported_in_path_order() {
    let mut files = Vec::new();
    let names = ["m", "c", "z", "a", "k", "b"];
    for name in names {
        files.push((format!("t/{name}.wf"), "let x = 1\n".to_string()));
        files.push((format!("t/{name}.expected"), format!("{name}\n")));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let suite = Suite::new(&refs);
    let out = suite.weft_test(&["t", "--jobs", "3"], &[]);
    let order: Vec<&str> = out
        .failures()
        .iter()
        .map(|l| l.trim_start_matches("FAIL t/").split('.').next().unwrap())
        .collect();
    assert_eq!(order, ["a", "b", "c", "k", "m", "z"], "{out:?}");
    assert_eq!(out.last_line(), "0 passed, 6 failed", "{out:?}");
}

#[test]
fn default_path_is_conformance() {
    let suite = Suite::new(&[
        ("conformance/language/empty.wf", "// nothing to print\n"),
        ("conformance/language/empty.expected", "\n"),
        ("elsewhere/bad.wf", ""),
        ("elsewhere/bad.expected", "x"),
    ]);
    let out = suite.weft_test(&[], &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 0 failed", "{out:?}");
}

#[test]
fn a_test_with_both_expectation_files_fails() {
    let suite = Suite::new(&[
        ("t/both.wf", ""),
        ("t/both.expected", ""),
        ("t/both.error", "x"),
    ]);
    let out = suite.weft_test(&["t"], &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.failures(),
        ["FAIL t/both.wf: has both a .expected and a .error file; keep one"],
        "{out:?}"
    );
}

#[test]
fn a_single_test_file_can_be_named() {
    let suite = Suite::new(&[
        ("t/one.wf", ""),
        ("t/one.expected", ""),
        ("t/two.wf", ""),
        ("t/two.expected", "x"),
        ("t/helper.wf", ""),
    ]);
    let out = suite.weft_test(&["t/one.wf"], &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.last_line(), "1 passed, 0 failed", "{out:?}");

    let helper = suite.weft_test(&["t/helper.wf"], &[]);
    assert_eq!(helper.code, Some(2), "{helper:?}");
    assert!(helper.stderr.contains("is not a test"), "{helper:?}");
}

#[test]
fn usage_errors_exit_two() {
    let suite = Suite::new(&[("t/a.wf", ""), ("t/a.expected", "")]);
    let missing = suite.weft_test(&["no/such/dir"], &[]);
    assert_eq!(missing.code, Some(2), "{missing:?}");
    assert!(missing.stderr.contains("no/such/dir"), "{missing:?}");

    let bad_timeout = suite.weft_test(&["t"], &[("WEFT_TEST_TIMEOUT_SECS", "soon")]);
    assert_eq!(bad_timeout.code, Some(2), "{bad_timeout:?}");
    assert!(
        bad_timeout.stderr.contains("WEFT_TEST_TIMEOUT_SECS"),
        "{bad_timeout:?}"
    );
}
