//! Unit tests of graph parsing and edge selection.

use weft_vm::runtime::{Runtime, RuntimeOptions};

use super::graph::parse_graph;

/// Parses the definition written in Weft source (closures allowed).
fn graph_of(src: &str) -> (Option<super::graph::Graph>, Vec<super::graph::Problem>) {
    let opts = RuntimeOptions {
        extra_builtins: crate::builtins(),
        ..Default::default()
    };
    let mut rt = Runtime::new(opts);
    let def = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let local = tokio::task::LocalSet::new();
            local.run_until(async { rt.eval_repl(src).await }).await
        });
    let def = match def {
        weft_vm::runtime::ReplOutcome::Value(Some(v)) => v,
        _ => panic!("definition did not evaluate"),
    };
    let vm = rt.new_vm();
    parse_graph(&vm, &def, "test")
}

#[test]
fn next_prefers_labelled_edges_then_unlabelled() {
    let (g, problems) = graph_of(
        r#"{entry: "a", nodes: {a: {kind: "verify", command: "true"}, b: {kind: "join"}, c: {kind: "join"}, d: {kind: "join"}},
            edges: [{from: "a", to: "b", branch: "failed"}, {from: "a", to: "c"}, {from: "a", to: "d"}]}"#,
    );
    assert!(problems.is_empty(), "{problems:?}");
    let g = g.unwrap();
    let ids = |v: Vec<(String, Option<String>)>| v.into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    assert_eq!(ids(g.next("a", "failed")), ["b"]);
    assert_eq!(ids(g.next("a", "passed")), ["c", "d"]);
    assert!(g.handles_failure("a"));
    assert!(!g.handles_failure("b"));
    assert_eq!(g.predecessors("b"), ["a"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let (_, problems) = graph_of(
        r#"{entry: "x", nodes: {a: {kind: "stage"}, b: {kind: "nope"}}, edges: [{from: "a", to: "zz"}, 5]}"#,
    );
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        [
            "missing_key",
            "unknown_kind",
            "unknown_entry",
            "unknown_node",
            "bad_value"
        ],
        "{problems:?}"
    );
}
