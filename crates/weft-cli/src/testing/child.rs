//! Running one test as a child process: `weft run NAME.wf` in the test's
//! directory, with a fresh temporary state directory, `WEFT_LLM_DISABLED=1`,
//! no LLM provider configured (so the mock provider answers), the test's
//! fixture if it has one, and a timeout after which the child is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::discover::TestCase;

/// Environment variables that choose or configure an LLM provider
/// (agents.md §1). They are removed so every test sees the mock provider.
pub const PROVIDER_ENV: [&str; 7] = [
    "WEFT_PROVIDER",
    "WEFT_MODEL",
    "WEFT_OPENAI_BASE_URL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
];

/// How long the output readers may take after the child has ended (a
/// grandchild could keep a pipe open).
const READER_GRACE: Duration = Duration::from_secs(2);

/// How a test's process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status code.
    Code(i32),
    /// It was ended by a signal (the text says which).
    Signal(String),
    /// It ran past the timeout and was killed.
    TimedOut(Duration),
    /// It could not be started (the text says why).
    NotStarted(String),
}

impl Ended {
    fn from_status(status: ExitStatus) -> Ended {
        match status.code() {
            Some(code) => Ended::Code(code),
            None => Ended::Signal(status.to_string()),
        }
    }
}

/// What one test run produced.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub ended: Ended,
    pub stdout: String,
    pub stderr: String,
}

impl ChildRun {
    fn not_started(why: String) -> ChildRun {
        ChildRun {
            ended: Ended::NotStarted(why),
            stdout: String::new(),
            stderr: String::new(),
        }
    }
}

/// Runs `case` with the `weft` binary at `exe` (an absolute path).
pub fn run_test(exe: &Path, case: &TestCase, timeout: Duration) -> ChildRun {
    let state = match tempfile::Builder::new()
        .prefix("weft-test-state-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(e) => return ChildRun::not_started(format!("cannot create a state directory: {e}")),
    };
    let Some(script) = case.script.file_name() else {
        return ChildRun::not_started("the test path has no file name".into());
    };
    let mut command = Command::new(exe);
    command.arg("run");
    command.args(header_args(
        &std::fs::read_to_string(&case.script).unwrap_or_default(),
    ));
    if let Some(fixture) = case.fixture.as_deref().and_then(Path::file_name) {
        command.arg("--llm-fixture").arg(fixture);
    }
    command
        .arg(script)
        .current_dir(case.dir())
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in PROVIDER_ENV {
        command.env_remove(var);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return ChildRun::not_started(format!("cannot start {}: {e}", exe.display())),
    };
    let stdout = Capture::start(child.stdout.take());
    let stderr = Capture::start(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ended::from_status(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Ended::TimedOut(timeout);
            }
            Ok(None) => {
                thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Ended::NotStarted(format!("cannot wait for the test process: {e}"));
            }
        }
    };
    let grace = Instant::now() + READER_GRACE;
    let run = ChildRun {
        ended,
        stdout: stdout.finish(grace),
        stderr: stderr.finish(grace),
    };
    drop(state);
    run
}

/// Extra `weft run` flags from `// weft-args: FLAGS` lines in the comment
/// block at the top of a test (before its first other line), split at
/// whitespace: `// weft-args: --max-steps 1000` runs the test under a
/// step budget.
pub fn header_args(source: &str) -> Vec<String> {
    let mut args = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        if let Some(flags) = comment.trim_start().strip_prefix("weft-args:") {
            args.extend(flags.split_whitespace().map(str::to_string));
        }
    }
    args
}

/// A pipe drained by a background thread into a shared buffer, so a child
/// can never block on a full pipe and partial output survives a kill.
struct Capture {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Capture {
    fn start(pipe: Option<impl Read + Send + 'static>) -> Capture {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        if let Some(mut pipe) = pipe {
            let sink = Arc::clone(&buffer);
            thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => sink
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                let _ = tx.send(());
            });
        }
        Capture { buffer, done }
    }

    /// Waits (until `deadline` at most) for the pipe to close, then returns
    /// what was read, decoded lossily.
    fn finish(self, deadline: Instant) -> String {
        let _ = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let bytes = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::header_args;

    #[test]
    fn header_args_come_from_the_leading_comment_block() {
        let src = "// a test\n// weft-args: --max-steps 1000\n//weft-args: --time-limit-ms 50\nlet x = 1\n// weft-args: --fresh\n";
        assert_eq!(
            header_args(src),
            ["--max-steps", "1000", "--time-limit-ms", "50"]
        );
        assert!(header_args("let x = 1 // weft-args: --fresh\n").is_empty());
        assert!(header_args("").is_empty());
    }
}
