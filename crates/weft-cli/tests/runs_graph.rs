//! `weft runs graph ID|FILE.wf --format mermaid|dot|svg`: the picture of a
//! stored run (statuses, visits, edges taken) and of a source file's
//! workflow read without running it.

use std::path::Path;
use std::process::{Command, Output};

fn weft(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const LOOP: &str = r#"
var tries = 0
let g = workflow_graph({
  name: "loop",
  nodes: {
    check: {kind: "code", run: { ctx -> tries += 1; if tries < 3 { throw "not yet" } else { "ok" } }},
    fix: {kind: "code", run: { ctx -> "fixed" }},
  },
  edges: [{from: "check", to: "fix", branch: "failed"}, {from: "fix", to: "check"}],
})
let run = workflow_execute("t", g)
println(run.status, run.id)
"#;

#[test]
fn a_run_is_drawn_with_statuses_and_edge_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("loop.wf"), LOOP).unwrap();
    let out = weft(dir.path(), &["run", "loop.wf"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("completed r_"),
        "{stdout}{}",
        text(&out.stderr)
    );
    let id = stdout.split_whitespace().nth(1).unwrap().to_string();
    let out = weft(dir.path(), &["runs", "graph", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "flowchart TD\n  n0[\"check<br/>code ×3 (entry)\"]\n  n1[\"fix<br/>code ×2\"]\n  \
         n0 ==>|\"failed ×2\"| n1\n  n1 ==>|\"×2\"| n0\n  \
         classDef completed fill:#c8efd0,stroke:#555\n  class n0,n1 completed\n"
    );
    let out = weft(dir.path(), &["runs", "graph", &id, "--format", "svg"]);
    let svg = text(&out.stdout);
    assert!(svg.starts_with("<svg class=\"wf-graph\""), "{svg}");
    assert_eq!(svg.matches("class=\"wf-node status-completed\"").count(), 2);
    assert_eq!(svg.matches("class=\"wf-edge taken\"").count(), 2);
    let out = weft(dir.path(), &["runs", "graph", "r_missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no run 'r_missing'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_source_file_is_drawn_without_running_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let file = root.join("examples/repair_loop/repair_loop.wf");
    let out = weft(
        dir.path(),
        &["runs", "graph", file.to_str().unwrap(), "--format", "dot"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    assert!(dot.starts_with("digraph \"repair_loop\" {"), "{dot}");
    for line in [
        "\"baseline\" [label=\"baseline\\nverify\", penwidth=2];",
        "\"check\" -> \"repair\" [label=\"failed\"];",
        "\"repair\" -> \"check\";",
    ] {
        assert!(dot.contains(line), "{line} not in {dot}");
    }
    assert!(!dir.path().join("state").exists(), "the file was run");
}

#[test]
fn a_source_file_that_builds_its_edges_is_an_error_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dyn.wf"),
        "let es = [{from: \"a\", to: \"a\"}]\nworkflow_graph({nodes: {a: {kind: \"join\"}}, edges: es})\n",
    )
    .unwrap();
    let out = weft(dir.path(), &["runs", "graph", "dyn.wf"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error[value_error]: 'edges' must be a list literal"),
        "{err}"
    );
    assert!(err.contains("--> dyn.wf:2:52"), "{err}");
    let out = weft(dir.path(), &["runs", "graph", "dyn.wf", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}
