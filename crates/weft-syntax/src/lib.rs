//! Weft's front end: source text → tokens → AST, plus the diagnostics type
//! shared by every later stage.
//!
//! The single entry point is [`parse_module`].

pub mod ast;
pub mod diagnostic;
pub mod lexer;
mod parser;
pub mod span;
pub mod suggest;

use std::sync::Arc;

pub use diagnostic::{Diagnostic, SourceFile};
pub use span::Span;

/// Parses one source file into a [`ast::Module`].
///
/// On failure returns a `syntax_error` diagnostic (with the file attached)
/// whose message says in words what was expected. When the only problem is
/// that the input ended inside an open construct (unclosed bracket, string,
/// block comment, dangling operator), the diagnostic is marked
/// [`Diagnostic::incomplete`] so a REPL can ask for more input.
pub fn parse_module(file: &Arc<SourceFile>) -> Result<ast::Module, Diagnostic> {
    parser::parse_module(&file.text).map_err(|d| d.with_file(file))
}
