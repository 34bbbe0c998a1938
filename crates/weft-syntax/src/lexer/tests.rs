//! Lexer tests: tokens, numbers, strings, comments and the layout rules.

use super::{tokenize, RawPart, Tok};
use crate::diagnostic::Diagnostic;

/// The tokens of `src` as source text, newlines shown as `⏎`.
fn show(src: &str) -> String {
    let toks = tokenize(src).unwrap_or_else(|d| panic!("lex error for {src:?}: {}", d.message));
    toks.iter()
        .map(|t| match &t.tok {
            Tok::Newline => "⏎".to_string(),
            _ => src[t.span.start as usize..t.span.end as usize].to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn one(src: &str) -> Tok<'_> {
    let mut toks = tokenize(src).unwrap_or_else(|d| panic!("lex error for {src:?}: {}", d.message));
    assert_eq!(toks.len(), 1, "{src:?} gave {toks:?}");
    toks.remove(0).tok
}

fn string(src: &str) -> String {
    match one(src) {
        Tok::Str(s) => s,
        other => panic!("{src:?} is not a plain string: {other:?}"),
    }
}

fn lex_err(src: &str) -> Diagnostic {
    match tokenize(src) {
        Ok(t) => panic!("expected a lex error for {src:?}, got {t:?}"),
        Err(d) => {
            assert_eq!(d.category, "syntax_error");
            d
        }
    }
}

fn span_text<'a>(src: &'a str, d: &Diagnostic) -> &'a str {
    &src[d.span.start as usize..d.span.end as usize]
}

#[test]
fn keywords_identifiers_and_underscore() {
    assert_eq!(one("let"), Tok::Let);
    assert_eq!(one("spawn"), Tok::Spawn);
    assert_eq!(one("letter"), Tok::Ident("letter"));
    assert_eq!(one("as"), Tok::As);
    assert_eq!(one("_"), Tok::Underscore);
    assert_eq!(one("_x"), Tok::Ident("_x"));
    assert_eq!(one("__"), Tok::Ident("__"));
    assert_eq!(one("r"), Tok::Ident("r"));
    for kw in super::KEYWORDS {
        assert!(
            !matches!(one(kw), Tok::Ident(_)),
            "{kw} should be a keyword"
        );
    }
}

#[test]
fn numbers() {
    assert_eq!(one("42"), Tok::Int(42));
    assert_eq!(one("1_000"), Tok::Int(1000));
    assert_eq!(one("0x1F"), Tok::Int(31));
    assert_eq!(one("0b101"), Tok::Int(5));
    assert_eq!(one("9223372036854775807"), Tok::Int(i64::MAX));
    assert_eq!(one("3.25"), Tok::Float(3.25));
    assert_eq!(one("1e9"), Tok::Float(1e9));
    assert_eq!(one("2.5e-3"), Tok::Float(2.5e-3));
    assert_eq!(one("1_0.5"), Tok::Float(10.5));
    assert_eq!(show("1..5"), "1 .. 5");
    assert_eq!(show("1..=5"), "1 ..= 5");
    assert_eq!(show("1.abs()"), "1 . abs ( )");
}

#[test]
fn number_errors() {
    let d = lex_err("x = 9223372036854775808");
    assert_eq!(
        d.message,
        "integer literal too large (the maximum is 9223372036854775807)"
    );
    assert_eq!(d.span.start, 4);
    assert!(lex_err("0xFFFFFFFFFFFFFFFFF")
        .message
        .starts_with("integer literal too large"));
    assert_eq!(lex_err("12abc").message, "invalid number literal `12abc`");
    assert_eq!(lex_err("0x").message, "invalid number literal `0x`");
    assert_eq!(lex_err("0b102").message, "invalid number literal `0b102`");
    assert_eq!(lex_err("1e999").message, "float literal too large");
}

