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

/// A workflow of an agent-mode stage (with an idempotent tool) and two
/// subagent nodes, all cached.
fn agent_program(plan_prompt: &str) -> String {
    format!(
        r#"
let tools = tool_define(tool_registry(), "lookup", "Look up a fact", {{
  parameters: {{q: {{type: "string"}}}},
  handler: {{ a -> println("tool ran"); "a fact about ${{a.q}}" }},
  idempotent: true,
}})
llm_mock({{match: "Plan*", consume: true, tool_calls: [{{name: "lookup", arguments: {{q: "scope"}}}}]}})
let run = workflow_execute("an agent cache demo", {{
  entry: "plan",
  nodes: {{
    plan: {{kind: "stage", cache: true, tools: tools, prompt: "{plan_prompt}"}},
    risks: {{kind: "subagent", cache: true, task: "List the risks"}},
    write: {{kind: "subagent", cache: true, tools: tools, task: "Write up: \${{input.plan}}"}},
  }},
  edges: [{{from: "plan", to: "risks"}}, {{from: "risks", to: "write"}}],
}})
println(run.outputs.write.summary)
println(map(run.stages, {{ s -> "${{s.node}}:${{s.cached}}" }}))
println("model calls", len(llm_mock_calls()))
"#
    )
}

#[test]
fn cached_agent_stages_and_subagents_are_not_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &agent_program("Plan the work"), &[]);
    assert_eq!(first[0], "tool ran", "{first:?}");
    assert_eq!(
        first[2],
        "[\"plan:false\", \"risks:false\", \"write:false\"]"
    );
    assert_eq!(first[3], "model calls 4");

    // No model call and no tool run the second time; the same output.
    let second = run(dir.path(), &agent_program("Plan the work"), &[]);
    assert_eq!(second[0], first[1], "{second:?}");
    assert_eq!(second[1], "[\"plan:true\", \"risks:true\", \"write:true\"]");
    assert_eq!(second[2], "model calls 0");

    // A changed prompt re-runs its stage and the node that uses its
    // output; the independent subagent stays cached.
    let changed = run(dir.path(), &agent_program("Plan the work carefully"), &[]);
    assert_eq!(changed[0], "tool ran", "{changed:?}");
    assert_ne!(changed[1], first[1]);
    assert_eq!(
        changed[2],
        "[\"plan:false\", \"risks:true\", \"write:false\"]"
    );
    assert_eq!(changed[3], "model calls 3");
}

/// A durable `key` is resume identity: a completed keyed worker returns
/// its stored result whatever the cache says; the cache serves new runs.
#[test]
fn a_durable_key_wins_over_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let source = |key: &str| {
        format!(
            r#"
let r = sub_agent_run("Keyed job", {{key: "{key}", cache: true}})
println(r.worker_id, r.cached, len(llm_mock_calls()))
"#
        )
    };
    let first = run(dir.path(), &source("job-1"), &[]);
    let (id, rest) = first[0].split_once(' ').unwrap();
    assert_eq!(rest, "false 1");
    // The same key: the completed worker itself, not a cache hit.
    let again = run(dir.path(), &source("job-1"), &[]);
    assert_eq!(again[0], format!("{id} false 0"));
    // A new key is a new worker, answered from the cache.
    let other = run(dir.path(), &source("job-2"), &[]);
    let (other_id, rest) = other[0].split_once(' ').unwrap();
    assert_ne!(other_id, id);
    assert_eq!(rest, "true 0");
}
