//! Syntax errors: the wording, the span, and the `incomplete` flag.

use super::fail;

/// Message and the source text its span covers.
fn msg(src: &str) -> (String, String) {
    let d = fail(src);
    let text = src
        .get(d.span.start as usize..d.span.end as usize)
        .unwrap_or("<bad span>")
        .to_string();
    (d.message, text)
}

fn message(src: &str) -> String {
    fail(src).message
}

#[test]
fn no_raw_token_names_ever() {
    let samples = [
        "let x = )",
        "f(a b)",
        "let = 1",
        "x = 1 2",
        "match x { 1 => 2 }",
        "if x\n{ }",
        "{a 1}",
        "import x",
        "fn f(a b) {}",
        "let s = \"${1 2}\"",
        "try { }",
        "x.",
        "for 1 in y {}",
        "a ->",
        "[1 2]",
        "{a: 1 b: 2}",
        "x = {a: 1\n b: 2}",
        "else {}",
        "not x",
        "f(,)",
        "let [a b] = c",
        "match x { [a b] -> 1 }",
        "import { a b } from \"x\"",
        "while x < 3 do { }",
        "x ? y",
        "x = @",
        "catch e {}",
    ];
    for src in samples {
        let d = fail(src);
        for raw in [
            "Ident", "Int", "NL", "Str", "START_", "Template", "\"\\\"", "Float", "Tok::",
        ] {
            assert!(
                !d.message.contains(raw),
                "{src:?} leaked {raw:?}: {}",
                d.message
            );
        }
        assert!(!d.message.is_empty());
        assert!(
            d.span.end as usize <= src.len() + 1,
            "{src:?}: span out of range"
        );
    }
}

#[test]
fn expected_an_expression() {
    assert_eq!(
        msg("let x = (1 + )"),
        ("expected an expression, found `)`".into(), ")".into())
    );
    assert_eq!(
        message("match x { 1 -> }"),
        "expected an expression, found `}`"
    );
    assert_eq!(
        message("let x = 1 +\n  * 2"),
        "expected an expression, found `*`"
    );
    assert_eq!(
        message("f(,)"),
        "expected an expression or `)` to close the call opened at 1:2, found `,`"
    );
}

#[test]
fn expected_closer_of_the_open_bracket() {
    assert_eq!(
        msg("f(a b)"),
        (
            "expected `,` or `)` to close the call opened at 1:2, found `b`".into(),
            "b".into()
        )
    );
    assert_eq!(
        message("x = [1, 2 3]"),
        "expected `,` or `]` to close the list opened at 1:5, found `3`"
    );
    assert_eq!(
        message("x = {a: 1 b: 2}"),
        "expected `,` or `}` to close the dict opened at 1:5, found `b`"
    );
    assert_eq!(
        message("fn f(a b) {}"),
        "expected `,` or `)` to close the parameter list opened at 1:5, found `b`"
    );
    assert_eq!(
        message("match x {\n  1 -> 2 3 -> 4\n}"),
        "expected `,`, a newline or `}` to close the `match` body opened at 1:9, found `3`"
    );
    let d = fail("x = {\n  a: 1\n  b: 2\n}");
    assert_eq!(
        d.message,
        "expected `,` or `}` to close the dict opened at 1:5, found a newline"
    );
    assert_eq!(d.notes, ["help: separate entries with `,`"]);
    assert_eq!(d.span.start, 12);
}

#[test]
fn mismatched_and_unclosed_brackets() {
    assert_eq!(
        msg("let x = (1 + 2]"),
        (
            "expected `)` to close the parenthesis opened at 1:9, found `]`".into(),
            "]".into()
        )
    );
    assert_eq!(
        msg("x = 1)"),
        (
            "unexpected `)`: there is no open `(` to close".into(),
            ")".into()
        )
    );
    let src = "fn main() {\n  if ok {\n    run()\n}\n";
    let d = fail(src);
    assert_eq!(
        d.message,
        "expected `}` to close the block opened at 1:11, found end of file"
    );
    assert_eq!(d.span.start, 10);
    assert!(d.incomplete);
}