#[test]
fn operators() {
    assert_eq!(
        show("a ... b .. c ..= d ?. e ?[ f ] ?? g |> h -> i ** j"),
        "a ... b .. c ..= d ?. e ?[ f ] ?? g |> h -> i ** j"
    );
    assert_eq!(
        show("a+=1 b-=2 c*=3 d/=4 e%=5"),
        "a += 1 b -= 2 c *= 3 d /= 4 e %= 5"
    );
    assert_eq!(
        show("a==b!=c<=d>=e<f>g&&h||!i|j"),
        "a == b != c <= d >= e < f > g && h || ! i | j"
    );
    assert_eq!(one("?"), Tok::Question);
}

#[test]
fn comments() {
    assert_eq!(show("a // comment\nb"), "a ⏎ b");
    assert_eq!(show("a /* x */ b"), "a b");
    assert_eq!(show("a /* x /* nested */ still */ b"), "a b");
    assert_eq!(show("a /* multi\nline */ b"), "a b");
    let d = lex_err("a /* open /* inner */");
    assert_eq!(d.message, "unterminated block comment");
    assert_eq!(d.span.start, 2);
    assert!(d.incomplete);
}

#[test]
fn unexpected_characters() {
    let d = lex_err("x = 1 @ 2");
    assert_eq!(d.message, "unexpected character `@`");
    assert_eq!(d.span.start, 6);
    let d = lex_err("let s = 'a'");
    assert_eq!(
        d.notes,
        vec!["help: strings use double quotes: \"text\"".to_string()]
    );
    assert_eq!(lex_err("é").message, "unexpected character `é`");
    assert!(!lex_err("x = 1 @ 2").incomplete);
}

#[test]
fn newlines_end_statements() {
    assert_eq!(show("a\nb"), "a ⏎ b");
    assert_eq!(show("a\n\n\n  \n// c\nb"), "a ⏎ b");
    assert_eq!(show("\n\na\n\n"), "a");
    assert_eq!(show("a;\nb"), "a ; b");
    assert_eq!(show("f(\n  a,\n  b\n)"), "f ( a , b )");
    assert_eq!(show("[1\n2]"), "[ 1 2 ]");
    assert_eq!(show("{\n  a\n  b\n}"), "{ a ⏎ b }");
    // Inside `{` newlines count again, also inside parentheses.
    assert_eq!(show("f({ x ->\n  a\n  b\n})"), "f ( { x -> a ⏎ b } )");
}

#[test]
fn lines_ending_with_an_operator_continue() {
    for op in [
        "+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "??", "|>",
        "..", "..=", "in", "|", ":", ",", "=", "+=", "-=", "*=", "/=", "%=", "->", ".", "?.",
    ] {
        assert_eq!(
            show(&format!("a {op}\nb")),
            format!("a {op} b"),
            "after {op}"
        );
    }
    assert_eq!(show("f(\nx)"), "f ( x )");
    assert_eq!(show("a = [\nx]"), "a = [ x ]");
    assert_eq!(show("a = {\nx: 1}"), "a = { x : 1 }");
    assert_eq!(show("a + // comment\nb"), "a + b");
}

#[test]
fn lines_starting_with_a_continuation_continue() {
    for start in [
        ". b",
        "?. b",
        "|> b",
        "| b",
        "&& b",
        "|| b",
        "?? b",
        "else b",
        "catch b",
        "finally b",
    ] {
        assert_eq!(
            show(&format!("a\n{start}")),
            format!("a {start}"),
            "before {start}"
        );
    }
    assert_eq!(show("{ a\n}"), "{ a }");
    assert_eq!(
        show("if a {\n}\n\n// comment\nelse {\n}"),
        "if a { } else { }"
    );
    // A line starting with `-` or `(` is a new statement.
    assert_eq!(show("a\n-b"), "a ⏎ - b");
    assert_eq!(show("a\n(b)"), "a ⏎ ( b )");
}

