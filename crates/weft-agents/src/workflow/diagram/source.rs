//! The workflow of a source file, read without running it (`weft runs
//! graph FILE.wf`): every `workflow_graph({...})` / `workflow_validate`
//! call whose definition is a dict literal. The parts a picture needs —
//! `name`, `entry`, each node's `kind`, and `edges` — must be literals;
//! anything else (prompts, closures, tools) may be any expression.
//! Problems are diagnostics pointing at the expression.

use std::sync::Arc;

use weft_syntax::ast::{
    Arg, Block, DictItem, DictKey, Expr, ExprKind, ListItem, Module, Stmt, StmtKind, TemplatePart,
};
use weft_syntax::diagnostic::{Diagnostic, SourceFile};
use weft_syntax::span::Span;
use weft_syntax::suggest::did_you_mean;

use super::model::{Diagram, DiagramEdge, DiagramNode};

/// Builtins whose first argument is a workflow definition.
const DEFINERS: &[&str] = &["workflow_graph", "workflow_validate", "workflow_diagram"];

/// The diagram of the workflow defined in `file` — the one named `name`
/// when several are defined.
pub fn diagram_of_source(
    file: &Arc<SourceFile>,
    name: Option<&str>,
) -> Result<Diagram, Diagnostic> {
    let module = weft_syntax::parse_module(file)?;
    let mut calls = Vec::new();
    collect_module(&module, &mut calls);
    let whole = Span::new(0, 0);
    let err = |msg: String, span: Span| Diagnostic::new("value_error", msg, span).with_file(file);
    if calls.is_empty() {
        return Err(err(
            format!(
                "{} defines no workflow: expected a call workflow_graph({{...}}) with a dict literal",
                file.name
            ),
            whole,
        ));
    }
    let mut diagrams = Vec::new();
    for (dict, span) in calls {
        diagrams.push(read_definition(dict, span).map_err(|(m, s)| err(m, s))?);
    }
    match name {
        Some(want) => {
            let names: Vec<&str> = diagrams.iter().map(|d| d.name.as_str()).collect();
            match diagrams.iter().position(|d| d.name == want) {
                Some(i) => Ok(diagrams.swap_remove(i)),
                None => Err(err(
                    format!(
                        "{} defines no workflow named '{want}'{} (workflows: {})",
                        file.name,
                        did_you_mean(want, names.iter().copied())
                            .map(|s| format!(" (did you mean '{s}'?)"))
                            .unwrap_or_default(),
                        names.join(", ")
                    ),
                    whole,
                )),
            }
        }
        None if diagrams.len() > 1 => {
            let names: Vec<&str> = diagrams.iter().map(|d| d.name.as_str()).collect();
            Err(err(
                format!(
                    "{} defines {} workflows ({}); choose one with --name",
                    file.name,
                    diagrams.len(),
                    names.join(", ")
                ),
                whole,
            ))
        }
        None => Ok(diagrams.remove(0)),
    }
}

type Found<'a> = Vec<(&'a [DictItem], Span)>;

fn collect_module<'a>(m: &'a Module, out: &mut Found<'a>) {
    for s in &m.stmts {
        collect_stmt(s, out);
    }
}

fn collect_block<'a>(b: &'a Block, out: &mut Found<'a>) {
    for s in &b.stmts {
        collect_stmt(s, out);
    }
}

fn collect_stmt<'a>(s: &'a Stmt, out: &mut Found<'a>) {
    match &s.kind {
        StmtKind::Let { value, .. } => collect_expr(value, out),
        StmtKind::Fn { def, .. } => collect_block(&def.body, out),
        StmtKind::Import(_) => {}
        StmtKind::Assign { target, value, .. } => {
            collect_expr(target, out);
            collect_expr(value, out);
        }
        StmtKind::Expr(e) => collect_expr(e, out),
    }
}

fn collect_args<'a>(args: &'a [Arg], out: &mut Found<'a>) {
    for a in args {
        match a {
            Arg::Positional(e) | Arg::Spread(e) => collect_expr(e, out),
        }
    }
}

