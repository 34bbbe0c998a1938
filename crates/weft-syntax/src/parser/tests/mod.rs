//! Parser tests: AST shapes (as S-expressions), error messages, limits.

mod errors;
mod exprs;
mod limits;
mod corpus;
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

#[test]
fn scratch() {
    let inputs = std::env::var("WEFT_SCRATCH")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    for src in inputs.split("\n====\n") {
        let file = SourceFile::new("t.wf", src);
        match crate::parse_module(&file) {
            Ok(m) => println!("OK {}\n", sexp::module(&m)),
            Err(d) => println!(
                "{}{}\n",
                d.render(),
                if d.incomplete { "\n[incomplete]" } else { "" }
            ),
        }
    }
}

#[test]
fn scratch_parse_only() {
    let inputs = std::env::var("WEFT_SCRATCH")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    for src in inputs.split("\n====\n") {
        let file = SourceFile::new("t.wf", src);
        let r = crate::parse_module(&file);
        println!("{}", r.is_ok());
        let c = r.clone();
        println!("cloned {}", c.as_ref().ok() == r.as_ref().ok());
        let d = format!("{r:?}");
        println!("debug {}", d.len());
    }
}
