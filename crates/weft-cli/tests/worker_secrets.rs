//! With an API key in the environment, no file under the state directory
//! contains it — even when a script copies it into a worker's env overlay.

use std::path::Path;
use std::process::Command;

fn all_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn api_keys_never_reach_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let key = "sk-weft-test-0123456789abcdef";
    std::fs::write(
        dir.path().join("s.wf"),
        r#"llm_mock({text: "done"})
let h = spawn_worker({task: "summarise", key: "secret-test",
  execution: {env: {OPENAI_API_KEY: env("OPENAI_API_KEY")}}})
let d = wait_worker(h)
println(d.status)
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", "--state-dir", state.to_str().unwrap(), "s.wf"])
        .current_dir(dir.path())
        .env("OPENAI_API_KEY", key)
        .env("WEFT_PROVIDER", "mock")
        .env_remove("WEFT_STATE_DIR")
        .env_remove("WEFT_LLM_DISABLED")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout, "completed\n");
    assert!(!stdout.contains(key) && !stderr.contains(key));
    let mut files = Vec::new();
    all_files(&state, &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("workers")),
        "{files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(key), "{} contains the API key", f.display());
    }
}