fn collect_expr<'a>(e: &'a Expr, out: &mut Found<'a>) {
    match &e.kind {
        ExprKind::Call { callee, args } => {
            if let ExprKind::Ident(name) = &callee.kind {
                if DEFINERS.contains(&name.as_str()) {
                    if let Some(Arg::Positional(Expr {
                        kind: ExprKind::Dict(items),
                        span,
                    })) = args.first()
                    {
                        out.push((items, *span));
                    }
                }
            }
            collect_expr(callee, out);
            collect_args(args, out);
        }
        ExprKind::MethodCall { receiver, args, .. } => {
            collect_expr(receiver, out);
            collect_args(args, out);
        }
        ExprKind::Template(parts) => {
            for p in parts {
                if let TemplatePart::Expr(e) = p {
                    collect_expr(e, out);
                }
            }
        }
        ExprKind::List(items) => {
            for i in items {
                match i {
                    ListItem::Item(e) | ListItem::Spread(e) => collect_expr(e, out),
                }
            }
        }
        ExprKind::Dict(items) => {
            for i in items {
                match i {
                    DictItem::Entry { key, value } => {
                        if let DictKey::Computed(k) = key {
                            collect_expr(k, out);
                        }
                        collect_expr(value, out);
                    }
                    DictItem::Spread(e) => collect_expr(e, out),
                }
            }
        }
        ExprKind::Unary { expr, .. } | ExprKind::Throw(expr) => collect_expr(expr, out),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Pipe { lhs, rhs } => {
            collect_expr(lhs, out);
            collect_expr(rhs, out);
        }
        ExprKind::Member { object, .. } => collect_expr(object, out),
        ExprKind::Index { object, index, .. } => {
            collect_expr(object, out);
            collect_expr(index, out);
        }
        ExprKind::Slice {
            object, start, end, ..
        } => {
            collect_expr(object, out);
            for e in start.iter().chain(end.iter()) {
                collect_expr(e, out);
            }
        }
        ExprKind::Function(def) => collect_block(&def.body, out),
        ExprKind::If {
            cond,
            then_block,
            else_branch,
        } => {
            collect_expr(cond, out);
            collect_block(then_block, out);
            if let Some(e) = else_branch {
                collect_expr(e, out);
            }
        }
        ExprKind::While { cond, body } => {
            collect_expr(cond, out);
            collect_block(body, out);
        }
        ExprKind::For { iter, body, .. } => {
            collect_expr(iter, out);
            collect_block(body, out);
        }
        ExprKind::Match { subject, arms } => {
            collect_expr(subject, out);
            for a in arms {
                if let Some(g) = &a.guard {
                    collect_expr(g, out);
                }
                collect_expr(&a.body, out);
            }
        }
        ExprKind::Try {
            body,
            catch,
            finally,
        } => {
            collect_block(body, out);
            if let Some(c) = catch {
                collect_block(&c.body, out);
            }
            if let Some(f) = finally {
                collect_block(f, out);
            }
        }
        ExprKind::Block(b) | ExprKind::Spawn(b) => collect_block(b, out),
        ExprKind::Return(Some(e)) => collect_expr(e, out),
        ExprKind::Nil
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Ident(_)
        | ExprKind::Placeholder
        | ExprKind::Return(None)
        | ExprKind::Break
        | ExprKind::Continue => {}
    }
}

type Problem = (String, Span);

/// The entries of a dict literal by key (computed keys and spreads are
/// problems: the keys must be visible).
fn entries<'a>(
    items: &'a [DictItem],
    what: &str,
) -> Result<Vec<(String, Span, &'a Expr)>, Problem> {
    let mut out = Vec::new();
    for item in items {
        match item {
            DictItem::Entry {
                key: DictKey::Name(k, span) | DictKey::Str(k, span),
                value,
            } => out.push((k.clone(), *span, value)),
            DictItem::Entry {
                key: DictKey::Computed(e),
                ..
            } => {
                return Err((
                    format!("{what}: a computed key cannot be drawn without running the script"),
                    e.span,
                ))
            }
            DictItem::Spread(e) => {
                return Err((
                    format!("{what}: a spread '...' cannot be drawn without running the script"),
                    e.span,
                ))
            }
        }
    }
    Ok(out)
}

fn literal_str(e: &Expr, what: &str) -> Result<String, Problem> {
    match &e.kind {
        ExprKind::Str(s) => Ok(s.clone()),
        _ => Err((
            format!("{what} must be a string literal to be drawn without running the script"),
            e.span,
        )),
    }
}

