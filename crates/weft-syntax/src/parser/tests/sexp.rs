//! A compact S-expression rendering of the AST, so tests can state the
//! expected shape in one line.

use crate::ast::*;

pub fn module(m: &Module) -> String {
    stmts(&m.stmts)
}

fn stmts(s: &[Stmt]) -> String {
    s.iter().map(stmt).collect::<Vec<_>>().join("; ")
}

fn block(b: &Block) -> String {
    format!("{{{}}}", stmts(&b.stmts))
}

pub fn stmt(s: &Stmt) -> String {
    match &s.kind {
        StmtKind::Let {
            public,
            mutable,
            pattern: p,
            value,
        } => format!(
            "({}{} {} {})",
            if *public { "pub " } else { "" },
            if *mutable { "var" } else { "let" },
            pattern(p),
            expr(value)
        ),
        StmtKind::Fn { public, def } => {
            format!("{}{}", if *public { "pub " } else { "" }, fndef(def))
        }
        StmtKind::Import(i) => match &i.names {
            None if i.public => format!("(pub import {:?})", i.path),
            None => format!("(import {:?})", i.path),
            Some(names) => {
                let names: Vec<String> = names
                    .iter()
                    .map(|n| match &n.alias {
                        Some(a) => format!("{}:{}", n.name, a),
                        None => n.name.clone(),
                    })
                    .collect();
                let kw = if i.public { "pub import" } else { "import" };
                format!("({kw} {:?} {})", i.path, names.join(" "))
            }
        },
        StmtKind::Assign { target, op, value } => format!(
            "({}= {} {})",
            op.map_or("", |o| o.symbol()),
            expr(target),
            expr(value)
        ),
        StmtKind::Expr(e) => expr(e),
    }
}

fn fndef(d: &FnDef) -> String {
    let mut ps: Vec<String> = d
        .params
        .iter()
        .map(|p| match &p.default {
            Some(e) => format!("{}={}", p.name, expr(e)),
            None => p.name.clone(),
        })
        .collect();
    if let Some(r) = &d.rest {
        ps.push(format!("...{}", r.name));
    }
    match &d.name {
        Some(n) => format!("(fn {} ({}) {})", n, ps.join(" "), block(&d.body)),
        None => format!("(fn ({}) {})", ps.join(" "), block(&d.body)),
    }
}

fn args(a: &[Arg]) -> String {
    a.iter()
        .map(|a| match a {
            Arg::Positional(e) => format!(" {}", expr(e)),
            Arg::Spread(e) => format!(" ...{}", expr(e)),
        })
        .collect()
}

