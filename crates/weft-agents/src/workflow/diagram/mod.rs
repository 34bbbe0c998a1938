//! Pictures of workflow graphs (`workflow_diagram`, `weft runs graph`,
//! `weft ui`): a [`Diagram`] — nodes with their kinds, branch-labelled
//! edges — built from a typed [`Graph`], from a run record's stored
//! definition, or from the literal `workflow_graph({...})` of a source
//! file; optionally an [`Overlay`] of what a run did (each node's status
//! and visits, each edge's count); rendered as Mermaid, DOT or SVG (laid
//! out by the `layout-rs` crate).

pub mod dot;
pub mod mermaid;
pub mod model;
pub mod source;
pub mod svg;

#[cfg(test)]
mod tests;

pub use model::{Diagram, DiagramEdge, DiagramNode, Overlay};

use weft_syntax::suggest::did_you_mean;

/// The picture formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
    Svg,
}

/// The format names, as options and flags spell them.
pub const FORMATS: &[&str] = &["mermaid", "dot", "svg"];

impl Format {
    /// Parses a format name; the error lists the names (with a
    /// did-you-mean).
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "mermaid" => Ok(Format::Mermaid),
            "dot" => Ok(Format::Dot),
            "svg" => Ok(Format::Svg),
            other => Err(format!(
                "unknown diagram format '{other}'{}",
                match did_you_mean(other, FORMATS.iter().copied()) {
                    Some(s) => format!(" (did you mean '{s}'?)"),
                    None => format!(" (formats: {})", FORMATS.join(", ")),
                }
            )),
        }
    }
}

/// The picture of `diagram` (with what a run did, when `overlay` is given).
pub fn render(diagram: &Diagram, overlay: Option<&Overlay>, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid::render(diagram, overlay),
        Format::Dot => dot::render(diagram, overlay),
        Format::Svg => svg::render(diagram, overlay),
    }
}
