//! Parser tests: AST shapes (as S-expressions), error messages, limits.

mod corpus;
mod errors;
mod exprs;
mod limits;
mod sexp;
mod stmts;

use crate::diagnostic::{Diagnostic, SourceFile};

/// Parses `src` and renders the module as S-expressions.
pub fn ok(src: &str) -> String {
    let file = SourceFile::new("t.wf", src);
    match crate::parse_module(&file) {
        Ok(m) => sexp::module(&m),
        Err(d) => panic!("unexpected error for {src:?}:\n{}", d.render()),
    }
}

/// Parses `src`, expecting a syntax error.
pub fn fail(src: &str) -> Diagnostic {
    let file = SourceFile::new("t.wf", src);
    match crate::parse_module(&file) {
        Ok(m) => panic!("expected an error for {src:?}, got {}", sexp::module(&m)),
        Err(d) => {
            assert_eq!(d.category, "syntax_error");
            d
        }
    }
}
