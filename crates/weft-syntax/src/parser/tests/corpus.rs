//! Every `.wf` file of the repository (conformance suite, examples,
//! stdlib) parses, except the tests that expect a `syntax_error`, which
//! fail with a lower-case, worded message on the expected line.

use std::path::{Path, PathBuf};

use crate::diagnostic::SourceFile;

fn wf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            wf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wf") {
            out.push(path);
        }
    }
}

#[test]
fn repository_sources_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["conformance", "examples", "stdlib", "benches"] {
        wf_files(&root.join(dir), &mut files);
    }
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let expects_syntax_error = std::fs::read_to_string(path.with_extension("error"))
            .is_ok_and(|e| e.contains("syntax_error"));
        let file = SourceFile::new(path.display().to_string(), text);
        match (crate::parse_module(&file), expects_syntax_error) {
            (Ok(_), false) => {}
            (Err(d), true) => {
                let first = d.render().lines().next().unwrap_or_default().to_string();
                if first.chars().any(|c| c.is_ascii_uppercase()) {
                    failures.push(format!(
                        "{}: message has upper case: {first}",
                        path.display()
                    ));
                }
            }
            (Ok(_), true) => failures.push(format!(
                "{}: parsed but a syntax error was expected",
                path.display()
            )),
            (Err(d), false) => failures.push(d.render()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
