use serde_json::json;

use super::source::diagram_of_source;
use super::*;

fn repair() -> Diagram {
    Diagram::from_definition(&json!({
        "name": "repair", "entry": "check",
        "nodes": {"check": {"kind": "verify"}, "fix": {"kind": "subagent"}},
        "edges": [
            {"from": "check", "to": "fix", "branch": "failed"},
            {"from": "fix", "to": "check", "branch": null},
        ],
    }))
    .unwrap()
}

fn run_overlay() -> Overlay {
    Overlay::from_record(&json!({
        "stages": [
            {"node": "check", "status": "failed"}, {"node": "fix", "status": "completed"},
            {"node": "check", "status": "failed"}, {"node": "fix", "status": "completed"},
            {"node": "check", "status": "completed"},
        ],
        "transitions": [
            {"from": "check", "to": "fix", "branch": "failed"}, {"from": "fix", "to": "check", "branch": null},
            {"from": "check", "to": "fix", "branch": "failed"}, {"from": "fix", "to": "check", "branch": null},
        ],
        "pending": [],
    }))
}

#[test]
fn mermaid_numbers_nodes_and_labels_branches() {
    assert_eq!(
        render(&repair(), None, Format::Mermaid),
        "flowchart TD\n  n0[\"check<br/>verify (entry)\"]\n  n1[\"fix<br/>subagent\"]\n  n0 -->|\"failed\"| n1\n  n1 --> n0\n"
    );
}

#[test]
fn overlay_counts_visits_and_edges() {
    let o = run_overlay();
    assert_eq!(o.node_status("check"), "completed");
    assert_eq!(o.visits["check"], 3);
    let m = render(&repair(), Some(&o), Format::Mermaid);
    assert!(m.contains("n0 ==>|\"failed ×2\"| n1"), "{m}");
    assert!(m.contains("n1 ==>|\"×2\"| n0"), "{m}");
    assert!(m.contains("check<br/>verify ×3"), "{m}");
    assert!(m.contains("class n0,n1 completed"), "{m}");
}

#[test]
fn dot_quotes_names() {
    let mut d = repair();
    d.nodes[1].id = "say \"hi\"".into();
    d.edges[0].to = d.nodes[1].id.clone();
    let text = render(&d, None, Format::Dot);
    assert!(
        text.contains("\"check\" -> \"say \\\"hi\\\"\" [label=\"failed\"];"),
        "{text}"
    );
}

#[test]
fn svg_has_a_group_per_node_and_escapes_names() {
    let mut d = repair();
    d.nodes[1].id = "<script>alert(1)</script>".into();
    d.edges[0].to = d.nodes[1].id.clone();
    d.edges[1].from = d.nodes[1].id.clone();
    let svg = render(&d, Some(&run_overlay()), Format::Svg);
    assert!(svg.starts_with("<svg class=\"wf-graph\""), "{svg}");
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;"), "{svg}");
    assert_eq!(svg.matches("class=\"wf-node").count(), 2);
    assert!(svg.contains("data-node=\"check\""));
    // The same input draws the same picture.
    assert_eq!(svg, render(&d, Some(&run_overlay()), Format::Svg));
}

#[test]
fn formats_parse_with_did_you_mean() {
    assert_eq!(Format::parse("svg"), Ok(Format::Svg));
    assert!(Format::parse("mermiad")
        .unwrap_err()
        .contains("did you mean 'mermaid'"));
}

fn source(text: &str) -> Result<Diagram, String> {
    let file = weft_syntax::diagnostic::SourceFile::new("t.wf", text);
    diagram_of_source(&file, None).map_err(|d| d.message)
}

#[test]
fn source_literals_are_read_without_running() {
    let d = source(
        "let tools = 1\nfn make() {\n  workflow_graph({name: \"w\", nodes: {a: {kind: \"code\", run: { c -> shell(\"rm -rf /\") }}, b: {kind: \"join\"}}, edges: [{from: \"a\", to: \"b\", branch: \"success\"}]})\n}\n",
    )
    .unwrap();
    assert_eq!(d.name, "w");
    assert_eq!(d.entry, "a");
    assert_eq!(d.edges.len(), 1);
}

#[test]
fn source_problems_point_at_the_expression() {
    let e = source("let es = []\nworkflow_graph({nodes: {a: {kind: \"code\"}}, edges: es})")
        .unwrap_err();
    assert!(e.contains("'edges' must be a list literal"), "{e}");
    let e = source(
        "workflow_graph({nodes: {a: {kind: \"code\"}}, edges: [{from: \"a\", to: \"bb\"}]})",
    )
    .unwrap_err();
    assert!(e.contains("unknown node 'bb'"), "{e}");
    let e = source("let x = 1").unwrap_err();
    assert!(e.contains("defines no workflow"), "{e}");
}
