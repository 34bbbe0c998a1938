//! Statements: bindings, patterns, functions, assignments, imports,
//! separators and spans.

use super::{fail, ok};
use crate::ast::{ExprKind, StmtKind};
use crate::diagnostic::SourceFile;

#[test]
fn let_and_var() {
    assert_eq!(ok("let x = 1"), "(let x 1)");
    assert_eq!(ok("var x = 1"), "(var x 1)");
    assert_eq!(ok("pub let x = 1"), "(pub let x 1)");
    assert_eq!(ok("pub var x = 1"), "(pub var x 1)");
    assert_eq!(ok("let _ = f()"), "(let _ (call f))");
    assert_eq!(ok("let x =\n  1"), "(let x 1)");
    assert_eq!(
        ok("let {name, age: years, role = \"user\", ...rest} = d"),
        "(let {name, age: years, role = \"user\", ...rest} d)"
    );
    assert_eq!(ok("let {a: x = 1} = d"), "(let {a: x = 1} d)");
    assert_eq!(
        ok("let [a, b = 10, ...rest] = xs"),
        "(let [a b = 10 ...rest] xs)"
    );
    assert_eq!(ok("let {a: {b}, c: [d]} = v"), "(let {a: {b}, c: [d]} v)");
    assert_eq!(
        ok("let {\"two words\": t, from: f} = d"),
        "(let {two words: t, from: f} d)"
    );
    assert_eq!(
        ok("let [first, second, ...tail] = xs"),
        "(let [first second ...tail] xs)"
    );
    assert_eq!(ok("let [a, _, ...] = xs"), "(let [a _ ...] xs)");
    assert_eq!(ok("let [] = xs"), "(let [] xs)");
    assert_eq!(ok("let {\n  a,\n  b\n} = d"), "(let {a, b} d)");
}

#[test]
fn functions() {
    assert_eq!(
        ok("fn area(w, h = w) { w * h }"),
        "(fn area (w h=w) {(* w h)})"
    );
    assert_eq!(
        ok("fn log_all(prefix, ...items) { }"),
        "(fn log_all (prefix ...items) {})"
    );
    assert_eq!(ok("pub fn exported() { }"), "pub (fn exported () {})");
    assert_eq!(
        ok("fn f(\n  a,\n  b,\n) {\n  a\n  b\n}"),
        "(fn f (a b) {a; b})"
    );
    assert_eq!(ok("fn f(_, x) { x }"), "(fn f (_ x) {x})");
    assert_eq!(
        ok("fn outer() { fn inner() { 1 }\n inner() }"),
        "(fn outer () {(fn inner () {1}); (call inner)})"
    );
    let m =
        crate::parse_module(&SourceFile::new("t", "pub fn add(a, b) { a + b }")).expect("parses");
    let StmtKind::Fn { public, def } = &m.stmts[0].kind else {
        panic!("fn expected")
    };
    assert!(*public);
    assert_eq!((def.name_span.start, def.name_span.end), (7, 10));
    assert_eq!((def.span.start, def.span.end), (0, 26));
    assert_eq!(def.params[1].name, "b");
    assert_eq!((def.params[1].span.start, def.params[1].span.end), (14, 15));
}

#[test]
fn assignments() {
    assert_eq!(ok("x = 1"), "(= x 1)");
    assert_eq!(
        ok("x += 1; x -= 1; x *= 2; x /= 2; x %= 2"),
        "(+= x 1); (-= x 1); (*= x 2); (/= x 2); (%= x 2)"
    );
    assert_eq!(ok("x[i] = v"), "(= ([] x i) v)");
    assert_eq!(ok("x.key = v"), "(= (. x key) v)");
    assert_eq!(ok("x[\"key\"] = v"), "(= ([] x \"key\") v)");
    assert_eq!(ok("x.a[0].b = e"), "(= (. ([] (. x a) 0) b) e)");
    assert_eq!(ok("xs += [v]"), "(+= xs [v])");
    assert_eq!(ok("x =\n  1 +\n  2"), "(= x (+ 1 2))");
    for src in [
        "1 = 2",
        "f() = 1",
        "a + b = 1",
        "x.f() = 1",
        "a?.b = 1",
        "a?[0] = 1",
        "x[1:2] = 1",
        "_ = 1",
    ] {
        let d = fail(src);
        assert_eq!(d.message, "cannot assign to this expression", "{src}");
        assert_eq!(d.span.start, 0);
    }
}

