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
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", &format!("examples/{name}")])
        .current_dir(repo_root())
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
