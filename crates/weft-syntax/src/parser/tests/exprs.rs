//! Expressions: literals, operators and precedence, postfix chains,
//! collections, closures, pipes, templates.

use super::ok;
use crate::ast::{ExprKind, StmtKind, TemplatePart};
use crate::diagnostic::SourceFile;

#[test]
fn literals() {
    assert_eq!(
        ok("nil; true; false; 42; 2.5; \"s\"; x; r\"\\n\""),
        "nil; true; false; 42; 2.5; \"s\"; x; \"\\\\n\""
    );
}

#[test]
fn precedence_follows_the_table() {
    assert_eq!(ok("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(ok("1 * 2 + 3"), "(+ (* 1 2) 3)");
    assert_eq!(ok("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(ok("a / b % c"), "(% (/ a b) c)");
    assert_eq!(ok("2 ** 3 ** 2"), "(** 2 (** 3 2))");
    assert_eq!(ok("2 * 3 ** 2"), "(* 2 (** 3 2))");
    // Unary binds tighter than `**` (level 11 vs 10).
    assert_eq!(ok("-2 ** 2"), "(** (- 2) 2)");
    assert_eq!(ok("2 ** -1"), "(** 2 (- 1))");
    assert_eq!(ok("!a && b"), "(&& (! a) b)");
    assert_eq!(ok("- -x"), "(- (- x))");
    assert_eq!(ok("-x.y"), "(- (. x y))");
    assert_eq!(ok("a..b + 1"), "(.. a (+ b 1))");
    assert_eq!(ok("a..=b"), "(..= a b)");
    assert_eq!(ok("x in 0..10"), "(in x (.. 0 10))");
    assert_eq!(ok("x not in ys"), "(not in x ys)");
    assert_eq!(ok("a < b == c >= d"), "(== (< a b) (>= c d))");
    assert_eq!(ok("a == b != c"), "(!= (== a b) c)");
    assert_eq!(ok("a || b && c"), "(|| a (&& b c))");
    assert_eq!(ok("a ?? b || c"), "(?? a (|| b c))");
    assert_eq!(ok("a ?? b ?? c"), "(?? (?? a b) c)");
    assert_eq!(ok("a |> f ?? g"), "(|> a (?? f g))");
    assert_eq!(ok("(1 + 2) * 3"), "(* (+ 1 2) 3)");
}

#[test]
fn postfix_chains() {
    assert_eq!(ok("f(1, 2)"), "(call f 1 2)");
    assert_eq!(ok("f()"), "(call f)");
    assert_eq!(ok("f(a,)"), "(call f a)");
    assert_eq!(ok("f(...xs, 1)"), "(call f ...xs 1)");
    assert_eq!(ok("f(1)(2)"), "(call (call f 1) 2)");
    assert_eq!(ok("x.y.z"), "(. (. x y) z)");
    assert_eq!(ok("x.f(a)"), "(.f x a)");
    assert_eq!(ok("\"a,b\".split(\",\")"), "(.split \"a,b\" \",\")");
    assert_eq!(ok("x?.f()"), "(?.f x)");
    assert_eq!(ok("x?.k"), "(?. x k)");
    assert_eq!(ok("x?[0]"), "(?[] x 0)");
    assert_eq!(ok("x[0][1]"), "([] ([] x 0) 1)");
    assert_eq!(ok("x.a[0].b"), "(. ([] (. x a) 0) b)");
    // A parenthesised member is called as a value, not as a method.
    assert_eq!(ok("(x.f)(1)"), "(call (. x f) 1)");
    // Keywords are fine as member names.
    assert_eq!(ok("edge.from; x.match"), "(. edge from); (. x match)");
    assert_eq!(ok("1.abs()"), "(.abs 1)");
}

#[test]
fn slices() {
    assert_eq!(ok("s[1:3]"), "([:] s 1 3)");
    assert_eq!(ok("s[:3]"), "([:] s - 3)");
    assert_eq!(ok("s[1:]"), "([:] s 1 -)");
    assert_eq!(ok("s[:]"), "([:] s - -)");
    assert_eq!(ok("s[-2:]"), "([:] s (- 2) -)");
    assert_eq!(ok("s?[1:2]"), "(?[:] s 1 2)");
}

#[test]
fn lists_and_dicts() {
    assert_eq!(ok("[]"), "[]");
    assert_eq!(ok("[1, \"a\", ...xs,]"), "[1 \"a\" ...xs]");
    assert_eq!(ok("x = {}"), "(= x {})");
    assert_eq!(
        ok("x = {a: 1, \"b c\": 2, [k]: 3, ...other,}"),
        "(= x {a: 1, \"b c\": 2, [k]: 3, ...other})"
    );
    assert_eq!(
        ok("x = {type: \"x\", match: \"*\", if: 1, nil: 2}"),
        "(= x {type: \"x\", match: \"*\", if: 1, nil: 2})"
    );
    assert_eq!(ok("x = {_: 1, _id: 2}"), "(= x {_: 1, _id: 2})");
    // Shorthand entries.
    assert_eq!(ok("x = {name, age: 3}"), "(= x {name: name, age: 3})");
    assert_eq!(ok("x = {a}"), "(= x {a: a})");
    // Multi-line dicts need commas between entries.
    assert_eq!(
        ok("x = {\n  a: 1,\n  b: [\n    1,\n    2\n  ]\n}"),
        "(= x {a: 1, b: [1 2]})"
    );
    // A statement that starts with `{` is an expression.
    assert_eq!(ok("{a: 1}.a"), "(. {a: 1} a)");
}

#[test]
fn closures_and_function_expressions() {
    assert_eq!(ok("f = { x -> x + 1 }"), "(= f (fn (x) {(+ x 1)}))");
    assert_eq!(ok("f = { a, b -> a + b }"), "(= f (fn (a b) {(+ a b)}))");
    assert_eq!(ok("f = { -> 42 }"), "(= f (fn () {42}))");
    assert_eq!(ok("f = { _ -> 1 }"), "(= f (fn (_) {1}))");
    assert_eq!(ok("f = { x -> }"), "(= f (fn (x) {}))");
    assert_eq!(
        ok("f = { x -> let y = x; y }"),
        "(= f (fn (x) {(let y x); y}))"
    );
    assert_eq!(ok("f = { -> {a: 1} }"), "(= f (fn () {{a: 1}}))");
    assert_eq!(
        ok("xs.map({ x ->\n  let y = x * 2\n  y + 1\n})"),
        "(.map xs (fn (x) {(let y (* x 2)); (+ y 1)}))"
    );
    assert_eq!(
        ok("f = fn(a, b = a, ...rest) { a }"),
        "(= f (fn (a b=a ...rest) {a}))"
    );
    assert_eq!(ok("f = fn() {}"), "(= f (fn () {}))");
    assert_eq!(ok("fn(x) { x }(3)"), "(call (fn (x) {x}) 3)");
}

#[test]
fn pipes_and_placeholders() {
    assert_eq!(ok("x |> f"), "(|> x f)");
    assert_eq!(ok("x |> f(a)"), "(|> x (call f a))");
    assert_eq!(ok("x |> g(a, _)"), "(|> x (call g a _))");
    assert_eq!(
        ok("x |> replace(\"a-b\", \"-\", _)"),
        "(|> x (call replace \"a-b\" \"-\" _))"
    );
    assert_eq!(ok("x |> s.f(_, 1)"), "(|> x (.f s _ 1))");
    assert_eq!(ok("x |> f |> g(1)"), "(|> (|> x f) (call g 1))");
    assert_eq!(ok("x\n  |> f\n  |> g"), "(|> (|> x f) g)");
    assert_eq!(
        ok("x |> f(y |> g(_), _)"),
        "(|> x (call f (|> y (call g _)) _))"
    );
    assert_eq!(ok("x |> { v -> v + 1 }"), "(|> x (fn (v) {(+ v 1)}))");
}

#[test]
fn control_flow_is_expressions() {
    assert_eq!(
        ok("let g = if s > 90 { \"A\" } else if s > 80 { \"B\" } else { \"C\" }"),
        "(let g (if (> s 90) {\"A\"} (if (> s 80) {\"B\"} {\"C\"})))"
    );
    assert_eq!(ok("if a { 1 }"), "(if a {1})");
    assert_eq!(ok("if a {\n  1\n}\nelse {\n  2\n}"), "(if a {1} {2})");
    assert_eq!(ok("if {a: 1}.a { 1 }"), "(if (. {a: 1} a) {1})");
    assert_eq!(ok("while i < 10 { i += 1 }"), "(while (< i 10) {(+= i 1)})");
    assert_eq!(ok("for x in [1, 2] { f(x) }"), "(for x [1 2] {(call f x)})");
    assert_eq!(ok("for {key, value} in d { }"), "(for {key, value} d {})");
    assert_eq!(ok("for [a, b] in pairs { }"), "(for [a b] pairs {})");
    assert_eq!(ok("for _ in 0..3 { }"), "(for _ (.. 0 3) {})");
    assert_eq!(
        ok("for i in 0..10 { if i == 5 { break } else { continue } }"),
        "(for i (.. 0 10) {(if (== i 5) {(break)} {(continue)})})"
    );
    assert_eq!(
        ok("let t = spawn { slow() }"),
        "(let t (spawn {(call slow)}))"
    );
    assert_eq!(ok("return"), "(return)");
    assert_eq!(ok("return 1 + 2"), "(return (+ 1 2))");
    assert_eq!(ok("fn f() { return }"), "(fn f () {(return)})");
    assert_eq!(ok("throw {category: \"x\"}"), "(throw {category: \"x\"})");
    assert_eq!(
        ok("x = if a { 1 } else { 2 } + 1"),
        "(= x (+ (if a {1} {2}) 1))"
    );
}

#[test]
fn try_catch_finally() {
    assert_eq!(
        ok("let r = try { risky() } catch e { \"f: ${e}\" } finally { cleanup() }"),
        "(let r (try {(call risky)} catch e {(tmpl \"f: \" e)} finally {(call cleanup)}))"
    );
    assert_eq!(
        ok("try { a() } catch (e) { p(e) }"),
        "(try {(call a)} catch e {(call p e)})"
    );
    assert_eq!(ok("try { a() } catch { 0 }"), "(try {(call a)} catch {0})");
    assert_eq!(
        ok("try { a() } finally { b() }"),
        "(try {(call a)} finally {(call b)})"
    );
    assert_eq!(
        ok("try { a() } catch _ { 0 }"),
        "(try {(call a)} catch _ {0})"
    );
    assert_eq!(
        ok("try { a() } catch ({message}) { message }"),
        "(try {(call a)} catch {message} {message})"
    );
    assert_eq!(
        ok("try {\n  a()\n}\ncatch e {\n}\nfinally {\n}"),
        "(try {(call a)} catch e {} finally {})"
    );
}

#[test]
fn match_arms() {
    let src = r#"let kind = match value {
  0 -> "zero"
  1 | 2 | 3 -> "small"
  n if n < 0 -> "negative"                 // binding + guard
  "stop" -> { cleanup(); "stopped" }       // block body
  {status: "ok", data: d} -> d
  [first, ...rest] -> first
  -1 -> "minus one"
  -2.5 | nil | true -> "odd"
  _ -> "other"
}"#;
    assert_eq!(
        ok(src),
        "(let kind (match value (0 -> \"zero\") ((| 1 2 3) -> \"small\") (n if (< n 0) -> \"negative\") \
         (\"stop\" -> {(call cleanup); \"stopped\"}) ({status: \"ok\", data: d} -> d) ([first ...rest] -> first) \
         (-1 -> \"minus one\") ((| -2.5 nil true) -> \"odd\") (_ -> \"other\")))"
    );
    assert_eq!(
        ok("match x { 1 -> a, 2 -> b, }"),
        "(match x (1 -> a) (2 -> b))"
    );
    assert_eq!(ok("match x {}"), "(match x )");
    assert_eq!(
        ok("match x { _ -> throw \"x\" }"),
        "(match x (_ -> (throw \"x\")))"
    );
    assert_eq!(
        ok("match x { n if n < 0 -> return 1 }"),
        "(match x (n if (< n 0) -> (return 1)))"
    );
    assert_eq!(ok("match x { _ -> return\n}"), "(match x (_ -> (return)))");
    assert_eq!(
        ok("match x { 1 ->\n  \"one\"\n}"),
        "(match x (1 -> \"one\"))"
    );
    assert_eq!(ok("match x { _ -> ({a: 1}) }"), "(match x (_ -> {a: 1}))");
    assert_eq!(
        ok("match x { [a, _, ...] -> a, {name, role = \"user\", ...rest} -> name, [[1, y]] -> y }"),
        "(match x ([a _ ...] -> a) ({name, role = \"user\", ...rest} -> name) ([[1 y]] -> y))"
    );
    assert_eq!(
        ok("match x { {\"a b\": 1, if: y} -> y }"),
        "(match x ({a b: 1, if: y} -> y))"
    );
    assert_eq!(
        ok("match x {\n  1\n  | 2 -> a\n}"),
        "(match x ((| 1 2) -> a))"
    );
}

#[test]
fn templates_parse_their_expressions() {
    assert_eq!(ok("\"a ${b} c\""), "(tmpl \"a \" b \" c\")");
    assert_eq!(
        ok("\"a ${ \"b${1}\" } c\""),
        "(tmpl \"a \" (tmpl \"b\" 1) \" c\")"
    );
    assert_eq!(ok("\"${ {a: 1}.a }\""), "(tmpl (. {a: 1} a))");
    assert_eq!(ok("\"${ x |> f(_) }\""), "(tmpl (|> x (call f _)))");
    assert_eq!(ok("\"${ f(\n  1,\n  2) }\""), "(tmpl (call f 1 2))");
    assert_eq!(
        ok("\"\"\"\n  Hi ${name}!\n    ${ xs.map({ x ->\n      x }) }\n  \"\"\""),
        "(tmpl \"Hi \" name \"!\\n  \" (.map xs (fn (x) {x})))"
    );
    // Spans of interpolated expressions are file offsets.
    let m = crate::parse_module(&SourceFile::new("t", "\"ab ${cd} e\"")).expect("parses");
    let StmtKind::Expr(e) = &m.stmts[0].kind else {
        panic!("expr expected")
    };
    let ExprKind::Template(parts) = &e.kind else {
        panic!("template expected")
    };
    let TemplatePart::Expr(inner) = &parts[1] else {
        panic!("expr part expected")
    };
    assert_eq!((inner.span.start, inner.span.end), (6, 8));
}
