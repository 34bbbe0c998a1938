//! Walks over the AST used by the compiler's planning passes: the names a
//! pattern binds, identifiers mentioned inside functions, identifier counts,
//! and a generic pre-order expression walk.

use std::collections::HashSet;

use weft_syntax::ast::{Expr, ExprKind, Pattern, PatternKind, Stmt, StmtKind};
use weft_syntax::Span;

/// Builtins that call script functions passed to them.
pub(super) const CALLBACK_BUILTINS: &[&str] = &[
    "map",
    "filter",
    "reduce",
    "find",
    "find_index",
    "any",
    "all",
    "flat_map",
    "sort_by",
    "group_by",
    "map_values",
    "filter_entries",
    "assert_throws",
    "parallel_map",
    "parallel_settle",
];

/// The names a declaration pattern binds, in order.
pub(super) fn pattern_names(p: &weft_syntax::ast::Pattern, out: &mut Vec<(String, Span)>) {
    match &p.kind {
        PatternKind::Bind(n) => out.push((n.clone(), p.span)),
        PatternKind::Wildcard | PatternKind::Literal(_) => {}
        PatternKind::List { items, rest } => {
            for i in items {
                pattern_names(&i.pattern, out);
            }
            if let Some(Some((n, s))) = rest {
                out.push((n.clone(), *s));
            }
        }
        PatternKind::Dict { entries, rest } => {
            for e in entries {
                match &e.pattern {
                    Some(p) => pattern_names(p, out),
                    None => out.push((e.key.clone(), e.span)),
                }
            }
            if let Some((n, s)) = rest {
                out.push((n.clone(), *s));
            }
        }
        PatternKind::Or(alts) => {
            if let Some(first) = alts.first() {
                pattern_names(first, out);
            }
        }
    }
}

/// The default-value expressions of a pattern (`{a = 1}`, `[b = 2]`),
/// nested patterns included.
pub(super) fn pattern_defaults<'e>(p: &'e Pattern, out: &mut Vec<&'e Expr>) {
    match &p.kind {
        PatternKind::List { items, .. } => {
            for i in items {
                out.extend(i.default.as_ref());
                pattern_defaults(&i.pattern, out);
            }
        }
        PatternKind::Dict { entries, .. } => {
            for e in entries {
                out.extend(e.default.as_ref());
                if let Some(p) = &e.pattern {
                    pattern_defaults(p, out);
                }
            }
        }
        PatternKind::Or(alts) => {
            for a in alts {
                pattern_defaults(a, out);
            }
        }
        PatternKind::Bind(_) | PatternKind::Wildcard | PatternKind::Literal(_) => {}
    }
}

/// Every identifier mentioned inside a function body (or closure, or
/// parameter default) within `stmt`.
pub(super) fn collect_function_idents(stmt: &Stmt, out: &mut HashSet<String>) {
    fn collect_all(e: &Expr, out: &mut HashSet<String>) {
        walk_expr(e, &mut |x| {
            if let ExprKind::Ident(n) = &x.kind {
                out.insert(n.clone());
            }
        });
    }
    fn visit<'e>(e: &'e Expr, bodies: &mut Vec<&'e weft_syntax::ast::FnDef>) {
        walk_expr(e, &mut |x| {
            if let ExprKind::Function(def) = &x.kind {
                bodies.push(def);
            }
        });
    }
    let mut fn_bodies: Vec<&weft_syntax::ast::FnDef> = Vec::new();
    match &stmt.kind {
        StmtKind::Fn { def, .. } => fn_bodies.push(def),
        StmtKind::Let { value, pattern, .. } => {
            visit(value, &mut fn_bodies);
            let mut defaults = Vec::new();
            pattern_defaults(pattern, &mut defaults);
            for d in defaults {
                visit(d, &mut fn_bodies);
            }
        }
        StmtKind::Assign { target, value, .. } => {
            visit(target, &mut fn_bodies);
            visit(value, &mut fn_bodies);
        }
        StmtKind::Expr(e) => visit(e, &mut fn_bodies),
        StmtKind::Import(_) => {}
    }
    for def in fn_bodies {
        for st in &def.body.stmts {
            let mut inner = HashSet::new();
            let mut nested: Vec<&weft_syntax::ast::FnDef> = Vec::new();
            match &st.kind {
                StmtKind::Fn { def, .. } => nested.push(def),
                StmtKind::Let { value, pattern, .. } => {
                    collect_all(value, &mut inner);
                    let mut defaults = Vec::new();
                    pattern_defaults(pattern, &mut defaults);
                    for d in defaults {
                        collect_all(d, &mut inner);
                    }
                }
                StmtKind::Assign { target, value, .. } => {
                    collect_all(target, &mut inner);
                    collect_all(value, &mut inner);
                }
                StmtKind::Expr(e) => collect_all(e, &mut inner),
                StmtKind::Import(_) => {}
            }
            out.extend(inner);
            for d in nested {
                collect_fn_def(d, out);
            }
        }
        for p in &def.params {
            if let Some(d) = &p.default {
                collect_all(d, out);
            }
        }
    }

    fn collect_fn_def(def: &weft_syntax::ast::FnDef, out: &mut HashSet<String>) {
        let st = Stmt {
            kind: StmtKind::Fn {
                public: false,
                def: def.clone(),
            },
            span: def.span,
        };
        collect_function_idents(&st, out);
    }
}