fn read_definition(items: &[DictItem], span: Span) -> Result<Diagram, Problem> {
    let mut name = "workflow".to_string();
    let mut entry = None;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut saw_nodes = false;
    for (key, _, value) in entries(items, "the workflow definition")? {
        match key.as_str() {
            "name" => name = literal_str(value, "'name'")?,
            "entry" => entry = Some((literal_str(value, "'entry'")?, value.span)),
            "nodes" => {
                saw_nodes = true;
                let ExprKind::Dict(node_items) = &value.kind else {
                    return Err((
                        "'nodes' must be a dict literal to be drawn without running the script"
                            .into(),
                        value.span,
                    ));
                };
                for (id, _, spec) in entries(&node_items[..], "'nodes'")? {
                    let ExprKind::Dict(spec_items) = &spec.kind else {
                        return Err((format!("node '{id}' must be a dict literal to be drawn without running the script"), spec.span));
                    };
                    let mut kind = None;
                    for (k, _, v) in entries(&spec_items[..], &format!("node '{id}'"))? {
                        if k == "kind" {
                            kind = Some(literal_str(v, &format!("node '{id}': 'kind'"))?);
                        }
                    }
                    let kind = kind
                        .ok_or_else(|| (format!("node '{id}': 'kind' is required"), spec.span))?;
                    nodes.push(DiagramNode { id, kind });
                }
            }
            "edges" => {
                let ExprKind::List(list) = &value.kind else {
                    return Err((
                        "'edges' must be a list literal to be drawn without running the script"
                            .into(),
                        value.span,
                    ));
                };
                for (i, item) in list.iter().enumerate() {
                    let ListItem::Item(Expr {
                        kind: ExprKind::Dict(e_items),
                        span: e_span,
                    }) = item
                    else {
                        let span = match item {
                            ListItem::Item(e) | ListItem::Spread(e) => e.span,
                        };
                        return Err((format!("edges[{i}] must be a dict literal {{from, to, branch?}} to be drawn without running the script"), span));
                    };
                    let mut from = None;
                    let mut to = None;
                    let mut branch = None;
                    for (k, _, v) in entries(&e_items[..], &format!("edges[{i}]"))? {
                        match k.as_str() {
                            "from" => from = Some((literal_str(v, &format!("edges[{i}].from"))?, v.span)),
                            "to" => to = Some((literal_str(v, &format!("edges[{i}].to"))?, v.span)),
                            "branch" => {
                                branch = match &v.kind {
                                    ExprKind::Str(s) => Some(s.clone()),
                                    ExprKind::Bool(b) => Some(b.to_string()),
                                    ExprKind::Nil => None,
                                    _ => return Err((format!("edges[{i}].branch must be a string literal to be drawn without running the script"), v.span)),
                                }
                            }
                            _ => {}
                        }
                    }
                    let (Some(from), Some(to)) = (from, to) else {
                        return Err((format!("edges[{i}] needs both 'from' and 'to'"), *e_span));
                    };
                    edges.push((
                        DiagramEdge {
                            from: from.0,
                            to: to.0,
                            branch,
                        },
                        from.1,
                        to.1,
                    ));
                }
            }
            _ => {}
        }
    }
    if !saw_nodes || nodes.is_empty() {
        return Err(("the workflow definition has no 'nodes'".into(), span));
    }
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let check = |id: &str, span: Span, what: &str| -> Result<(), Problem> {
        if ids.contains(&id) {
            return Ok(());
        }
        Err((
            format!(
                "{what} names unknown node '{id}'{}",
                did_you_mean(id, ids.iter().copied())
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default()
            ),
            span,
        ))
    };
    for (i, (e, fs, ts)) in edges.iter().enumerate() {
        check(&e.from, *fs, &format!("edges[{i}].from"))?;
        check(&e.to, *ts, &format!("edges[{i}].to"))?;
    }
    let entry = match entry {
        Some((e, s)) => {
            check(&e, s, "'entry'")?;
            e
        }
        None => nodes[0].id.clone(),
    };
    Ok(Diagram {
        name,
        entry,
        nodes,
        edges: edges.into_iter().map(|(e, _, _)| e).collect(),
    })
}
