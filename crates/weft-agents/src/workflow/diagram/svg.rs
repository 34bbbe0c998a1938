//! SVG of a [`Diagram`], laid out by the `layout-rs` crate (Sugiyama-style
//! ranking with crossing reduction; cycles are drawn by reversing back
//! edges, so a repair loop shows as an edge back up). Each node is a group
//! `<g class="wf-node status-S" data-node="ID">` so pages can colour and
//! update it; edges carry `class="wf-edge taken|not-taken"`. The XML
//! header is left out, so the text can be inlined into HTML.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::mermaid::fill_of;
use super::model::{edge_label, node_label, Diagram, Overlay};

/// One font size for everything: the SVG writer lists its font classes
/// from a hash map, so a single size keeps the output deterministic.
const FONT: usize = 14;

/// Text escaped for an XML attribute value.
pub fn attr(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn color(hex: &str) -> Color {
    Color::from_name(hex).unwrap_or_else(|| Color::fast("white"))
}

/// The picture.
pub fn render(d: &Diagram, overlay: Option<&Overlay>) -> String {
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    let mut handles = Vec::new();
    for n in &d.nodes {
        let (first, second) = node_label(n, overlay);
        let shape = ShapeKind::new_box(&format!("{first}\n{second}"));
        let status = overlay.map_or("idle", |o| o.node_status(&n.id));
        let width = if n.id == d.entry { 3 } else { 1 };
        let look = StyleAttr::new(
            color("#333333"),
            width,
            Some(color(fill_of(status))),
            8,
            FONT,
        );
        let size = get_shape_size(dir, &shape, FONT, false);
        let props = format!(
            "class=\"wf-node status-{}\" data-node=\"{}\" data-kind=\"{}\"",
            attr(status),
            attr(&n.id),
            attr(&n.kind)
        );
        handles.push(vg.add_node(Element::create_with_properties(
            shape, look, dir, size, props,
        )));
    }
    for e in &d.edges {
        let (Some(from), Some(to)) = (
            d.nodes.iter().position(|n| n.id == e.from),
            d.nodes.iter().position(|n| n.id == e.to),
        ) else {
            continue;
        };
        let count = overlay.map(|o| o.edge_count(e));
        let (width, line, stroke, class) = match count {
            None => (2, LineStyleKind::Normal, "#333333", "wf-edge"),
            Some(0) => (1, LineStyleKind::Dashed, "#9a9a9a", "wf-edge not-taken"),
            Some(_) => (3, LineStyleKind::Normal, "#1b5e20", "wf-edge taken"),
        };
        let look = StyleAttr::new(color(stroke), width, None, 0, FONT);
        let props = format!(
            "class=\"{class}\" data-from=\"{}\" data-to=\"{}\" data-branch=\"{}\"",
            attr(&e.from),
            attr(&e.to),
            attr(e.branch.as_deref().unwrap_or(""))
        );
        let arrow = Arrow::with_properties(
            LineEndKind::None,
            LineEndKind::Arrow,
            line,
            &edge_label(e, overlay),
            &look,
            props,
            &None,
            &None,
        );
        vg.add_edge(arrow, handles[from], handles[to]);
    }
    if d.nodes.is_empty() {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"></svg>"
            .to_string();
    }
    let mut writer = SVGWriter::new();
    vg.do_it(false, false, false, &mut writer);
    let text = writer.finalize();
    // Drop the XML declaration so the picture can be inlined in HTML.
    let body = match text.find("<svg") {
        Some(i) => &text[i..],
        None => &text,
    };
    body.replacen(
        "<svg ",
        &format!(
            "<svg class=\"wf-graph\" role=\"img\" aria-label=\"{}\" ",
            attr(&format!("workflow {}", d.name))
        ),
        1,
    )
}