fn opt(e: &Option<Box<Expr>>) -> String {
    e.as_ref().map_or("-".to_string(), |e| expr(e))
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Nil => "nil".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Template(parts) => {
            let ps: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    TemplatePart::Lit(s) => format!("{s:?}"),
                    TemplatePart::Expr(e) => expr(e),
                })
                .collect();
            format!("(tmpl {})", ps.join(" "))
        }
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Placeholder => "_".into(),
        ExprKind::List(items) => {
            let is: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ListItem::Item(e) => expr(e),
                    ListItem::Spread(e) => format!("...{}", expr(e)),
                })
                .collect();
            format!("[{}]", is.join(" "))
        }
        ExprKind::Dict(items) => {
            let is: Vec<String> = items
                .iter()
                .map(|i| match i {
                    DictItem::Entry { key, value } => {
                        let k = match key {
                            DictKey::Name(n, _) => n.clone(),
                            DictKey::Str(s, _) => format!("{s:?}"),
                            DictKey::Computed(e) => format!("[{}]", expr(e)),
                        };
                        format!("{k}: {}", expr(value))
                    }
                    DictItem::Spread(e) => format!("...{}", expr(e)),
                })
                .collect();
            format!("{{{}}}", is.join(", "))
        }
        ExprKind::Unary { op, expr: x } => {
            let o = match op {
                UnaryOp::Not => "!",
                UnaryOp::Neg => "-",
            };
            format!("({o} {})", expr(x))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), expr(lhs), expr(rhs))
        }
        ExprKind::Pipe { lhs, rhs } => format!("(|> {} {})", expr(lhs), expr(rhs)),
        ExprKind::Call { callee, args: a } => format!("(call {}{})", expr(callee), args(a)),
        ExprKind::MethodCall {
            receiver,
            name,
            args: a,
            optional,
            ..
        } => format!(
            "({}{} {}{})",
            if *optional { "?." } else { "." },
            name,
            expr(receiver),
            args(a)
        ),
        ExprKind::Member {
            object,
            name,
            optional,
            ..
        } => format!(
            "({} {} {})",
            if *optional { "?." } else { "." },
            expr(object),
            name
        ),
        ExprKind::Index {
            object,
            index,
            optional,
        } => format!(
            "({} {} {})",
            if *optional { "?[]" } else { "[]" },
            expr(object),
            expr(index)
        ),
        ExprKind::Slice {
            object,
            start,
            end,
            optional,
        } => format!(
            "({} {} {} {})",
            if *optional { "?[:]" } else { "[:]" },
            expr(object),
            opt(start),
            opt(end)
        ),
        ExprKind::Function(d) => fndef(d),
        ExprKind::If {
            cond,
            then_block,
            else_branch,
        } => match else_branch {
            Some(e) => format!("(if {} {} {})", expr(cond), block(then_block), expr(e)),
            None => format!("(if {} {})", expr(cond), block(then_block)),
        },
        ExprKind::While { cond, body } => format!("(while {} {})", expr(cond), block(body)),
        ExprKind::For {
            pattern: p,
            iter,
            body,
        } => {
            format!("(for {} {} {})", pattern(p), expr(iter), block(body))
        }
        ExprKind::Match { subject, arms } => {
            let a: Vec<String> = arms
                .iter()
                .map(|a| match &a.guard {
                    Some(g) => format!(
                        "({} if {} -> {})",
                        pattern(&a.pattern),
                        expr(g),
                        expr(&a.body)
                    ),
                    None => format!("({} -> {})", pattern(&a.pattern), expr(&a.body)),
                })
                .collect();
            format!("(match {} {})", expr(subject), a.join(" "))
        }
        ExprKind::Try {
            body,
            catch,
            finally,
        } => {
            let mut s = format!("(try {}", block(body));
            if let Some(c) = catch {
                s.push_str(" catch");
                if let Some(p) = &c.binding {
                    s.push(' ');
                    s.push_str(&pattern(p));
                }
                s.push(' ');
                s.push_str(&block(&c.body));
            }
            if let Some(f) = finally {
                s.push_str(" finally ");
                s.push_str(&block(f));
            }
            s.push(')');
            s
        }
        ExprKind::Block(b) => block(b),
        ExprKind::Return(e) => match e {
            Some(e) => format!("(return {})", expr(e)),
            None => "(return)".into(),
        },
        ExprKind::Break => "(break)".into(),
        ExprKind::Continue => "(continue)".into(),
        ExprKind::Throw(e) => format!("(throw {})", expr(e)),
        ExprKind::Spawn(b) => format!("(spawn {})", block(b)),
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Nil => "nil".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => format!("{f:?}"),
        Literal::Str(s) => format!("{s:?}"),
    }
}

pub fn pattern(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Wildcard => "_".into(),
        PatternKind::Bind(n) => n.clone(),
        PatternKind::Literal(l) => literal(l),
        PatternKind::List { items, rest } => {
            let mut is: Vec<String> = items
                .iter()
                .map(|i| match &i.default {
                    Some(d) => format!("{} = {}", pattern(&i.pattern), expr(d)),
                    None => pattern(&i.pattern),
                })
                .collect();
            match rest {
                Some(Some((n, _))) => is.push(format!("...{n}")),
                Some(None) => is.push("...".into()),
                None => {}
            }
            format!("[{}]", is.join(" "))
        }
        PatternKind::Dict { entries, rest } => {
            let mut is: Vec<String> = entries
                .iter()
                .map(|e| {
                    let mut s = e.key.clone();
                    if let Some(p) = &e.pattern {
                        s.push_str(": ");
                        s.push_str(&pattern(p));
                    }
                    if let Some(d) = &e.default {
                        s.push_str(" = ");
                        s.push_str(&expr(d));
                    }
                    s
                })
                .collect();
            if let Some((n, _)) = rest {
                is.push(format!("...{n}"));
            }
            format!("{{{}}}", is.join(", "))
        }
        PatternKind::Or(ps) => format!(
            "(| {})",
            ps.iter().map(pattern).collect::<Vec<_>>().join(" ")
        ),
    }
}
