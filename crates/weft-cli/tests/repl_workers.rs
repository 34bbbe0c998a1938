//! `:workers` in the REPL lists the session's workers (input piped in).

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn workers_command_lists_the_session_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("repl")
        .current_dir(dir.path())
        .env("WEFT_HISTORY", "")
        .env("WEFT_STATE_DIR", dir.path().join("state"))
        .env("WEFT_LLM_DISABLED", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b":workers\nllm_mock({text: \"hi\"})\nlet h = spawn_worker({task: \"say hi\", name: \"greeter\"})\nwait_worker(h).status\n:workers\n:quit\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no workers in this session"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("greeter"))
        .expect("a row for the worker");
    assert!(row.contains(" w_") && row.contains("completed"), "{row}");
}