#[test]
fn bracket_errors() {
    let src = "let x = (1 + 2]";
    let d = lex_err(src);
    assert_eq!(
        d.message,
        "expected `)` to close the parenthesis opened at 1:9, found `]`"
    );
    assert_eq!(span_text(src, &d), "]");
    assert!(!d.incomplete);
    let d = lex_err("f(a, [1, 2)");
    assert_eq!(
        d.message,
        "expected `]` to close the list opened at 1:6, found `)`"
    );
    let d = lex_err("x)");
    assert_eq!(d.message, "unexpected `)`: there is no open `(` to close");
    let src = "fn f() {\n  if x {\n    g(1,\n";
    let d = lex_err(src);
    assert_eq!(
        d.message,
        "expected `)` to close the call opened at 3:6, found end of file"
    );
    assert_eq!(span_text(src, &d), "(");
    assert!(d.incomplete);
}

#[test]
fn bracket_kinds_in_messages() {
    let cases = [
        ("if x {", "the block opened at 1:6"),
        ("while x {", "the block opened at 1:9"),
        ("fn f() {", "the block opened at 1:8"),
        ("fn f(", "the parameter list opened at 1:5"),
        ("let g = fn(", "the parameter list opened at 1:11"),
        ("match x {", "the `match` body opened at 1:9"),
        ("match x { 1 -> {", "the block opened at 1:16"),
        ("let d = {", "the dict opened at 1:9"),
        ("let f = { x ->", "the closure opened at 1:9"),
        ("xs[", "the index opened at 1:3"),
        ("xs?[", "the index opened at 1:3"),
        ("[", "the list opened at 1:1"),
        ("(", "the parenthesis opened at 1:1"),
        ("f(", "the call opened at 1:2"),
        ("import {", "the import list opened at 1:8"),
        ("let {", "the pattern opened at 1:5"),
        ("for [", "the pattern opened at 1:5"),
        ("try {", "the block opened at 1:5"),
        ("try {} catch e {", "the block opened at 1:16"),
        ("spawn {", "the block opened at 1:7"),
        ("if {a: 1}.a {", "the block opened at 1:13"),
    ];
    for (src, what) in cases {
        let d = lex_err(src);
        assert!(
            d.message.ends_with(&format!("{what}, found end of file")),
            "{src:?}: {}",
            d.message
        );
        assert!(d.incomplete);
    }
}

