//! Graphviz DOT text of a [`Diagram`]: rounded boxes labelled with id and
//! kind, the entry drawn bold, edges labelled with their branches; with an
//! overlay, nodes filled by status and the edges taken drawn thick.

use super::mermaid::fill_of;
use super::model::{edge_label, node_label, Diagram, Overlay};

/// A DOT double-quoted string.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The digraph.
pub fn render(d: &Diagram, overlay: Option<&Overlay>) -> String {
    let mut out = format!("digraph {} {{\n", quote(&d.name));
    out.push_str("  rankdir=TB;\n");
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\"];\n");
    for n in &d.nodes {
        let (first, second) = node_label(n, overlay);
        let mut attrs = vec![format!("label={}", quote(&format!("{first}\n{second}")))];
        if n.id == d.entry {
            attrs.push("penwidth=2".to_string());
        }
        if let Some(o) = overlay {
            let status = o.node_status(&n.id);
            attrs.push(format!("fillcolor={}", quote(fill_of(status))));
            attrs.push(format!("tooltip={}", quote(status)));
        }
        out.push_str(&format!("  {} [{}];\n", quote(&n.id), attrs.join(", ")));
    }
    for e in &d.edges {
        let mut attrs = Vec::new();
        let text = edge_label(e, overlay);
        if !text.is_empty() {
            attrs.push(format!("label={}", quote(&text)));
        }
        if let Some(o) = overlay {
            if o.edge_count(e) > 0 {
                attrs.push("penwidth=2.5".to_string());
            } else {
                attrs.push("style=dashed, color=\"#999999\"".to_string());
            }
        }
        let tail = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        out.push_str(&format!(
            "  {} -> {}{tail};\n",
            quote(&e.from),
            quote(&e.to)
        ));
    }
    out.push_str("}\n");
    out
}
