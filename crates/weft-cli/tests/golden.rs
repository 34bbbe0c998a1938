//! Golden diagnostics: every `tests/golden/NAME.wf` is run with `weft run`
//! (from inside `tests/golden/`, so paths print as `NAME.wf`) and must exit
//! with status 1 and print exactly `NAME.stderr` on stderr.
//!
//! To (re)write the `.stderr` files from the current output:
//!
//! ```text
//! WEFT_BLESS=1 cargo test -p weft-cli --test golden
//! ```
//!
//! then review the diff before committing. Blessing refuses a case that did
//! not fail, so a broken build cannot bless empty files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BLESS_HINT: &str = "WEFT_BLESS=1 cargo test -p weft-cli --test golden";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wf"))
        .collect();
    cases.sort();
    cases
}

/// Trailing newlines do not count (editors add or strip them).
fn trimmed(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

/// Runs one case; `Err` explains a mismatch.
fn check_case(script: &Path, bless: bool) -> Result<(), String> {
    let name = script.file_name().unwrap().to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(name)
        .current_dir(golden_dir())
        .env("WEFT_LLM_DISABLED", "1")
        .env_remove("WEFT_STATE_DIR")
        .output()
        .map_err(|e| format!("{name}: cannot run weft: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let expected_path = script.with_extension("stderr");
    let stem = expected_path.file_name().unwrap().to_str().unwrap();

    if out.status.code() != Some(1) || trimmed(&stderr).is_empty() {
        return Err(format!(
            "{name}: expected exit status 1 and a diagnostic, got {} with stderr:\n{stderr}",
            out.status
        ));
    }
    if bless {
        fs::write(&expected_path, format!("{}\n", trimmed(&stderr)))
            .map_err(|e| format!("{stem}: cannot write: {e}"))?;
        return Ok(());
    }
    let expected = match fs::read_to_string(&expected_path) {
        Ok(text) => text,
        Err(_) => {
            return Err(format!(
                "{name}: {stem} is missing; create it with `{BLESS_HINT}` and review it. \
                 Current stderr:\n{stderr}"
            ))
        }
    };
    if trimmed(&expected) == trimmed(&stderr) {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(
        &format!("{}\n", trimmed(&expected)),
        &format!("{}\n", trimmed(&stderr)),
    )
    .unified_diff()
    .header(stem, "actual stderr")
    .to_string();
    Err(format!("{name}: stderr differs from {stem}\n{diff}"))
}

#[test]
fn golden_diagnostics() {
    let bless = std::env::var_os("WEFT_BLESS").is_some_and(|v| !v.is_empty() && v != "0");
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no golden cases in {}",
        golden_dir().display()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(case, bless).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed (after fixing the output, bless with `{BLESS_HINT}`):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
