//! Nesting limits: pathological input gives an error (or parses) but never
//! overflows the stack, and accepted ASTs are shallow enough to walk
//! recursively (clone, compare, format, drop) on a small thread stack.

use super::fail;
use crate::diagnostic::SourceFile;

/// Parses `src` on a thread with a 2 MiB stack (like a test thread), then
/// clones, compares, formats and drops the result there.
fn parse_small_stack(src: String) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let result = crate::parse_module(&SourceFile::new("t.wf", src));
            match result {
                Ok(m) => {
                    let copy = m.clone();
                    assert!(copy == m);
                    assert!(!format!("{m:?}").is_empty());
                    Ok(())
                }
                Err(d) => Err(d.message),
            }
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

const TOO_DEEP: &str = "nesting too deep (more than 256 levels)";
const TOO_COMPLEX: &str = "expression nests too deeply (more than 600 levels)";

#[test]
fn ten_thousand_nested_parens() {
    let src = format!("x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
    let src = format!("x = {}", "(".repeat(10_000));
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
    let src = format!("x = {}1{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
    let src = format!("x = {}", "{ -> ".repeat(10_000));
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
    let src = "f(".repeat(10_000);
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let src = format!("x = {}1{}", "{a: ".repeat(256), "}".repeat(256));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "f(".repeat(256), ")".repeat(256));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "{ -> ".repeat(256), "}".repeat(256));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "if a { ".repeat(100), "}".repeat(100));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "(".repeat(256), ")".repeat(256));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "[".repeat(256), "]".repeat(256));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "[".repeat(257), "]".repeat(257));
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
    let d = fail(&format!("x = {}", "(".repeat(300)));
    assert_eq!(d.span.start, 4 + 256);
    assert!(!d.incomplete);
}

#[test]
fn long_operator_chains() {
    let src = vec!["1"; 100_000].join("+");
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = vec!["1"; 500].join("+");
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = vec!["1"; 602].join("+");
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!("x = {}1", "-".repeat(100_000));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!("x = {}1", "!".repeat(500));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x{}", ".a".repeat(100_000));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!("x{}", "(1)".repeat(100_000));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!("2{}", "**2".repeat(100_000));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!(
        "x = if a {{1}}{} else {{2}}",
        " else if a {1}".repeat(10_000)
    );
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = vec!["x"; 100_000].join(" |> ");
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
}

#[test]
fn operators_inside_brackets_count_towards_the_limit() {
    let inner = vec!["1"; 350].join("+");
    let src = format!("x = ({inner}) + ({inner}) + [{inner}]");
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = ({inner}){}", " + 1".repeat(350));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
    let src = format!("x = {}1{}", "[1 + 1 + ".repeat(200), "]".repeat(200));
    assert_eq!(parse_small_stack(src), Err(TOO_COMPLEX.to_string()));
}

#[test]
fn many_statements_and_items_are_fine() {
    let src = "x = 1 + 2\n".repeat(50_000);
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = [{}]", vec!["1 + 1"; 50_000].join(", "));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!(
        "x = {{{}}}",
        (0..20_000)
            .map(|i| format!("k{i}: {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(parse_small_stack(src), Ok(()));
}

#[test]
fn nested_interpolation() {
    let src = format!("x = {}1{}", "\"${".repeat(16), "}\"".repeat(16));
    assert_eq!(parse_small_stack(src), Ok(()));
    let src = format!("x = {}1{}", "\"${".repeat(5000), "}\"".repeat(5000));
    assert_eq!(
        parse_small_stack(src),
        Err("string interpolation nested too deeply (more than 16 levels)".to_string())
    );
    // Brackets inside interpolations count towards the same nesting limit.
    let src = format!(
        "x = {}\"${{{}1{}}}\"{}",
        "(".repeat(200),
        "[".repeat(100),
        "]".repeat(100),
        ")".repeat(200)
    );
    assert_eq!(parse_small_stack(src), Err(TOO_DEEP.to_string()));
}
