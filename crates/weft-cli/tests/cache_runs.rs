//! The result cache across runs (issue 17 §3): the second run of a
//! workflow whose stages are cached makes no model call and gives the same
//! output; changing one prompt re-runs only that stage and the stages
//! that depend on it. `weft runs show` marks cached stages; `--no-cache`
//! bypasses the cache.

use std::path::Path;
use std::process::Command;

fn program(plan_prompt: &str) -> String {
    format!(
        r#"
let run = workflow_execute("a cache demo", {{
  entry: "plan",
  nodes: {{
    plan: {{kind: "stage", mode: "llm", cache: true, prompt: "{plan_prompt}"}},
    other: {{kind: "stage", mode: "llm", cache: true, prompt: "List the risks"}},
    write: {{kind: "stage", mode: "llm", cache: true, prompt: "Write up: \${{input.plan}}"}},
  }},
  edges: [{{from: "plan", to: "other"}}, {{from: "other", to: "write"}}],
}})
println(run.outputs.write)
println(map(run.stages, {{ s -> "${{s.node}}:${{s.cached}}" }}))
println("model calls", len(llm_mock_calls()))
println(run.id)
"#
    )
}

fn run(dir: &Path, source: &str, extra: &[&str]) -> Vec<String> {
    std::fs::write(dir.join("flow.wf"), source).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .args(extra)
        .arg("flow.wf")
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env_remove("WEFT_PERSIST")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn cached_stages_are_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &program("Plan the work"), &[]);
    assert_eq!(
        first[1],
        "[\"plan:false\", \"other:false\", \"write:false\"]"
    );
    assert_eq!(first[2], "model calls 3");

    let second = run(dir.path(), &program("Plan the work"), &[]);
    assert_eq!(second[0], first[0], "the same output");
    assert_eq!(second[1], "[\"plan:true\", \"other:true\", \"write:true\"]");
    assert_eq!(second[2], "model calls 0");

    // `weft runs show` marks the cached stages.
    let shown = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["runs", "show", &second[3]])
        .current_dir(dir.path())
        .env("WEFT_STATE_DIR", dir.path().join("state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{text}");
    assert_eq!(text.matches("completed (cached)").count(), 3, "{text}");

    // A changed prompt re-runs its stage and what depends on it.
    let changed = run(dir.path(), &program("Plan the work carefully"), &[]);
    assert_ne!(changed[0], first[0]);
    assert_eq!(
        changed[1],
        "[\"plan:false\", \"other:true\", \"write:false\"]"
    );
    assert_eq!(changed[2], "model calls 2");

    // --no-cache neither reads nor writes.
    let bypass = run(dir.path(), &program("Plan the work"), &["--no-cache"]);
    assert_eq!(
        bypass[1],
        "[\"plan:false\", \"other:false\", \"write:false\"]"
    );
    assert_eq!(bypass[2], "model calls 3");
}
