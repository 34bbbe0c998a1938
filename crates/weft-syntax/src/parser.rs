//! The parser driver: runs the layout-processed token stream through the
//! generated LR(1) parser (`grammar.lalrpop`), parses interpolated
//! expressions of template strings as sub-parses, and turns every failure
//! into a worded `syntax_error` diagnostic (see [`errors`]).

pub(crate) mod actions;
mod errors;
#[cfg(test)]
mod tests;

use crate::ast::{Expr, Module};
use crate::diagnostic::Diagnostic;
use crate::lexer::{layout, Budget, Mode};
use crate::span::Span;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_parens,
        unused_imports,
        dead_code
    )]
    grammar
);

/// What a parse produced: a module, or the expression of a `${...}`.
pub(crate) enum Parsed {
    Module(Vec<crate::ast::Stmt>),
    Expr(Expr),
}

/// Parses a whole source text.
pub(crate) fn parse_module(src: &str) -> Result<Module, Diagnostic> {
    match parse(
        src,
        skip_preamble(src),
        src.len(),
        Mode::Module,
        Budget::default(),
    )? {
        Parsed::Module(stmts) => Ok(Module {
            stmts,
            span: Span::new(0, src.len()),
        }),
        Parsed::Expr(_) => unreachable!("a module parse yields a module"),
    }
}

/// Parses the interpolated expression `src[start..end]` of a template
/// string (`open` is where its `${` is).
pub(crate) fn parse_interpolation(
    src: &str,
    start: usize,
    end: usize,
    open: usize,
    budget: Budget,
) -> Result<Expr, Diagnostic> {
    if src[start..end].trim().is_empty() {
        return Err(Diagnostic::new(
            "syntax_error",
            "expected an expression inside `${}`",
            Span::new(open, end + 1),
        ));
    }
    match parse(src, start, end, Mode::Expr, budget)? {
        Parsed::Expr(e) => Ok(e),
        Parsed::Module(_) => unreachable!("an expression parse yields an expression"),
    }
}

fn parse(
    src: &str,
    start: usize,
    end: usize,
    mode: Mode,
    budget: Budget,
) -> Result<Parsed, Diagnostic> {
    let lexed = layout(src, start, end, mode, budget);
    let ends_open = lexed.ends_open();
    let info = errors::ErrorContext {
        src,
        mode,
        end,
        ends_open,
        last_end: lexed.tokens.last().map_or(start, |t| t.2),
        brackets: &lexed.brackets,
    };
    let ctx = actions::Ctx::new(src);
    let tokens = lexed.tokens.into_iter().map(Ok).chain(lexed.error.map(Err));
    let parsed = grammar::StartParser::new()
        .parse(&ctx, tokens)
        .map_err(|e| errors::convert(e, &info))?;
    ctx.check_placeholders()?;
    Ok(parsed)
}

/// Where lexing starts: after a byte-order mark and a `#!` line, if any.
fn skip_preamble(src: &str) -> usize {
    let mut start = if src.starts_with('\u{feff}') { 3 } else { 0 };
    if src[start..].starts_with("#!") {
        start += src[start..].find('\n').unwrap_or(src.len() - start);
    }
    start
}
