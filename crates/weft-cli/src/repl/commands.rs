//! The REPL's `:` commands (embedding.md §2): `:help`, `:quit`,
//! `:load FILE`, `:reset`, `:type EXPR`, `:disasm EXPR`, `:workers`.

use weft_vm::ReplOutcome;

use super::session::{report, report_errors, Session};

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
        ":reset" => {
            session.reset();
            println!("session reset");
        }
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
                    Err(diagnostics) => report_errors(&diagnostics),
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
    let Some(items) = (match &outcome {
        ReplOutcome::Value(Some(weft_vm::Value::List(items))) => Some(items.clone()),
        _ => None,
    }) else {
        report(outcome);
        return;
    };
    if items.is_empty() {
        println!("no workers in this session");
        return;
    }
    println!(
        "{:<16} {:<40} {:<11} {:>6} {:>8}",
        "NAME", "ID", "STATUS", "TURNS", "TOKENS"
    );
    for h in items.iter() {
        let weft_vm::Value::Dict(d) = h else { continue };
        let field = |k: &str| {
            weft_vm::value::dict_get(d, k)
                .map(|v| v.to_display())
                .unwrap_or_default()
        };
        let usage = |k: &str| match weft_vm::value::dict_get(d, "usage") {
            Some(weft_vm::Value::Dict(u)) => match weft_vm::value::dict_get(u, k) {
                Some(weft_vm::Value::Int(n)) => *n,
                _ => 0,
            },
            _ => 0,
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
        ReplOutcome::Errors(diagnostics) => report_errors(&diagnostics),
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