#[test]
fn end_of_statement() {
    let d = fail("let x = 1 2");
    assert_eq!(d.message, "expected the end of the statement, found `2`");
    assert_eq!(d.notes, ["help: separate statements with a newline or `;`"]);
    assert_eq!(
        message("let x = 5 let y = 6"),
        "expected the end of the statement, found `let`"
    );
    assert_eq!(
        message("\"a\" \"b\""),
        "expected the end of the statement, found a string"
    );
}

#[test]
fn statement_and_pattern_positions() {
    assert_eq!(
        message("let = 5"),
        "expected a name or a destructuring pattern, found `=`"
    );
    assert_eq!(
        message("let let = 1"),
        "expected a name or a destructuring pattern, found `let`"
    );
    assert_eq!(
        message("for 1 in xs {}"),
        "expected a name or a destructuring pattern, found `1`"
    );
    assert_eq!(message("for x of xs { }"), "expected `in`, found `of`");
    assert_eq!(
        message("match x { + -> 1 }"),
        "expected a pattern or `}` to close the `match` body opened at 1:9, found `+`"
    );
    let d = fail("else { }");
    assert_eq!(d.message, "expected a statement, found `else`");
    assert_eq!(
        d.notes,
        ["help: `else` must come right after the `}` of an `if` block"]
    );
    let d = fail("not x");
    assert_eq!(
        d.notes,
        ["help: use `!` for logical not (`not` is only used in `not in`)"]
    );
    assert_eq!(message("x.\n"), "expected a name, found end of file");
    assert_eq!(message("import x"), "expected a string or `{`, found `x`");
    assert_eq!(
        message("import { a } \"x\""),
        "expected `from`, found a string"
    );
    assert_eq!(
        message("import { a b } from \"x\""),
        "expected `,`, `as` or `}` to close the import list opened at 1:8, found `b`"
    );
    assert_eq!(message("let x = fn f() {}"), "expected `(`, found `f`");
    assert_eq!(
        message("try { 1 }"),
        "expected `catch` or `finally`, found end of file"
    );
    assert_eq!(
        message("if x { 1 } else"),
        "expected `if` or `{`, found end of file"
    );
}

#[test]
fn helpful_notes() {
    let d = fail("if x\n{\n}");
    assert_eq!(d.message, "expected `{`, found a newline");
    assert_eq!(
        d.notes,
        ["help: the `{` must be on the same line as what it belongs to"]
    );
    let d = fail("if x = 1 { }");
    assert_eq!(d.message, "expected `{`, found `=`");
    assert_eq!(d.notes, ["help: use `==` to compare values"]);
    let d = fail("match x { 1 => 2 }");
    assert_eq!(d.message, "expected `->` or `if`, found `=`");
    assert_eq!(d.notes, ["help: match arms are written `pattern -> value`"]);
    // A default in a closure's parameters is not a malformed match arm.
    let d = fail("let f = { x, y = 10 -> x + y }");
    assert!(d.message.starts_with("expected `,`, `->`"), "{}", d.message);
    assert_eq!(
        d.notes,
        ["help: parameters of a `{ a, b -> ... }` closure cannot have defaults; write `fn(a, b = 10) { ... }`"]
    );
    let d = fail("match x {\n  _ -> {a: 1}\n}");
    assert_eq!(d.message, "expected the end of the statement, found `:`");
    assert!(d.notes[0].contains("wrap it in parentheses"));
}

