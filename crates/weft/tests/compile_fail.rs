//! Engines and values are `Rc`-based and must stay on their thread: these
//! programs must not compile (trybuild checks the compiler's errors).

#[test]
fn engine_and_values_are_not_send() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
