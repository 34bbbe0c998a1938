//! `docs/guide/builtins.md` is generated from the builtin registry of a
//! full runtime (the VM's core builtins plus the agent layer's), so the
//! reference never drifts from the implementation. This test renders it
//! and fails when the committed file differs; regenerate with
//!
//! ```sh
//! WEFT_BLESS=1 cargo test -p weft-cli --test builtins_reference
//! ```

use std::path::PathBuf;

use weft::tooling::BuiltinInfo;

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide/builtins.md")
}

/// The builtins of `weft run`, from the embedding API's tooling module.
fn registry() -> Vec<BuiltinInfo> {
    weft::tooling::builtins()
}

/// `name(a, b, c?)`, `name(values...)`.
fn signature(def: &BuiltinInfo) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, p) in def.params.iter().enumerate() {
        if *p == "..." {
            if let Some(last) = parts.last_mut() {
                *last = format!("{}...", last.trim_end_matches('?'));
            }
            continue;
        }
        if i >= def.min_args {
            parts.push(format!("{p}?"));
        } else {
            parts.push(p.to_string());
        }
    }
    format!("{}({})", def.name, parts.join(", "))
}

fn render(defs: &[BuiltinInfo]) -> String {
    let mut families: Vec<&str> = Vec::new();
    for d in defs {
        if !families.contains(&d.family) {
            families.push(d.family);
        }
    }
    let mut out = String::new();
    out.push_str("# Builtin reference\n\n");
    out.push_str(
        "<!-- Generated from the builtin registry by crates/weft-cli/tests/builtins_reference.rs; \
         do not edit by hand. Regenerate: WEFT_BLESS=1 cargo test -p weft-cli --test builtins_reference -->\n\n",
    );
    out.push_str(&format!(
        "All {} builtins of `weft run` (the core library and the agent layer), grouped by \
         family in registry order. In a signature, `x?` is an optional argument and `xs...` \
         takes any number of arguments. Any builtin can also be called as a method on its \
         first argument (`s.split(\",\")` is `split(s, \",\")`) or through a pipe \
         (`s |> split(\",\")`).\n\n",
        defs.len()
    ));
    let links: Vec<String> = families
        .iter()
        .map(|f| format!("[{f}](#{})", f.replace('_', "-").to_lowercase()))
        .collect();
    out.push_str(&format!("Families: {}\n", links.join(" · ")));
    for family in &families {
        out.push_str(&format!(
            "\n## {family}\n\n| builtin | what it does |\n|---|---|\n"
        ));
        for d in defs.iter().filter(|d| d.family == *family) {
            let mut text = d.doc.replace('|', "\\|").replace('\n', " ");
            if !d.options.is_empty() {
                let keys: Vec<String> = d.options.iter().map(|k| format!("`{k}`")).collect();
                text.push_str(&format!(" <br>Options: {}.", keys.join(", ")));
            }
            out.push_str(&format!("| `{}` | {text} |\n", signature(d)));
        }
    }
    out
}

#[test]
fn every_builtin_is_documented_once() {
    let defs = registry();
    let mut seen = std::collections::HashSet::new();
    for d in &defs {
        assert!(
            seen.insert(d.name),
            "builtin {} is registered twice",
            d.name
        );
        assert!(
            !d.doc.trim().is_empty(),
            "builtin {} has no doc string",
            d.name
        );
        assert!(!d.family.is_empty(), "builtin {} has no family", d.name);
        let named = d.params.iter().filter(|p| **p != "...").count();
        assert!(
            d.max_args.is_none_or(|max| named >= max),
            "builtin {} takes up to {:?} arguments but names {named}",
            d.name,
            d.max_args
        );
    }
    assert!(
        defs.iter().any(|d| d.name == "llm_call"),
        "agent builtins missing"
    );
}

/// Every builtin that takes an options dict lists its keys, taken from
/// the key lists its option parser checks (so the reference cannot drift
/// from what the parser accepts).
#[test]
fn every_options_parameter_lists_its_keys() {
    for d in registry() {
        let takes_options = d.params.contains(&"options");
        assert!(
            !takes_options || !d.options.is_empty(),
            "builtin {} takes `options` but declares no keys (BuiltinDef::options with the \
             parser's key list)",
            d.name
        );
    }
    let find = |n: &str| registry().into_iter().find(|d| d.name == n).unwrap();
    assert!(find("spawn_worker").options.contains(&"returns"));
    assert!(find("spawn_worker").options.contains(&"max_iterations"));
    assert!(find("spawn_worker").options.contains(&"model"));
    assert_eq!(find("exec").options, ["cwd", "env", "stdin", "timeout_ms"]);
}

#[test]
fn signatures_mark_optional_and_variadic_arguments() {
    let defs = registry();
    let find = |n: &str| defs.iter().find(|d| d.name == n).unwrap().clone();
    assert_eq!(signature(&find("split")), "split(string, separator?)");
    assert_eq!(signature(&find("println")), "println(values...)");
}

#[test]
fn committed_reference_matches_the_registry() {
    let generated = render(&registry());
    let path = reference_path();
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .header("docs/guide/builtins.md (committed)", "generated")
            .to_string();
        panic!(
            "docs/guide/builtins.md is out of date with the builtin registry.\n\
             Regenerate it with: WEFT_BLESS=1 cargo test -p weft-cli --test builtins_reference\n\n{diff}"
        );
    }
}
