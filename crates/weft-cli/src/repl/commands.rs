//! The REPL's `:` commands (embedding.md §2): `:help`, `:quit`,
//! `:load FILE`, `:reset`, `:type EXPR`, `:disasm EXPR`, `:workers`.

use weft::tooling::ReplOutcome;

use super::session::{report, report_error, Session};

/// Every command, for `:help` and completion.
pub const COMMANDS: &[&str] = &[
    ":help", ":quit", ":load", ":reset", ":type", ":disasm", ":workers",
];

const HELP: &str = "\
Enter Weft code; a bare expression prints its value. Input continues on
`  ... ` lines while a construct is open; Ctrl-C discards it.
Definitions persist for the rest of the session.

  :help          this text
  :quit          leave the REPL (also Ctrl-D)
  :load FILE     run FILE in this session; its declarations join the session
  :reset         start a fresh session (forget every definition)
  :type EXPR     the type of EXPR's value (EXPR is evaluated)
  :disasm EXPR   the bytecode EXPR compiles to (nothing is run)
  :workers       this session's workers

Ctrl-C also interrupts a running evaluation. Tab completes keywords,
builtins and the names defined in this session.";

/// What the REPL loop does after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Runs the command line `line` (it starts with `:`).
pub fn run(session: &mut Session, line: &str) -> Flow {
    let line = line.trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((name, arg)) => (name, arg.trim()),
        None => (line, ""),
    };
    match name {
        ":help" | ":h" | ":?" => println!("{HELP}"),
        ":quit" | ":q" | ":exit" => return Flow::Quit,
        ":reset" => match session.reset() {
            Ok(()) => println!("session reset"),
            Err(e) => eprintln!("error: cannot reset the session: {e}"),
        },
        ":load" => load(session, arg),
        ":type" => {
            if let Some(expr) = needs_arg(name, arg, "EXPR") {
                match session.eval(&format!("type_of(({expr}))")) {
                    ReplOutcome::Incomplete => incomplete(),
                    outcome => report(outcome),
                }
            }
        }
        ":disasm" => {
            if let Some(expr) = needs_arg(name, arg, "EXPR") {
                match session.disassemble(expr) {
                    Ok(listing) => println!("{}", listing.trim_end()),
                    Err(e) => report_error(&e),
                }
            }
        }
        ":workers" => workers(session),
        _ => eprintln!("error: unknown command `{name}` (:help lists the commands)"),
    }
    Flow::Continue
}

/// `:workers`: a table of this session's workers (name, id, status, model
/// calls, tokens), oldest first.
fn workers(session: &mut Session) {
    let outcome = session.eval("list_workers()");
    let items = match outcome {
        ReplOutcome::Value(Some(v)) => match v.as_list() {
            Some(items) => items,
            None => return report(ReplOutcome::Value(Some(v))),
        },
        other => return report(other),
    };
    if items.is_empty() {
        println!("no workers in this session");
        return;
    }
    println!(
        "{:<16} {:<40} {:<11} {:>6} {:>8}",
        "NAME", "ID", "STATUS", "TURNS", "TOKENS"
    );
    for h in &items {
        let field = |k: &str| h.get(k).map(|v| v.to_string()).unwrap_or_default();
        let usage = |k: &str| {
            h.get("usage")
                .and_then(|u| u.get(k))
                .and_then(|n| n.as_int())
                .unwrap_or(0)
        };
        println!(
            "{:<16} {:<40} {:<11} {:>6} {:>8}",
            field("name"),
            field("id"),
            field("status"),
            usage("iterations"),
            usage("input_tokens") + usage("output_tokens")
        );
    }
}

/// `:load FILE`: evaluates the file's text in the session.
fn load(session: &mut Session, path: &str) {
    let Some(path) = needs_arg(":load", path, "FILE") else {
        return;
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read '{path}': {e}");
            return;
        }
    };
    match session.eval(&text) {
        ReplOutcome::Incomplete => {
            eprintln!("error[syntax_error]: '{path}' ends inside an unfinished construct")
        }
        ReplOutcome::Error(e) => report_error(&e),
        ReplOutcome::Value(_) => {}
    }
}

fn needs_arg<'a>(name: &str, arg: &'a str, what: &str) -> Option<&'a str> {
    if arg.is_empty() {
        eprintln!("error: usage: {name} {what}");
        None
    } else {
        Some(arg)
    }
}

fn incomplete() {
    eprintln!("error[syntax_error]: unexpected end of input");
}
