//! The `weft` command is built on the public embedding API alone: its
//! manifest depends on the `weft` crate and on no other workspace crate,
//! and its sources name no internal crate.

use std::path::Path;

const INTERNAL: [&str; 3] = ["weft_syntax", "weft_vm", "weft_agents"];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_cli_uses_only_the_facade() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("weft.workspace = true"), "{manifest}");
    for dep in ["weft-syntax", "weft-vm", "weft-agents"] {
        assert!(!manifest.contains(dep), "weft-cli depends on {dep}");
    }
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    sources(&root.join("tests"), &mut files);
    assert!(!files.is_empty());
    for file in files {
        if file.ends_with("facade_only.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for name in INTERNAL {
            assert!(
                !text.contains(&format!("{name}::")) && !text.contains(&format!("use {name}")),
                "{} uses {name}",
                file.display()
            );
        }
    }
}
