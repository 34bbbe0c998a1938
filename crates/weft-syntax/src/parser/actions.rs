//! AST building and the semantic checks the grammar cannot express:
//! assignment targets, closure parameters vs dict entries, parameter lists,
//! patterns allowed in `let`/`for`, `pub`/`import` placement and the `_`
//! pipe placeholder. Called from the actions in `grammar.lalrpop`.

use std::cell::RefCell;
use std::collections::BTreeSet;

use lalrpop_util::ParseError;

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{RawPart, TemplateTok, Tok};
use crate::span::Span;

pub(crate) type PErr<'a> = ParseError<usize, Tok<'a>, Diagnostic>;

fn err<'a, T>(message: impl Into<String>, span: Span) -> Result<T, PErr<'a>> {
    Err(ParseError::User {
        error: Diagnostic::new("syntax_error", message, span),
    })
}

/// State shared by the actions of one parse.
pub(crate) struct Ctx<'a> {
    pub src: &'a str,
    /// Starts of `_` expressions not (yet) claimed by a pipe.
    placeholders: RefCell<BTreeSet<u32>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(src: &'a str) -> Ctx<'a> {
        Ctx {
            src,
            placeholders: RefCell::new(BTreeSet::new()),
        }
    }

    /// Fails when a `_` is used anywhere but as a direct argument of the
    /// call on the right of `|>`.
    pub(crate) fn check_placeholders(&self) -> Result<(), Diagnostic> {
        match self.placeholders.borrow().first() {
            Some(&at) => Err(Diagnostic::new(
                "syntax_error",
                "`_` can only be used as an argument of a call on the right of `|>`",
                Span {
                    start: at,
                    end: at + 1,
                },
            )
            .with_note("help: `x |> f(a, _)` calls `f(a, x)`")),
            None => Ok(()),
        }
    }
}

pub(crate) fn mk(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr {
        kind,
        span: Span::new(l, r),
    }
}

pub(crate) fn placeholder(ctx: &Ctx, l: usize, r: usize) -> Expr {
    ctx.placeholders.borrow_mut().insert(l as u32);
    mk(ExprKind::Placeholder, l, r)
}

pub(crate) fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr {
        span: lhs.span.to(rhs.span),
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    }
}

pub(crate) fn unary(op: UnaryOp, expr: Expr, l: usize) -> Expr {
    Expr {
        span: Span::new(l, expr.span.end as usize),
        kind: ExprKind::Unary {
            op,
            expr: Box::new(expr),
        },
    }
}

pub(crate) fn pipe(ctx: &Ctx, lhs: Expr, rhs: Expr) -> Expr {
    let args = match &rhs.kind {
        ExprKind::Call { args, .. } | ExprKind::MethodCall { args, .. } => args.as_slice(),
        _ => &[],
    };
    let mut placeholders = ctx.placeholders.borrow_mut();
    for arg in args {
        if let Arg::Positional(Expr {
            kind: ExprKind::Placeholder,
            span,
        }) = arg
        {
            placeholders.remove(&span.start);
        }
    }
    Expr {
        span: lhs.span.to(rhs.span),
        kind: ExprKind::Pipe {
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    }
}

/// `callee(args)`; `x.f(args)` (not parenthesised) becomes a method call.
pub(crate) fn call(callee: Expr, args: Vec<Arg>, r: usize) -> Expr {
    let span = Span::new(callee.span.start as usize, r);
    match callee.kind {
        ExprKind::Member {
            object,
            name,
            name_span,
            optional,
        } if name_span.end == callee.span.end => Expr {
            span,
            kind: ExprKind::MethodCall {
                receiver: object,
                name,
                name_span,
                args,
                optional,
            },
        },
        kind => Expr {
            span,
            kind: ExprKind::Call {
                callee: Box::new(Expr {
                    kind,
                    span: callee.span,
                }),
                args,
            },
        },
    }
}

pub(crate) fn member(object: Expr, name: (String, Span), optional: bool) -> Expr {
    Expr {
        span: object.span.to(name.1),
        kind: ExprKind::Member {
            object: Box::new(object),
            name: name.0,
            name_span: name.1,
            optional,
        },
    }
}

pub(crate) fn index(object: Expr, index: Expr, optional: bool, r: usize) -> Expr {
    Expr {
        span: Span::new(object.span.start as usize, r),
        kind: ExprKind::Index {
            object: Box::new(object),
            index: Box::new(index),
            optional,
        },
    }
}

pub(crate) fn slice(
    object: Expr,
    start: Option<Expr>,
    end: Option<Expr>,
    optional: bool,
    r: usize,
) -> Expr {
    Expr {
        span: Span::new(object.span.start as usize, r),
        kind: ExprKind::Slice {
            object: Box::new(object),
            start: start.map(Box::new),
            end: end.map(Box::new),
            optional,
        },
    }
}

pub(crate) fn template<'a>(
    ctx: &Ctx<'a>,
    t: TemplateTok,
    l: usize,
    r: usize,
) -> Result<Expr, PErr<'a>> {
    let mut parts = Vec::with_capacity(t.parts.len());
    for part in t.parts {
        parts.push(match part {
            RawPart::Lit(s) => TemplatePart::Lit(s),
            RawPart::Expr { start, end, open } => TemplatePart::Expr(
                super::parse_interpolation(ctx.src, start, end, open, t.budget)
                    .map_err(|error| ParseError::User { error })?,
            ),
        });
    }
    Ok(mk(ExprKind::Template(parts), l, r))
}

