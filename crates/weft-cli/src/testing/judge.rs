//! Deciding whether a test passed, and explaining why not.
//!
//! - `NAME.expected`: the run exits 0 and its stdout equals the file, with
//!   trailing newlines trimmed on both sides.
//! - `NAME.error`: the run exits non-zero and every non-empty line of the
//!   file (trailing whitespace ignored) appears in its stderr; a line `re: PATTERN` is a regex (`regex`
//!   crate syntax; spaces after `re:` are ignored) searched for in stderr,
//!   in multi-line mode: `^` and `$` match at the start and end of lines.

use std::fmt::Write as _;

use regex::RegexBuilder;
use similar::TextDiff;

use super::child::{ChildRun, Ended};

/// Most lines of a process's output shown in one failure report.
const MAX_SHOWN_LINES: usize = 200;

/// A test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// `headline` completes `FAIL path: ...`; `details` follow it.
    Fail {
        headline: String,
        details: String,
    },
}

fn fail(headline: impl Into<String>, details: impl Into<String>) -> Verdict {
    Verdict::Fail {
        headline: headline.into(),
        details: details.into(),
    }
}

/// Trailing line terminators removed.
fn trim_newlines(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

/// The exit code of a run that ended normally, or the failure of one that
/// did not (timeout, signal, not started), whatever the test expected.
fn exit_code(run: &ChildRun) -> Result<i32, Verdict> {
    let headline = match &run.ended {
        Ended::Code(code) => return Ok(*code),
        Ended::TimedOut(limit) => format!("timed out after {}s", limit.as_secs_f64()),
        Ended::Signal(how) => format!("the process was ended by a signal ({how})"),
        Ended::NotStarted(why) => why.clone(),
    };
    let mut details = String::new();
    if !run.stderr.is_empty() {
        details.push_str(&show_output("stderr", &run.stderr));
    }
    Err(fail(headline, details))
}

/// Judges a `.expected` test; `name` is the expectation file's name.
pub fn judge_stdout(name: &str, expected: &str, run: &ChildRun) -> Verdict {
    let code = match exit_code(run) {
        Ok(code) => code,
        Err(verdict) => return verdict,
    };
    let expected = trim_newlines(expected);
    let actual = trim_newlines(&run.stdout);
    let same = expected == actual;
    if code == 0 && same {
        return Verdict::Pass;
    }
    if code == 0 {
        return fail(
            format!("stdout differs from {name}"),
            unified_diff(name, expected, actual),
        );
    }
    let mut details = show_output("stderr", &run.stderr);
    if !same {
        details.push('\n');
        details.push_str(&unified_diff(name, expected, actual));
    }
    fail(format!("exited with status {code}"), details)
}

/// Judges a `.error` test; `name` is the expectation file's name.
pub fn judge_error(name: &str, wanted: &str, run: &ChildRun) -> Verdict {
    match exit_code(run) {
        Ok(0) => {}
        Ok(_) => return judge_error_lines(name, wanted, &run.stderr),
        Err(verdict) => return verdict,
    }
    let mut details = show_output("stdout", &run.stdout);
    details.push('\n');
    details.push_str(&show_output("stderr", &run.stderr));
    fail(
        format!("expected the run to fail ({name}), but it exited with status 0"),
        details,
    )
}

/// The lines of `wanted` (a `.error` file) checked against `stderr`.
fn judge_error_lines(name: &str, wanted: &str, stderr: &str) -> Verdict {
    let mut missing = String::new();
    let mut count = 0;
    // Trailing whitespace of a line is not significant (editors add it).
    for line in wanted.lines().map(str::trim_end) {
        if line.is_empty() {
            continue;
        }
        let problem = match line.strip_prefix("re:") {
            Some(pattern) => match RegexBuilder::new(pattern.trim_start())
                .multi_line(true)
                .build()
            {
                Ok(re) if re.is_match(stderr) => None,
                Ok(_) => Some(format!("  missing (regex): {line}\n")),
                Err(e) => Some(format!("  invalid regex: {line}\n    {e}\n")),
            },
            None if stderr.contains(line) => None,
            None => Some(format!("  missing: {line}\n")),
        };
        if let Some(problem) = problem {
            count += 1;
            missing.push_str(&problem);
        }
    }
    if count == 0 {
        return Verdict::Pass;
    }
    let plural = if count == 1 { "line" } else { "lines" };
    missing.push_str(&show_output("stderr", stderr));
    fail(
        format!("stderr does not match {count} {plural} of {name}"),
        missing,
    )
}

/// A unified diff of expected against actual (both already trimmed).
pub fn unified_diff(name: &str, expected: &str, actual: &str) -> String {
    let with_newline = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("{s}\n")
        }
    };
    let (old, new) = (with_newline(expected), with_newline(actual));
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(name, "actual stdout")
        .to_string()
}