/// How many times identifier `name` is read in `e` (closures included).
pub(super) fn count_ident(e: &Expr, name: &str) -> usize {
    let mut n = 0;
    walk_expr(e, &mut |x| {
        if matches!(&x.kind, ExprKind::Ident(i) if i == name) {
            n += 1;
        }
    });
    n
}

/// Calls `f` on `e` and every expression nested in it (including inside
/// closures and blocks).
pub(super) fn walk_expr<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    use weft_syntax::ast::{Arg, DictItem, DictKey, ListItem, TemplatePart};
    let mut stack = vec![e];
    fn push_block<'e>(b: &'e weft_syntax::ast::Block, stack: &mut Vec<&'e Expr>) {
        for s in &b.stmts {
            push_stmt(s, stack);
        }
    }
    fn push_stmt<'e>(s: &'e Stmt, stack: &mut Vec<&'e Expr>) {
        match &s.kind {
            StmtKind::Expr(e) => stack.push(e),
            StmtKind::Let { value, pattern, .. } => {
                stack.push(value);
                pattern_defaults(pattern, stack);
            }
            StmtKind::Fn { def, .. } => push_block(&def.body, stack),
            StmtKind::Assign { target, value, .. } => {
                stack.push(target);
                stack.push(value);
            }
            StmtKind::Import(_) => {}
        }
    }
    while let Some(x) = stack.pop() {
        f(x);
        match &x.kind {
            ExprKind::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Expr(e) = p {
                        stack.push(e);
                    }
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    match i {
                        ListItem::Item(e) | ListItem::Spread(e) => stack.push(e),
                    }
                }
            }
            ExprKind::Dict(items) => {
                for i in items {
                    match i {
                        DictItem::Entry { key, value } => {
                            if let DictKey::Computed(k) = key {
                                stack.push(k);
                            }
                            stack.push(value);
                        }
                        DictItem::Spread(e) => stack.push(e),
                    }
                }
            }
            ExprKind::Unary { expr, .. } => stack.push(expr),
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Pipe { lhs, rhs } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            ExprKind::Call { callee, args } => {
                stack.push(callee);
                for a in args {
                    match a {
                        Arg::Positional(e) | Arg::Spread(e) => stack.push(e),
                    }
                }
            }
            ExprKind::MethodCall { receiver, args, .. } => {
                stack.push(receiver);
                for a in args {
                    match a {
                        Arg::Positional(e) | Arg::Spread(e) => stack.push(e),
                    }
                }
            }
            ExprKind::Member { object, .. } => stack.push(object),
            ExprKind::Index { object, index, .. } => {
                stack.push(object);
                stack.push(index);
            }
            ExprKind::Slice {
                object, start, end, ..
            } => {
                stack.push(object);
                if let Some(s) = start {
                    stack.push(s);
                }
                if let Some(e) = end {
                    stack.push(e);
                }
            }
            ExprKind::Function(def) => {
                for p in &def.params {
                    if let Some(d) = &p.default {
                        stack.push(d);
                    }
                }
                push_block(&def.body, &mut stack);
            }
            ExprKind::If {
                cond,
                then_block,
                else_branch,
            } => {
                stack.push(cond);
                push_block(then_block, &mut stack);
                if let Some(e) = else_branch {
                    stack.push(e);
                }
            }
            ExprKind::While { cond, body } => {
                stack.push(cond);
                push_block(body, &mut stack);
            }
            ExprKind::For {
                pattern,
                iter,
                body,
            } => {
                stack.push(iter);
                pattern_defaults(pattern, &mut stack);
                push_block(body, &mut stack);
            }
            ExprKind::Match { subject, arms } => {
                stack.push(subject);
                for a in arms {
                    pattern_defaults(&a.pattern, &mut stack);
                    if let Some(g) = &a.guard {
                        stack.push(g);
                    }
                    stack.push(&a.body);
                }
            }
            ExprKind::Try {
                body,
                catch,
                finally,
            } => {
                push_block(body, &mut stack);
                if let Some(c) = catch {
                    if let Some(p) = &c.binding {
                        pattern_defaults(p, &mut stack);
                    }
                    push_block(&c.body, &mut stack);
                }
                if let Some(f) = finally {
                    push_block(f, &mut stack);
                }
            }
            ExprKind::Block(b) | ExprKind::Spawn(b) => push_block(b, &mut stack),
            ExprKind::Return(Some(e)) | ExprKind::Throw(e) => stack.push(e),
            _ => {}
        }
    }
}
