//! Integration tests of `weft repl` (embedding.md §2), driven through a
//! pseudo-terminal with `rexpect`: definitions persist, multi-line input,
//! errors do not end the session, Ctrl-C, `:` commands, history, exit.
//!
//! Expected texts are chosen so that they never occur in the echoed input.

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use rexpect::process::wait::WaitStatus;
use rexpect::session::{Options, PtySession};
use tempfile::TempDir;

/// Generous: CI machines are slow.
const TIMEOUT_MS: u64 = 10_000;
const PROMPT: &str = "weft> ";
const CONTINUATION: &str = "  ... ";

struct Repl {
    pty: PtySession,
    dir: TempDir,
}

impl Repl {
    /// Starts `weft repl` with its history in a temporary directory and
    /// waits for the first prompt.
    fn start() -> Repl {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .arg("repl")
            .current_dir(dir.path())
            .env("WEFT_HISTORY", dir.path().join("history"))
            .env("TERM", "xterm");
        let options = Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true);
        let pty = rexpect::spawn_with_options(command, options).unwrap();
        let mut repl = Repl { pty, dir };
        repl.expect(PROMPT);
        repl
    }

    fn expect(&mut self, text: &str) -> String {
        match self.pty.exp_string(text) {
            Ok(before) => before,
            Err(e) => panic!("waiting for {text:?}: {e}"),
        }
    }

    fn send(&mut self, line: &str) {
        self.pty.send_line(line).unwrap();
    }

    /// Sends `line`, expects `output`, then the next prompt.
    fn eval(&mut self, line: &str, output: &str) {
        self.send(line);
        self.expect(output);
        self.expect(PROMPT);
    }

    /// Sends Ctrl-C until `text` appears (a Ctrl-C that arrives before the
    /// evaluation has started is not seen by it).
    fn interrupt_until(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS);
        let mut seen = String::new();
        while Instant::now() < deadline {
            self.pty.send_control('c').unwrap();
            let retry = Instant::now() + Duration::from_secs(1);
            while Instant::now() < retry {
                match self.pty.try_read() {
                    Some(c) => {
                        seen.push(c);
                        if seen.contains(text) {
                            return;
                        }
                    }
                    None => sleep(Duration::from_millis(20)),
                }
            }
        }
        panic!("no {text:?} after Ctrl-C; output: {seen:?}");
    }

    /// Waits for the process to end and returns its exit status.
    fn exit_status(&mut self) -> i32 {
        self.pty.exp_eof().unwrap();
        match self.pty.process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!("weft repl did not exit normally: {other:?}"),
        }
    }
}

#[test]
fn a_session() {
    let mut repl = Repl::start();

    // (1) definitions persist between inputs
    repl.send("let x = 40");
    repl.expect(PROMPT);
    repl.eval("x + 2", "42");

    // (2) a multi-line function: the parser reports incomplete input
    repl.send("fn add(a, b) {");
    repl.expect(CONTINUATION);
    repl.send("a + b");
    repl.expect(CONTINUATION);
    repl.send("}");
    repl.expect(PROMPT);
    repl.eval("add(2, 3)", "5");

    // (3) strings print quoted
    repl.eval("\"h\" + \"i\"", "\"hi\"");

    // (4) an error does not end the session
    repl.eval("1 + \"a\"", "error[type_error]");
    repl.eval("add(x, 7)", "47");

    // (5) Ctrl-C interrupts a runaway loop; the session goes on
    repl.send("while true {}");
    repl.interrupt_until("interrupted");
    repl.expect(PROMPT);
    repl.eval("x", "40");

    // (5b) Ctrl-C cancels a pending await (issue 12.7): the result of the
    // input is not printed and the prompt returns long before the sleep ends
    let started = std::time::Instant::now();
    repl.send("sleep(30000); \"too late\"");
    repl.interrupt_until("interrupted");
    repl.expect(PROMPT);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    repl.eval("x + 1", "41");

    // (6) :type
    repl.eval(":type [1]", "\"list\"");

    // (7) :quit exits with status 0
    repl.send(":quit");
    let history = repl.dir.path().join("history");
    assert_eq!(repl.exit_status(), 0);
    let saved = std::fs::read_to_string(history).unwrap();
    assert!(saved.contains("let x = 40"), "history: {saved:?}");
}

#[test]
fn ctrl_c_at_the_prompt_discards_pending_input() {
    let mut repl = Repl::start();
    repl.send("fn broken() {");
    repl.expect(CONTINUATION);
    repl.pty.send_control('c').unwrap();
    repl.expect(PROMPT);
    repl.eval("3 * 7", "21");
    repl.eval("broken", "error[undefined]");
    repl.pty.send_control('d').unwrap();
    assert_eq!(repl.exit_status(), 0);
}

#[test]
fn commands_load_reset_and_disasm() {
    let mut repl = Repl::start();
    std::fs::write(repl.dir.path().join("lib.wf"), "fn triple(n) { n * 3 }\n").unwrap();
    repl.send(":load lib.wf");
    repl.expect(PROMPT);
    repl.eval("triple(11)", "33");
    repl.eval(":disasm triple(1)", "Call");
    repl.eval(":reset", "session reset");
    repl.eval("triple(1)", "error[undefined]");
    repl.eval(":nope", "unknown command");
    repl.send(":quit");
    assert_eq!(repl.exit_status(), 0);
}