/// `label:` followed by the text, each line behind `  | `, cut to
/// [`MAX_SHOWN_LINES`] lines.
pub fn show_output(label: &str, text: &str) -> String {
    let text = trim_newlines(text);
    if text.is_empty() {
        return format!("{label}: (empty)\n");
    }
    let mut out = format!("{label}:\n");
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(MAX_SHOWN_LINES) {
        let _ = writeln!(out, "  | {line}");
    }
    if lines.len() > MAX_SHOWN_LINES {
        let _ = writeln!(
            out,
            "  | ... ({} more lines)",
            lines.len() - MAX_SHOWN_LINES
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(code: i32, stdout: &str, stderr: &str) -> ChildRun {
        ChildRun {
            ended: Ended::Code(code),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    fn details(v: Verdict) -> (String, String) {
        match v {
            Verdict::Fail { headline, details } => (headline, details),
            Verdict::Pass => panic!("expected a failure"),
        }
    }

    #[test]
    fn trailing_newlines_are_ignored_on_both_sides() {
        assert_eq!(
            judge_stdout("t.expected", "a\nb\n\n", &run(0, "a\nb", "")),
            Verdict::Pass
        );
        assert_eq!(
            judge_stdout("t.expected", "a", &run(0, "a\n", "")),
            Verdict::Pass
        );
        assert_eq!(
            judge_stdout("t.expected", "", &run(0, "", "noise")),
            Verdict::Pass
        );
        // Leading and inner whitespace count.
        assert_ne!(
            judge_stdout("t.expected", " a", &run(0, "a", "")),
            Verdict::Pass
        );
    }

    #[test]
    fn a_mismatch_shows_a_unified_diff() {
        let (head, diff) = details(judge_stdout(
            "t.expected",
            "one\nthree\n",
            &run(0, "one\ntwo\n", ""),
        ));
        assert_eq!(head, "stdout differs from t.expected");
        assert!(
            diff.starts_with("--- t.expected\n+++ actual stdout\n@@"),
            "{diff}"
        );
        assert!(diff.contains("\n one\n-three\n+two\n"), "{diff}");
        assert!(!diff.contains("No newline"), "{diff}");
    }

    #[test]
    fn a_failing_expected_test_shows_stderr() {
        let (head, details) = details(judge_stdout(
            "t.expected",
            "hi",
            &run(1, "", "error[x]: boom\n"),
        ));
        assert_eq!(head, "exited with status 1");
        assert!(
            details.contains("stderr:\n  | error[x]: boom\n"),
            "{details}"
        );
        assert!(details.contains("-hi"), "{details}");
    }

    #[test]
    fn error_lines_plain_and_regex() {
        let stderr = "error[type_error]: cannot add string and int\n  --> t.wf:3:9\n";
        let wanted = "cannot add string and int\n\nre:^\\s+--> t\\.wf:\\d+:9$\n";
        // `(?m)` is needed for ^/$ to match at line boundaries.
        let wanted_m = wanted.replace("re:", "re:(?m)");
        assert_eq!(
            judge_error("t.error", &wanted_m, &run(1, "", stderr)),
            Verdict::Pass
        );
        assert_eq!(
            judge_error("t.error", "re: type_\\w+", &run(1, "", stderr)),
            Verdict::Pass
        );
        let (head, details) = details(judge_error(
            "t.error",
            "cannot add\nindex_error\nre:nope\\d",
            &run(1, "", stderr),
        ));
        assert_eq!(head, "stderr does not match 2 lines of t.error");
        assert!(details.contains("  missing: index_error\n"), "{details}");
        assert!(
            details.contains("  missing (regex): re:nope\\d\n"),
            "{details}"
        );
        assert!(details.contains("  | error[type_error]"), "{details}");
    }

    #[test]
    fn an_error_test_must_fail() {
        let (head, _) = details(judge_error("t.error", "x", &run(0, "x", "x")));
        assert!(head.contains("exited with status 0"), "{head}");
        let (head, details) = details(judge_error("t.error", "re:(", &run(1, "", "")));
        assert!(head.contains("1 line"), "{head}");
        assert!(details.contains("invalid regex"), "{details}");
    }

    #[test]
    fn timeouts_are_reported_in_seconds() {
        let r = ChildRun {
            ended: Ended::TimedOut(Duration::from_secs(30)),
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(
            details(judge_stdout("t.expected", "", &r)).0,
            "timed out after 30s"
        );
        assert_eq!(
            details(judge_error("t.error", "x", &r)).0,
            "timed out after 30s"
        );
    }

    #[test]
    fn long_output_is_cut() {
        let text: String = (0..500).map(|i| format!("{i}\n")).collect();
        let shown = show_output("stderr", &text);
        assert!(shown.ends_with("  | ... (300 more lines)\n"), "{shown}");
    }
}
