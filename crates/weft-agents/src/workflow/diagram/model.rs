//! The shape a picture is drawn from: [`Diagram`] (nodes and edges of a
//! workflow definition) and [`Overlay`] (what one run did to them), with
//! their constructors from a typed graph, a stored definition and a run
//! record.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::workflow::graph::Graph;

/// A node: its id and kind (`stage`, `verify`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagramNode {
    pub id: String,
    pub kind: String,
}

/// An edge, labelled with its branch (none: taken on any other outcome).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagramEdge {
    pub from: String,
    pub to: String,
    pub branch: Option<String>,
}

/// A workflow definition as a picture sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagram {
    pub name: String,
    pub entry: String,
    pub nodes: Vec<DiagramNode>,
    pub edges: Vec<DiagramEdge>,
}

impl Diagram {
    /// The diagram of a parsed graph.
    pub fn from_graph(g: &Graph) -> Diagram {
        Diagram {
            name: g.name.clone(),
            entry: g.entry.clone(),
            nodes: g
                .nodes
                .iter()
                .map(|(id, n)| DiagramNode {
                    id: id.clone(),
                    kind: n.kind.name().to_string(),
                })
                .collect(),
            edges: g
                .edges
                .iter()
                .map(|e| DiagramEdge {
                    from: e.from.clone(),
                    to: e.to.clone(),
                    branch: e.branch.clone(),
                })
                .collect(),
        }
    }

    /// The diagram of a normalised definition as a run record stores it
    /// (`definition`: `{name, entry, nodes: {id: {kind, ...}}, edges}`).
    pub fn from_definition(def: &Json) -> Result<Diagram, String> {
        let nodes = def["nodes"]
            .as_object()
            .ok_or("the stored definition has no 'nodes' dict")?;
        let nodes: Vec<DiagramNode> = nodes
            .iter()
            .map(|(id, n)| DiagramNode {
                id: id.clone(),
                kind: n["kind"].as_str().unwrap_or("stage").to_string(),
            })
            .collect();
        let mut edges = Vec::new();
        for (i, e) in def["edges"].as_array().into_iter().flatten().enumerate() {
            let end = |k: &str| {
                e[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("edges[{i}] of the stored definition has no '{k}'"))
            };
            edges.push(DiagramEdge {
                from: end("from")?,
                to: end("to")?,
                branch: match &e["branch"] {
                    Json::String(s) => Some(s.clone()),
                    Json::Bool(b) => Some(b.to_string()),
                    _ => None,
                },
            });
        }
        let entry = def["entry"]
            .as_str()
            .map(str::to_string)
            .or_else(|| nodes.first().map(|n| n.id.clone()))
            .unwrap_or_default();
        Ok(Diagram {
            name: def["name"].as_str().unwrap_or("workflow").to_string(),
            entry,
            nodes,
            edges,
        })
    }

    /// The diagram of a run record (its stored definition).
    pub fn from_record(record: &Json) -> Result<Diagram, String> {
        Diagram::from_definition(&record["definition"])
    }

    /// Whether `id` is a node of the diagram.
    pub fn has_node(&self, id: &str) -> bool {
        self.nodes.iter().any(|n| n.id == id)
    }
}

/// What one run did: each node's latest status and number of visits, and
/// how often each edge was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    pub status: HashMap<String, String>,
    pub visits: HashMap<String, u32>,
    pub taken: HashMap<DiagramEdge, u32>,
    /// Nodes scheduled but not started (`pending` of a paused or crashed
    /// run).
    pub pending: Vec<String>,
}

impl Overlay {
    /// The overlay of a run record: stages (in order) and transitions.
    pub fn from_record(record: &Json) -> Overlay {
        let mut o = Overlay::default();
        for st in record["stages"].as_array().into_iter().flatten() {
            let Some(node) = st["node"].as_str() else {
                continue;
            };
            *o.visits.entry(node.to_string()).or_default() += 1;
            o.status.insert(
                node.to_string(),
                st["status"].as_str().unwrap_or("running").to_string(),
            );
        }
        for t in record["transitions"].as_array().into_iter().flatten() {
            let (Some(from), Some(to)) = (t["from"].as_str(), t["to"].as_str()) else {
                continue;
            };
            let edge = DiagramEdge {
                from: from.to_string(),
                to: to.to_string(),
                branch: t["branch"].as_str().map(str::to_string),
            };
            *o.taken.entry(edge).or_default() += 1;
        }
        o.pending = record["pending"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        o
    }

    /// A node's status for colouring: its latest stage's status,
    /// `pending` when scheduled, else `idle` (never reached).
    pub fn node_status(&self, id: &str) -> &str {
        match self.status.get(id) {
            Some(s) => s,
            None if self.pending.iter().any(|p| p == id) => "pending",
            None => "idle",
        }
    }

    /// How often `edge` was taken.
    pub fn edge_count(&self, edge: &DiagramEdge) -> u32 {
        self.taken.get(edge).copied().unwrap_or(0)
    }
}

/// The label of a node: its id, then its kind (and visits when more
/// than one).
pub fn node_label(node: &DiagramNode, overlay: Option<&Overlay>) -> (String, String) {
    let visits = overlay
        .and_then(|o| o.visits.get(&node.id).copied())
        .unwrap_or(0);
    let second = if visits > 1 {
        format!("{} ×{visits}", node.kind)
    } else {
        node.kind.clone()
    };
    (node.id.clone(), second)
}

/// The label of an edge: its branch, and with an overlay the times it was
/// taken (`failed ×2`); empty for an unlabelled edge never taken.
pub fn edge_label(edge: &DiagramEdge, overlay: Option<&Overlay>) -> String {
    let count = overlay.map_or(0, |o| o.edge_count(edge));
    match (&edge.branch, count) {
        (Some(b), 0 | 1) => b.clone(),
        (Some(b), n) => format!("{b} ×{n}"),
        (None, 0 | 1) => String::new(),
        (None, n) => format!("×{n}"),
    }
}
