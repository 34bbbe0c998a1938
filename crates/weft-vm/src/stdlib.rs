//! The `std/NAME` modules: `.wf` files from the repository's `stdlib/`
//! folder, embedded in the binary at build time.

/// (name, source) of every standard module.
pub const STD_MODULES: &[(&str, &str)] = &[
    (
        "agents",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../stdlib/agents.wf"
        )),
    ),
    (
        "testing",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../stdlib/testing.wf"
        )),
    ),
    (
        "text",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../stdlib/text.wf")),
    ),
];

/// The source of `std/NAME`.
pub fn std_module(name: &str) -> Option<&'static str> {
    STD_MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
}
