//! The programs in examples/ run end to end with the mock provider.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn run_example(name: &str) -> String {
    run_example_with(name, &[])
}

fn run_example_with(name: &str, flags: &[&str]) -> String {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .args(flags)
        .arg(format!("examples/{name}"))
        .current_dir(repo_root())
        .env("WEFT_STATE_DIR", state.path())
        .env("WEFT_LLM_DISABLED", "1")
        .env_remove("WEFT_OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("WEFT_PROVIDER")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn summarize_files_agent_reads_through_tools() {
    let out = run_example("summarize_files.wf");
    assert!(out.contains("tool list_files({}) -> "), "{out}");
    assert!(
        out.contains("tool read_file({\"name\":\"incident-2041.md\"}) -> 315 chars"),
        "{out}"
    );
    assert!(out.contains("status: done after 3 model calls"), "{out}");
    assert!(
        out.contains("summary: The billing docs cover one incident"),
        "{out}"
    );
}

#[test]
fn fan_out_summarises_every_document() {
    let out = run_example("fan_out.wf");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("architecture.md (39 words): Usage events"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("incident-2041.md (49 words): A double aggregator run"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("overall: Billing aggregates usage hourly"),
        "{out}"
    );
}

#[test]
fn map_summaries_fans_out_in_a_workflow() {
    let out = run_example("map_summaries.wf");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].starts_with("architecture.md (39 words): Usage events"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("runbook.md (37 words): Pause the aggregator"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("overall: Billing aggregates usage hourly"),
        "{out}"
    );
    assert_eq!(lines[4], "4 stages, 4 model calls, 412 tokens", "{out}");
}

#[test]
fn repair_loop_fixes_the_sample_project_offline() {
    let out = run_example_with(
        "repair_loop/repair_loop.wf",
        &["--llm-fixture", "examples/repair_loop/fixture.jsonl"],
    );
    let lines: Vec<&str> = out.lines().collect();
    let expected_starts = [
        "baseline -> failed: tests failed: FAIL: a.txt has 5 words, wordcount.sh printed '2'",
        "plan -> success: plan: 1. wordcount.sh pipes the file through `wc -l`",
        "edit -> success: worker: wordcount.sh now counts words with wc -w.",
        "check -> failed: tests failed: FAIL: a missing file must make wordcount.sh fail",
        "repair -> success: worker: wordcount.sh now fails with a clear message",
        "check -> passed: tests passed",
        "status: completed after 6 stages, 6 model calls",
        " wordcount.sh | 6 +++++-",
    ];
    assert!(lines.len() >= expected_starts.len(), "{out}");
    for (line, start) in lines.iter().zip(expected_starts) {
        assert!(
            line.starts_with(start),
            "expected {start:?}, got {line:?} in\n{out}"
        );
    }
    // The sample project itself is untouched (the edits were in a worktree
    // of a scratch copy).
    let original =
        std::fs::read_to_string(repo_root().join("examples/repair_loop/project/wordcount.sh"))
            .unwrap();
    assert!(original.contains("wc -l"), "{original}");
}
