//! Mermaid flowchart text of a [`Diagram`]: nodes as `nI["id<br/>kind"]`
//! (ids are numbered, so any node name is safe), edges with their branch
//! labels, and with an overlay a class per node status and thick edges
//! for the ones taken.

use super::model::{edge_label, node_label, Diagram, Overlay};

/// Colours of the node statuses (shared with the DOT and SVG renderers).
pub const STATUS_FILL: &[(&str, &str)] = &[
    ("completed", "#c8efd0"),
    ("failed", "#ffd3d0"),
    ("running", "#fff0b3"),
    ("pending", "#e3ecff"),
    ("awaiting_approval", "#ffe2b8"),
    ("cancelled", "#e6e6e6"),
    ("idle", "#ffffff"),
];

/// The fill colour of a status (`idle`'s for an unknown one).
pub fn fill_of(status: &str) -> &'static str {
    STATUS_FILL
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("#ffffff", |(_, c)| c)
}

/// Text as a Mermaid quoted label: `"` and the characters Mermaid reads
/// as markup become entity codes.
fn label(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The flowchart.
pub fn render(d: &Diagram, overlay: Option<&Overlay>) -> String {
    let mut out = String::from("flowchart TD\n");
    let index = |id: &str| d.nodes.iter().position(|n| n.id == id).unwrap_or(0);
    for (i, n) in d.nodes.iter().enumerate() {
        let (first, second) = node_label(n, overlay);
        let entry = if n.id == d.entry { " (entry)" } else { "" };
        out.push_str(&format!(
            "  n{i}[\"{}<br/>{}{entry}\"]\n",
            label(&first),
            label(&second)
        ));
    }
    for e in &d.edges {
        let text = edge_label(e, overlay);
        let taken = overlay.is_some_and(|o| o.edge_count(e) > 0);
        let arrow = if taken { "==>" } else { "-->" };
        if text.is_empty() {
            out.push_str(&format!(
                "  n{} {arrow} n{}\n",
                index(&e.from),
                index(&e.to)
            ));
        } else {
            out.push_str(&format!(
                "  n{} {arrow}|\"{}\"| n{}\n",
                index(&e.from),
                label(&text),
                index(&e.to)
            ));
        }
    }
    if let Some(o) = overlay {
        for (status, fill) in STATUS_FILL {
            let members: Vec<String> = d
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| o.node_status(&n.id) == *status)
                .map(|(i, _)| format!("n{i}"))
                .collect();
            if !members.is_empty() {
                out.push_str(&format!("  classDef {status} fill:{fill},stroke:#555\n"));
                out.push_str(&format!("  class {} {status}\n", members.join(",")));
            }
        }
    }
    out
}