pub(crate) fn if_expr(
    cond: Expr,
    then_block: Block,
    else_branch: Option<Expr>,
    l: usize,
    r: usize,
) -> Expr {
    mk(
        ExprKind::If {
            cond: Box::new(cond),
            then_block,
            else_branch: else_branch.map(Box::new),
        },
        l,
        r,
    )
}

pub(crate) fn for_expr<'a>(
    pattern: Pattern,
    iter: Expr,
    body: Block,
    l: usize,
    r: usize,
) -> Result<Expr, PErr<'a>> {
    check_bind_pattern(&pattern, "for")?;
    Ok(mk(
        ExprKind::For {
            pattern,
            iter: Box::new(iter),
            body,
        },
        l,
        r,
    ))
}

pub(crate) fn try_expr(
    body: Block,
    catch: Option<CatchClause>,
    finally: Option<Block>,
    l: usize,
    r: usize,
) -> Expr {
    mk(
        ExprKind::Try {
            body,
            catch,
            finally,
        },
        l,
        r,
    )
}

pub(crate) fn catch_clause<'a>(
    p: Pattern,
    body: Block,
    l: usize,
    r: usize,
) -> Result<CatchClause, PErr<'a>> {
    check_bind_pattern(&p, "catch")?;
    Ok(CatchClause {
        binding: Some(p),
        body,
        span: Span::new(l, r),
    })
}

// ------------------------------------------------------------ functions

/// One entry of a parameter list before validation.
pub(crate) enum ParamItem {
    Plain((String, Span)),
    Default((String, Span), Expr),
    Rest((String, Span), usize),
}

pub(crate) fn params<'a>(items: Vec<ParamItem>) -> Result<(Vec<Param>, Option<Param>), PErr<'a>> {
    let mut params = Vec::with_capacity(items.len());
    let mut rest: Option<Param> = None;
    for item in items {
        if let Some(r) = &rest {
            return err(
                "the `...` rest parameter must be the last parameter",
                r.span,
            );
        }
        match item {
            ParamItem::Plain((name, span)) => params.push(Param {
                name,
                default: None,
                span,
            }),
            ParamItem::Default((name, span), d) => params.push(Param {
                span: span.to(d.span),
                name,
                default: Some(d),
            }),
            ParamItem::Rest((name, span), l) => {
                rest = Some(Param {
                    name,
                    default: None,
                    span: Span::new(l, span.end as usize),
                })
            }
        }
    }
    Ok((params, rest))
}

pub(crate) fn fn_stmt(
    public: bool,
    name: (String, Span),
    (params, rest): (Vec<Param>, Option<Param>),
    body: Block,
    l: usize,
    r: usize,
) -> Stmt {
    let span = Span::new(l, r);
    Stmt {
        kind: StmtKind::Fn {
            public,
            def: FnDef {
                name: Some(name.0),
                name_span: name.1,
                params,
                rest,
                body,
                span,
            },
        },
        span,
    }
}

pub(crate) fn fn_expr(
    (params, rest): (Vec<Param>, Option<Param>),
    body: Block,
    l: usize,
    r: usize,
) -> Expr {
    let span = Span::new(l, r);
    let def = FnDef {
        name: None,
        name_span: Span::new(l, l + 2),
        params,
        rest,
        body,
        span,
    };
    Expr {
        kind: ExprKind::Function(Box::new(def)),
        span,
    }
}

/// An item between `{` and `}` in expression position, before we know
/// whether the braces are a dict or a closure.
pub(crate) enum BraceItem {
    /// `name`: a closure parameter or the dict shorthand `{name}`.
    Name((String, Span)),
    /// `_`: only valid as a closure parameter.
    Underscore(Span),
    Entry(DictKey, Expr),
    Spread(Expr, usize),
}

