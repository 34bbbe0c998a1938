//! What `weft mcp serve` needs to offer a module's functions as MCP tools:
//! its `pub fn`s with their parameters and doc comments
//! ([`public_functions`]), and the `mcp_tool(...)` declarations the module
//! made when it ran ([`Engine::mcp_tool_declarations`]).

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// One `pub fn` of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicFunction {
    /// The function's name (the tool's name).
    pub name: String,
    /// Parameter names in order, and whether each has a default.
    pub params: Vec<(String, bool)>,
    /// The `//` comment lines right above the declaration, without the
    /// slashes (empty when there are none).
    pub doc: String,
}

/// The `pub fn`s declared at the top level of `source` (a module's text;
/// `name` is used in diagnostics), in order.
///
/// ```
/// let fns = weft::mcp::public_functions("m.wf", "// Adds.\n// Really.\npub fn add(a, b = 1) { a + b }\nfn hidden() {}\n")?;
/// assert_eq!(fns.len(), 1);
/// assert_eq!(fns[0].doc, "Adds.\nReally.");
/// assert_eq!(fns[0].params, vec![("a".to_string(), false), ("b".to_string(), true)]);
/// # Ok::<(), weft::Error>(())
/// ```
pub fn public_functions(name: &str, source: &str) -> Result<Vec<PublicFunction>> {
    let file = weft_syntax::diagnostic::SourceFile::new(name, source);
    let module = weft_syntax::parse_module(&Arc::clone(&file))
        .map_err(|d| Error::from_diagnostics(vec![d]))?;
    let mut out = Vec::new();
    for stmt in &module.stmts {
        let weft_syntax::ast::StmtKind::Fn { public: true, def } = &stmt.kind else {
            continue;
        };
        let Some(fn_name) = &def.name else { continue };
        out.push(PublicFunction {
            name: fn_name.clone(),
            params: def
                .params
                .iter()
                .map(|p| (p.name.clone(), p.default.is_some()))
                .collect(),
            doc: doc_comment(source, stmt.span.start as usize),
        });
    }
    Ok(out)
}

/// The `//` lines directly above byte offset `start` (its line's start).
fn doc_comment(source: &str, start: usize) -> String {
    let before = &source[..start.min(source.len())];
    let before = &before[..before.rfind('\n').map_or(0, |i| i + 1)];
    let mut lines: Vec<&str> = Vec::new();
    for line in before.lines().rev() {
        let t = line.trim();
        match t.strip_prefix("//") {
            Some(rest) => lines.push(rest.trim_start_matches('/').trim()),
            None => break,
        }
    }
    lines.reverse();
    lines.join("\n").trim().to_string()
}

/// Fails when a declaration names no `pub fn` (with a did-you-mean).
pub fn check_declarations(
    functions: &[PublicFunction],
    declarations: &[ToolDeclaration],
) -> std::result::Result<(), String> {
    let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
    for d in declarations {
        if names.contains(&d.name.as_str()) {
            continue;
        }
        let hint = match weft_syntax::suggest::did_you_mean(&d.name, names.iter().copied()) {
            Some(s) => format!(" (did you mean '{s}'?)"),
            None if names.is_empty() => String::new(),
            None => format!(" (pub fns: {})", names.join(", ")),
        };
        return Err(format!(
            "mcp_tool('{}') names no `pub fn` of the module{hint}",
            d.name
        ));
    }
    Ok(())
}

/// What `mcp_tool(NAME, {...})` declared.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolDeclaration {
    /// The function it is about.
    pub name: String,
    /// The tool's description (instead of the doc comment).
    pub description: Option<String>,
    /// The arguments' JSON schema, when declared.
    pub input_schema: Option<serde_json::Value>,
}

impl Engine {
    /// The `mcp_tool` declarations made by the code run so far.
    pub fn mcp_tool_declarations(&mut self) -> Vec<ToolDeclaration> {
        let st = weft_agents::mcp::state::state(self.runtime().program());
        st.declarations
            .borrow()
            .iter()
            .map(|(name, d)| ToolDeclaration {
                name: name.clone(),
                description: d.description.clone(),
                input_schema: d.input_schema.clone(),
            })
            .collect()
    }
}