#[test]
fn semantic_errors() {
    assert_eq!(
        msg("1 + 2 = 3"),
        ("cannot assign to this expression".into(), "1 + 2".into())
    );
    assert_eq!(
        msg("let {a: 1} = x"),
        (
            "literal patterns are only allowed in `match` arms, not in `let`".into(),
            "1".into()
        )
    );
    assert_eq!(
        message("for [a | b] in x {}"),
        "`|` patterns are only allowed in `match` arms, not in `for`"
    );
    assert_eq!(
        msg("fn f() { pub let x = 1 }"),
        (
            "`pub` is only allowed on declarations at the top level of a file".into(),
            "pub".into()
        )
    );
    assert_eq!(
        message("if x { import \"y\" }"),
        "`import` is only allowed at the top level of a file"
    );
    assert_eq!(
        message("f = { x -> import \"y\" }"),
        "`import` is only allowed at the top level of a file"
    );
    assert_eq!(
        msg("f(_)"),
        (
            "`_` can only be used as an argument of a call on the right of `|>`".into(),
            "_".into()
        )
    );
    assert_eq!(
        message("x |> f(_ + 1)"),
        "`_` can only be used as an argument of a call on the right of `|>`"
    );
    assert_eq!(
        message("x = _"),
        "`_` can only be used as an argument of a call on the right of `|>`"
    );
    assert_eq!(
        msg("fn f(...a, b) {}"),
        (
            "the `...` rest parameter must be the last parameter".into(),
            "...a".into()
        )
    );
    assert_eq!(
        message("let [...a, b] = x"),
        "`...` must be the last element of a list pattern"
    );
    assert_eq!(
        message("let {...a, b} = x"),
        "`...rest` must be the last entry of a dict pattern"
    );
    assert_eq!(
        message("let {match} = x"),
        "`match` cannot be a variable name; write `match: name` to bind it"
    );
    assert_eq!(
        message("let {a: [b] = 1} = x"),
        "a default value (`= ...`) needs a plain name before it"
    );
    assert_eq!(
        msg("f = { a: 1 -> 2 }"),
        (
            "closure parameters must be plain names: `{ a, b -> ... }`".into(),
            "a: 1".into()
        )
    );
    assert_eq!(
        message("x = {a, _}"),
        "expected a dict entry such as `key: value`, found `_`"
    );
}

#[test]
fn interpolation_errors() {
    let src = "x = \"a ${}\"";
    assert_eq!(
        msg(src),
        ("expected an expression inside `${}`".into(), "${}".into())
    );
    let src = "x = \"a ${1 +}\"";
    let d = fail(src);
    assert_eq!(
        d.message,
        "expected an expression, found the end of the `${...}`"
    );
    assert_eq!(&src[d.span.start as usize..d.span.end as usize], "}");
    assert!(!d.incomplete);
    assert_eq!(
        msg("x = \"${1 2}\""),
        ("expected an operator or `}`, found `2`".into(), "2".into())
    );
    assert_eq!(
        msg("x = \"${ f(] }\""),
        (
            "expected `)` to close the call opened at 1:10, found `]`".into(),
            "]".into()
        )
    );
    assert_eq!(
        msg("x = \"${ \"\\q\" }\""),
        (
            "unknown escape sequence `\\q` (valid escapes: \\n \\t \\r \\\\ \\\" \\$ \\0 \\u{...})"
                .into(),
            "\\q".into()
        )
    );
}

#[test]
fn incomplete_input() {
    for src in [
        "if x {",
        "foo(1,",
        "let xs = [",
        "x = {a: 1,",
        "x = 1 +",
        "let x =",
        "x |>",
        "x.",
        "y = a &&",
        "s = \"\"\"\nabc",
        "/* comment",
        "s = \"a ${ b",
        "match x {\n  1 ->",
        "f = { x ->",
        "x = [1, 2,\n  3,",
        "fn f(a,",
        "x = a ??",
        "import {",
        "let {a,",
    ] {
        let d = fail(src);
        assert!(d.incomplete, "{src:?} should be incomplete: {}", d.message);
    }
    for src in [
        "f(1 2",
        "x = )",
        "let x = 1 2",
        "if x",
        "if x { 1 } else",
        "s = \"abc",
        "x = 1 @",
        "let",
        "try { 1 }",
        "x = \"${1 +}\"",
        "foo(1]",
    ] {
        let d = fail(src);
        assert!(
            !d.incomplete,
            "{src:?} should not be incomplete: {}",
            d.message
        );
    }
}

#[test]
fn errors_are_reported_in_source_order() {
    // The parse error on line 1 comes before the lexical error on line 2.
    assert_eq!(
        message("x = (1 2)\ny = \"\\q\""),
        "expected `)` to close the parenthesis opened at 1:5, found `2`"
    );
    assert_eq!(
        message("x = \"\\q\"\ny = (1 2)").split(' ').next(),
        Some("unknown")
    );
}