#[test]
fn plain_strings_and_escapes() {
    assert_eq!(string(r#""hello""#), "hello");
    assert_eq!(string(r#""""#), "");
    assert_eq!(
        string(r#""a\nb\tc\rd\\e\"f\$g\0h\u{1F600}i\u{e9}""#),
        "a\nb\tc\rd\\e\"f$g\0h\u{1F600}i\u{e9}"
    );
    assert_eq!(string(r#""cost: $5 and $ {""#), "cost: $5 and $ {");
    assert_eq!(string(r#""\${not interpolated}""#), "${not interpolated}");
    assert_eq!(string(r#"r"C:\dir\${x}""#), "C:\\dir\\${x}");
    assert_eq!(string("\"héllo\""), "héllo");
}

#[test]
fn string_errors() {
    let src = r#"x = "ab\qc""#;
    let d = lex_err(src);
    assert!(
        d.message.starts_with("unknown escape sequence `\\q`"),
        "{}",
        d.message
    );
    assert_eq!(span_text(src, &d), "\\q");
    let src = r#"x = "\u{110000}""#;
    assert!(lex_err(src).message.contains("not a unicode scalar value"));
    let src = r#"x = "\u1234""#;
    assert!(lex_err(src).message.starts_with("invalid unicode escape"));
    let src = "x = \"abc\ny\"";
    let d = lex_err(src);
    assert!(d.message.starts_with("unterminated string"));
    assert_eq!(d.span.start, 4);
    assert!(!d.incomplete);
    let d = lex_err("x = r\"abc\n\"");
    assert!(d.message.starts_with("unterminated raw string"));
    let d = lex_err("x = \"abc");
    assert!(!d.incomplete);
    let src = "x = \"a ${ f(1\n";
    let d = lex_err(src);
    assert_eq!(d.message, "unterminated `${` in string");
    assert_eq!(span_text(src, &d), "${");
    assert!(d.incomplete);
    let d = lex_err("x = \"\"\"\n  abc\n");
    assert_eq!(d.message, "unterminated triple-quoted string");
    assert_eq!(d.span.start, 4);
    assert!(d.incomplete);
}

fn template(src: &str) -> Vec<String> {
    match one(src) {
        Tok::Template(t) => t
            .parts
            .iter()
            .map(|p| match p {
                RawPart::Lit(s) => format!("{s:?}"),
                RawPart::Expr { start, end, .. } => format!("${{{}}}", &src[*start..*end]),
            })
            .collect(),
        other => panic!("{src:?} is not a template: {other:?}"),
    }
}

#[test]
fn interpolation_finds_the_matching_brace() {
    assert_eq!(template(r#""a ${b} c""#), [r#""a ""#, "${b}", r#"" c""#]);
    assert_eq!(template(r#""${x}""#), ["${x}"]);
    assert_eq!(
        template(r#""a ${ "b${1}" } c""#),
        [r#""a ""#, r#"${ "b${1}" }"#, r#"" c""#]
    );
    assert_eq!(template(r#""${ {a: 1}.a }""#), ["${ {a: 1}.a }"]);
    assert_eq!(template(r#""${ f("}") }""#), [r#"${ f("}") }"#]);
    assert_eq!(template(r#""${ r"}" }""#), [r#"${ r"}" }"#]);
    assert_eq!(template("\"${ a /* } */ }\""), ["${ a /* } */ }"]);
    assert_eq!(template("\"${ a // }\n }\""), ["${ a // }\n }"]);
    assert_eq!(template(r#""${a}${b}""#), ["${a}", "${b}"]);
    assert_eq!(template(r#""\n${a}\$""#), [r#""\n""#, "${a}", r#""$""#]);
}

#[test]
fn triple_quoted_strings_dedent() {
    assert_eq!(string("\"\"\"\n    a\n      b\n    \"\"\""), "a\n  b");
    assert_eq!(string("\"\"\"one line\"\"\""), "one line");
    assert_eq!(string("\"\"\"\n  a\n\n  b\n  \"\"\""), "a\n\nb");
    // The closing quotes on the last text line keep the text.
    assert_eq!(string("\"\"\"\n  a\n  b\"\"\""), "a\nb");
    // A blank last line is dropped with the newline before it.
    assert_eq!(string("\"\"\"\n\ta\n\t\"\"\""), "a");
    // Escapes are content, not indentation, and `\n` does not start a line.
    assert_eq!(
        string("\"\"\"\n    \\tx\\n  y\n    z\n    \"\"\""),
        "\tx\n  y\nz"
    );
    assert_eq!(string("\"\"\"\n  say \"hi\"\n  \"\"\""), "say \"hi\"");
    assert_eq!(string("\"\"\"\r\n  a\r\n  b\r\n  \"\"\""), "a\nb");
    assert_eq!(string("\"\"\"\n\"\"\""), "");
    assert_eq!(
        template("\"\"\"\n    Hello ${name},\n      ${ items.map({ i ->\n    i }) } x\n    \"\"\""),
        [
            r#""Hello ""#,
            "${name}",
            r#"",\n  ""#,
            "${ items.map({ i ->\n    i }) }",
            r#"" x""#
        ]
    );
}

#[test]
fn tokenize_reports_template_budget_and_spans() {
    let toks = tokenize("f(\"${x}\")").expect("lexes");
    let Tok::Template(t) = &toks[2].tok else {
        panic!("template expected")
    };
    assert_eq!(t.budget.depth, 2);
    assert_eq!(toks[2].span.start, 2);
    assert_eq!(toks[2].span.end, 8);
}

#[test]
fn lexing_a_megabyte_is_fast() {
    let line = "let total = compute(items[3], {name: \"x ${y}\", n: 1_000}) + 2.5 // note\n";
    let src = line.repeat(1_000_000 / line.len() + 1);
    let start = std::time::Instant::now();
    let toks = tokenize(&src).expect("lexes");
    let took = start.elapsed();
    assert!(toks.len() > 200_000);
    // Generous, since tests run unoptimised and in parallel.
    assert!(took.as_secs_f64() < 3.0, "lexing 1 MB took {took:?}");
}
