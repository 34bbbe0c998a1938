//! What a host compiles of a program bundle: each module cut down to its
//! definitions — top-level `fn` declarations and `import`s — so a host can
//! call the bundle's top-level functions (tool handlers travel as their
//! names) without running the parent script's top-level code. Everything
//! else is blanked out with line breaks kept, so line:column in a host's
//! error messages point at the original source.

use weft_syntax::ast::StmtKind;
use weft_syntax::{parse_module, SourceFile};

/// `source` with every top-level statement other than `fn` and `import`
/// replaced by blanks (newlines kept). A module that does not parse is an
/// error naming it.
pub fn definitions_only(name: &str, source: &str) -> Result<String, String> {
    let file = SourceFile::new(name.to_string(), source.to_string());
    let module = parse_module(&file)
        .map_err(|d| format!("module {name} of the bundle does not parse: {}", d.message))?;
    let mut keep = vec![false; source.len()];
    for stmt in &module.stmts {
        if matches!(stmt.kind, StmtKind::Fn { .. } | StmtKind::Import(_)) {
            let (start, end) = (stmt.span.start as usize, stmt.span.end as usize);
            for k in keep.iter_mut().take(end.min(source.len())).skip(start) {
                *k = true;
            }
        }
    }
    let mut out = String::with_capacity(source.len());
    for (i, ch) in source.char_indices() {
        if keep[i] || ch == '\n' {
            out.push(ch);
        } else if ch == '\t' {
            out.push('\t');
        } else {
            // One blank per character keeps columns (counted in scalars).
            out.push(' ');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_functions_and_imports_and_blanks_the_rest() {
        let src = "import { a } from \"./lib.wf\"\nprintln(\"side effect\")\nlet x = 1\nfn handler(args) {\n  a(args)\n}\nhandler({})\n";
        let out = definitions_only("main.wf", src).unwrap();
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.contains("import { a } from \"./lib.wf\""));
        assert!(out.contains("fn handler(args) {\n  a(args)\n}"));
        assert!(!out.contains("println"));
        assert!(!out.contains("let x"));
        assert!(!out.contains("handler({})"));
        // Positions are kept: the function starts on the same line and column.
        assert_eq!(out.find("fn handler"), src.find("fn handler"));
    }

    #[test]
    fn a_module_that_does_not_parse_is_named() {
        let err = definitions_only("lib.wf", "fn (").unwrap_err();
        assert!(
            err.contains("module lib.wf of the bundle does not parse"),
            "{err}"
        );
    }
}