pub(crate) fn dict<'a>(items: Vec<BraceItem>, l: usize, r: usize) -> Result<Expr, PErr<'a>> {
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        entries.push(match item {
            BraceItem::Name((name, span)) => DictItem::Entry {
                key: DictKey::Name(name.clone(), span),
                value: Expr {
                    kind: ExprKind::Ident(name),
                    span,
                },
            },
            BraceItem::Underscore(span) => {
                return err(
                    "expected a dict entry such as `key: value`, found `_`",
                    span,
                )
            }
            BraceItem::Entry(key, value) => DictItem::Entry { key, value },
            BraceItem::Spread(e, _) => DictItem::Spread(e),
        });
    }
    Ok(mk(ExprKind::Dict(entries), l, r))
}

pub(crate) fn closure<'a>(
    items: Vec<BraceItem>,
    body: Vec<Stmt>,
    l: usize,
    r: usize,
) -> Result<Expr, PErr<'a>> {
    let mut params = Vec::with_capacity(items.len());
    for item in items {
        let (name, span) = match item {
            BraceItem::Name(n) => n,
            BraceItem::Underscore(span) => ("_".to_string(), span),
            BraceItem::Entry(key, value) => {
                let start = match &key {
                    DictKey::Name(_, s) | DictKey::Str(_, s) => *s,
                    DictKey::Computed(e) => e.span,
                };
                return err(
                    "closure parameters must be plain names: `{ a, b -> ... }`",
                    start.to(value.span),
                );
            }
            BraceItem::Spread(e, l) => {
                return err(
                    "closure parameters must be plain names (use `fn(...rest) { }` for a rest parameter)",
                    Span::new(l, e.span.end as usize),
                )
            }
        };
        params.push(Param {
            name,
            default: None,
            span,
        });
    }
    let span = Span::new(l, r);
    let body = block(body, l, r)?;
    Ok(Expr {
        kind: ExprKind::Function(Box::new(FnDef {
            name: None,
            name_span: Span::new(l, l + 1),
            params,
            rest: None,
            body,
            span,
        })),
        span,
    })
}

// ------------------------------------------------------------ statements

/// A `{ ... }` block; rejects `pub` and `import` inside it.
pub(crate) fn block<'a>(stmts: Vec<Stmt>, l: usize, r: usize) -> Result<Block, PErr<'a>> {
    for s in &stmts {
        match &s.kind {
            StmtKind::Let { public: true, .. } | StmtKind::Fn { public: true, .. } => {
                return err(
                    "`pub` is only allowed on declarations at the top level of a file",
                    Span::new(s.span.start as usize, s.span.start as usize + 3),
                )
            }
            StmtKind::Import(_) => {
                return err(
                    "`import` is only allowed at the top level of a file",
                    s.span,
                )
            }
            _ => {}
        }
    }
    Ok(Block {
        stmts,
        span: Span::new(l, r),
    })
}

pub(crate) fn let_stmt<'a>(
    public: bool,
    mutable: bool,
    pattern: Pattern,
    value: Expr,
    l: usize,
    r: usize,
) -> Result<Stmt, PErr<'a>> {
    check_bind_pattern(&pattern, if mutable { "var" } else { "let" })?;
    Ok(Stmt {
        kind: StmtKind::Let {
            public,
            mutable,
            pattern,
            value,
        },
        span: Span::new(l, r),
    })
}

pub(crate) fn assign<'a>(
    target: Expr,
    op: Option<BinOp>,
    value: Expr,
    l: usize,
    r: usize,
) -> Result<Stmt, PErr<'a>> {
    let mut node = &target;
    loop {
        match &node.kind {
            ExprKind::Ident(_) => break,
            ExprKind::Member {
                object,
                optional: false,
                ..
            }
            | ExprKind::Index {
                object,
                optional: false,
                ..
            } => node = object,
            _ => {
                return Err(ParseError::User {
                    error: Diagnostic::new("syntax_error", "cannot assign to this expression", target.span)
                        .with_note(
                            "help: assign to a name, optionally followed by `.key` or `[index]` accesses (`x.a[0] = v`)",
                        ),
                })
            }
        }
    }
    Ok(Stmt {
        kind: StmtKind::Assign { target, op, value },
        span: Span::new(l, r),
    })
}

pub(crate) fn import(
    public: bool,
    path: (String, Span),
    names: Option<Vec<ImportName>>,
    l: usize,
    r: usize,
) -> Stmt {
    Stmt {
        kind: StmtKind::Import(Import {
            public,
            path: path.0,
            path_span: path.1,
            names,
        }),
        span: Span::new(l, r),
    }
}

// ------------------------------------------------------------ patterns

