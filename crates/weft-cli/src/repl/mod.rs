//! `weft repl`: the interactive read-eval-print loop (embedding.md §2).
//!
//! The whole loop, rustyline included, runs on the VM thread. Each input is
//! compiled against the session's globals (`weft::Engine::repl_eval`) and run once (earlier inputs are
//! never re-run). Input continues on `  ... ` lines while the parser reports
//! it incomplete (`ReplOutcome::Incomplete`). Ctrl-C at the prompt discards
//! the pending input; during an evaluation it interrupts it (see
//! [`interrupt`]). Ctrl-D or `:quit` ends the session with status 0.
//!
//! - [`session`]: the runtime, evaluation and how outcomes are shown.
//! - [`commands`]: the `:` commands.
//! - [`completion`]: tab completion.

mod commands;
mod completion;
mod interrupt;
mod session;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};
use weft::tooling::ReplOutcome;

use crate::commands::{vm_thread_failure, Exit};
use crate::vm_thread::on_vm_thread;
use commands::Flow;
use completion::WeftHelper;
use session::{report, Session};

const PROMPT: &str = "weft> ";
const CONTINUATION: &str = "  ... ";

/// Runs `weft repl`.
pub fn execute() -> Exit {
    on_vm_thread(session_loop).unwrap_or_else(vm_thread_failure)
}

fn session_loop() -> Exit {
    let mut session = match Session::new() {
        Ok(session) => session,
        Err(e) => {
            eprintln!("error: could not start the Weft VM: {e}");
            return Exit::Failure;
        }
    };
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .max_history_size(1000)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| b.build());
    let mut editor: Editor<WeftHelper, FileHistory> = match config.and_then(Editor::with_config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return Exit::Failure;
        }
    };
    editor.set_helper(Some(WeftHelper::new()));
    // After the editor: creating it replaces the SIGINT handler.
    interrupt::install();
    refresh_names(&mut editor, &mut session);
    let mut history = History::new(history_path(
        std::env::var_os("WEFT_HISTORY"),
        std::env::var_os("HOME"),
    ));
    history.load(&mut editor);
    if std::io::stdin().is_terminal() {
        println!(
            "Weft {} (:help for help, Ctrl-D to exit)",
            env!("CARGO_PKG_VERSION")
        );
    }

    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => {
                if !pending.is_empty() {
                    eprintln!("error[syntax_error]: input ended inside an unfinished construct");
                }
                return Exit::Success;
            }
            Err(e) => {
                eprintln!("error: cannot read input: {e}");
                return Exit::Failure;
            }
        };
        if pending.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with(':') {
                history.add(&mut editor, trimmed);
                let flow = commands::run(&mut session, trimmed);
                refresh_names(&mut editor, &mut session);
                if flow == Flow::Quit {
                    return Exit::Success;
                }
                continue;
            }
        }
        pending.push_str(&line);
        pending.push('\n');
        let outcome = session.eval(&pending);
        if matches!(outcome, ReplOutcome::Incomplete) {
            continue;
        }
        history.add(&mut editor, pending.trim_end());
        pending.clear();
        report(outcome);
        refresh_names(&mut editor, &mut session);
    }
}

fn refresh_names(editor: &mut Editor<WeftHelper, FileHistory>, session: &mut Session) {
    if let Some(helper) = editor.helper_mut() {
        helper.set_names([], session.completion_names());
    }
}

/// Where history is kept: `WEFT_HISTORY` (empty: no history file), else
/// `$HOME/.weft_history`.
fn history_path(weft_history: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    match weft_history {
        Some(path) if path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)),
        None => home
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".weft_history")),
    }
}

/// The history file: loaded at start, saved after each entry. After the
/// first failure to save, a warning is printed and saving stops.
struct History {
    path: Option<PathBuf>,
}

impl History {
    fn new(path: Option<PathBuf>) -> History {
        History { path }
    }

    fn load(&self, editor: &mut Editor<WeftHelper, FileHistory>) {
        if let Some(path) = &self.path {
            match editor.load_history(path) {
                Ok(()) => {}
                Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => eprintln!("warning: cannot read history '{}': {e}", path.display()),
            }
        }
    }

    fn add(&mut self, editor: &mut Editor<WeftHelper, FileHistory>, entry: &str) {
        let _ = editor.add_history_entry(entry);
        if let Some(path) = &self.path {
            if let Err(e) = editor.save_history(path) {
                eprintln!("warning: cannot save history '{}': {e}", path.display());
                self.path = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_path_precedence() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            history_path(None, s("/home/u")),
            Some(PathBuf::from("/home/u/.weft_history"))
        );
        assert_eq!(
            history_path(s("/tmp/h"), s("/home/u")),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(history_path(s(""), s("/home/u")), None);
        assert_eq!(history_path(None, None), None);
        assert_eq!(history_path(None, s("")), None);
    }
}