#[test]
fn imports() {
    assert_eq!(ok("import \"std/agents\""), "(import \"std/agents\")");
    assert_eq!(ok("pub import \"./a.wf\""), "(pub import \"./a.wf\")");
    assert_eq!(
        ok("pub import { a as b } from \"./a.wf\""),
        "(pub import \"./a.wf\" a:b)"
    );
    assert_eq!(
        ok("import { summarize, rank as score } from \"./util.wf\""),
        "(import \"./util.wf\" summarize rank:score)"
    );
    assert_eq!(
        ok("import {\n  a,\n  b,\n} from \"x\""),
        "(import \"x\" a b)"
    );
    assert_eq!(ok("let as = 1\nas + x.as"), "(let as 1); (+ as (. x as))");
    assert_eq!(ok("fn as(as) { {as: as} }"), "(fn as (as) {{as: as}})");
    assert_eq!(
        ok("import { as as b, c as as } from \"x\""),
        "(import \"x\" as:b c:as)"
    );
    let m =
        crate::parse_module(&SourceFile::new("t", "import { a as b } from \"p\"")).expect("parses");
    let StmtKind::Import(i) = &m.stmts[0].kind else {
        panic!("import expected")
    };
    assert_eq!((i.path_span.start, i.path_span.end), (23, 26));
    let names = i.names.as_ref().expect("names");
    assert_eq!((names[0].span.start, names[0].span.end), (9, 15));
}

#[test]
fn separators() {
    assert_eq!(ok(""), "");
    assert_eq!(ok("\n\n"), "");
    assert_eq!(ok(";"), "");
    assert_eq!(ok("a; b\nc;;\n;d;"), "a; b; c; d");
    assert_eq!(ok("// only a comment\n"), "");
    assert_eq!(ok("fn f() { ; a;; b; }"), "(fn f () {a; b})");
    assert_eq!(ok("x = 1\n(y)"), "(= x 1); y");
    assert_eq!(ok("x = 1\n-y"), "(= x 1); (- y)");
    assert_eq!(ok("x = a\n  .b()\n  ?.c"), "(= x (?. (.b a) c))");
    assert_eq!(
        ok("x = a\n  && b\n  || c\n  ?? d"),
        "(= x (?? (|| (&& a b) c) d))"
    );
}

#[test]
fn preamble_is_skipped() {
    assert_eq!(ok("#!/usr/bin/env weft\nx"), "x");
    assert_eq!(ok("\u{feff}x"), "x");
}

#[test]
fn spans() {
    let src = "let y = \"a\" + 1";
    let m = crate::parse_module(&SourceFile::new("t", src)).expect("parses");
    assert_eq!((m.span.start, m.span.end), (0, 15));
    let StmtKind::Let { value, pattern, .. } = &m.stmts[0].kind else {
        panic!("let expected")
    };
    assert_eq!((value.span.start, value.span.end), (8, 15));
    assert_eq!((pattern.span.start, pattern.span.end), (4, 5));
    let ExprKind::Binary { lhs, rhs, .. } = &value.kind else {
        panic!("binary expected")
    };
    assert_eq!((lhs.span.start, lhs.span.end), (8, 11));
    assert_eq!((rhs.span.start, rhs.span.end), (14, 15));
    assert_eq!((m.stmts[0].span.start, m.stmts[0].span.end), (0, 15));

    let src = "obj.method(1)";
    let m = crate::parse_module(&SourceFile::new("t", src)).expect("parses");
    let StmtKind::Expr(e) = &m.stmts[0].kind else {
        panic!("expr expected")
    };
    let ExprKind::MethodCall { name_span, .. } = &e.kind else {
        panic!("method call expected")
    };
    assert_eq!((name_span.start, name_span.end), (4, 10));
    assert_eq!((e.span.start, e.span.end), (0, 13));
}