pub(crate) fn name_pattern((name, span): (String, Span)) -> Pattern {
    let kind = if name == "_" {
        PatternKind::Wildcard
    } else {
        PatternKind::Bind(name)
    };
    Pattern { kind, span }
}

pub(crate) fn or_pattern(first: Pattern, rest: Vec<Pattern>, l: usize, r: usize) -> Pattern {
    let mut all = Vec::with_capacity(rest.len() + 1);
    all.push(first);
    all.extend(rest);
    Pattern {
        kind: PatternKind::Or(all),
        span: Span::new(l, r),
    }
}

/// Rejects literal and or-patterns outside `match` (nesting is bounded
/// by the bracket limit, so recursion is fine).
fn check_bind_pattern<'a>(p: &Pattern, what: &str) -> Result<(), PErr<'a>> {
    match &p.kind {
        PatternKind::Literal(_) => err(
            format!("literal patterns are only allowed in `match` arms, not in `{what}`"),
            p.span,
        ),
        PatternKind::Or(_) => err(
            format!("`|` patterns are only allowed in `match` arms, not in `{what}`"),
            p.span,
        ),
        PatternKind::List { items, .. } => items
            .iter()
            .try_for_each(|i| check_bind_pattern(&i.pattern, what)),
        PatternKind::Dict { entries, .. } => entries
            .iter()
            .filter_map(|e| e.pattern.as_ref())
            .try_for_each(|i| check_bind_pattern(i, what)),
        PatternKind::Wildcard | PatternKind::Bind(_) => Ok(()),
    }
}

pub(crate) enum PatItem {
    /// A pattern and its `= default`, if any.
    Pat(Box<(Pattern, Option<Expr>)>),
    Rest(Option<(String, Span)>, Span),
}

pub(crate) fn list_pattern<'a>(
    items: Vec<PatItem>,
    l: usize,
    r: usize,
) -> Result<Pattern, PErr<'a>> {
    let mut pats = Vec::with_capacity(items.len());
    let mut rest = None;
    for item in items {
        if let Some((_, span)) = rest {
            return err("`...` must be the last element of a list pattern", span);
        }
        match item {
            PatItem::Pat(item) => {
                let (pattern, default) = *item;
                if default.is_some() && !matches!(pattern.kind, PatternKind::Bind(_)) {
                    return err(
                        "a default value (`= ...`) needs a plain name before it",
                        pattern.span,
                    );
                }
                pats.push(ListPatternItem { pattern, default });
            }
            PatItem::Rest(name, span) => rest = Some((name, span)),
        }
    }
    Ok(Pattern {
        kind: PatternKind::List {
            items: pats,
            rest: rest.map(|(n, _)| n),
        },
        span: Span::new(l, r),
    })
}

pub(crate) enum DictPatItem {
    /// `key` or `key = default`; ends at the usize.
    Short((String, Span, bool), Option<Expr>, usize),
    /// `key: pattern` or `key: name = default`.
    Keyed((String, Span, bool), Pattern, Option<Expr>, usize),
    Rest(Option<(String, Span)>, Span),
}

pub(crate) fn dict_pattern<'a>(
    items: Vec<DictPatItem>,
    l: usize,
    r: usize,
) -> Result<Pattern, PErr<'a>> {
    let mut entries = Vec::with_capacity(items.len());
    let mut rest: Option<(Option<(String, Span)>, Span)> = None;
    for item in items {
        if let Some((_, span)) = &rest {
            return err("`...rest` must be the last entry of a dict pattern", *span);
        }
        match item {
            DictPatItem::Short((key, span, is_name), default, end) => {
                if !is_name {
                    return err(
                        format!(
                            "`{key}` cannot be a variable name; write `{key}: name` to bind it"
                        ),
                        span,
                    );
                }
                entries.push(DictPatternEntry {
                    key,
                    pattern: None,
                    default,
                    span: Span::new(span.start as usize, end),
                });
            }
            DictPatItem::Keyed((key, span, _), pattern, default, end) => {
                if default.is_some() && !matches!(pattern.kind, PatternKind::Bind(_)) {
                    return err(
                        "a default value (`= ...`) needs a plain name before it",
                        pattern.span,
                    );
                }
                entries.push(DictPatternEntry {
                    key,
                    pattern: Some(pattern),
                    default,
                    span: Span::new(span.start as usize, end),
                });
            }
            DictPatItem::Rest(name, span) => rest = Some((name, span)),
        }
    }
    Ok(Pattern {
        kind: PatternKind::Dict {
            entries,
            rest: rest.and_then(|(n, _)| n),
        },
        span: Span::new(l, r),
    })
}
