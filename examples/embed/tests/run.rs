//! Builds and runs the embed example (cargo builds the binary for this
//! test) on its script and checks everything it prints.

use std::path::Path;
use std::process::Command;

#[test]
fn the_example_host_runs_its_script() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_weft-embed-example"))
        .arg(dir.join("flow.wf"))
        .env_remove("WEFT_PROVIDER")
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        stdout,
        "triage-T-1: completed: summary of 'Printer on fire'\n\
         triage-T-2: completed: summary of 'Coffee machine empty'\n\
         script returned 2\n\
         triage(\"T-3\") = Wi-Fi down (reported by Ada)\n\
         triage(42) failed: [type_error] fetch_ticket: argument 1 (id) must be a string, got int\n\
         events: worker_completed=2 worker_progress=2 worker_started=2\n"
    );
}

#[test]
fn a_missing_script_is_reported_not_a_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_weft-embed-example"))
        .arg("no/such/file.wf")
        .output()
        .expect("the example runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[io_error]: cannot read no/such/file.wf"),
        "{stderr}"
    );
}
