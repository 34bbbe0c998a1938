//! One REPL session: the [`Runtime`] whose globals persist between inputs,
//! the tokio current-thread runtime and `LocalSet` each input is evaluated
//! in, and how an input's outcome is shown (embedding.md §2).
//!
//! Lives on the VM thread: the `Runtime` is not `Send`.

use std::io::{self, Write};

use tokio::task::LocalSet;
use weft_syntax::Diagnostic;
use weft_vm::{ReplOutcome, Runtime, RuntimeOptions, Value};

use super::interrupt;
use crate::commands::render_all;

pub struct Session {
    runtime: Runtime,
    tokio: tokio::runtime::Runtime,
    local: LocalSet,
}

impl Session {
    pub fn new() -> io::Result<Session> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Session {
            runtime: new_runtime(),
            tokio,
            local: LocalSet::new(),
        })
    }

    /// `:reset`: a fresh runtime; tasks left by the old one are dropped.
    pub fn reset(&mut self) {
        self.local = LocalSet::new();
        self.runtime = new_runtime();
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Compiles `source` against the session's globals and runs it. A
    /// SIGINT (Ctrl-C) meanwhile interrupts the evaluation.
    pub fn eval(&mut self, source: &str) -> ReplOutcome {
        let flag = self.runtime.interrupt_handle();
        interrupt::while_armed(flag, || {
            self.local
                .block_on(&self.tokio, self.runtime.eval_repl(source))
        })
    }

    /// The bytecode of `source`; its declarations are not kept.
    pub fn disassemble(&mut self, source: &str) -> Result<String, Vec<Diagnostic>> {
        self.runtime.disassemble_repl(source)
    }
}

/// `print`/`println` write to unbuffered-by-us stdout (the runtime flushes
/// after each input anyway), so output appears as it is produced.
fn new_runtime() -> Runtime {
    Runtime::new(RuntimeOptions {
        stdout: Box::new(io::stdout()),
        extra_builtins: weft_agents::builtins(),
        ..RuntimeOptions::default()
    })
}

/// Shows a finished outcome: the value's repr on stdout (nothing for nil or
/// a statement), diagnostics on stderr. `Incomplete` is the caller's to
/// handle; here it shows nothing.
pub fn report(outcome: ReplOutcome) {
    match outcome {
        ReplOutcome::Value(Some(Value::Nil | Value::Undef)) => {}
        ReplOutcome::Value(Some(v)) => {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{}", v.to_repr());
            let _ = out.flush();
        }
        ReplOutcome::Value(None) | ReplOutcome::Incomplete => {}
        ReplOutcome::Errors(diagnostics) => report_errors(&diagnostics),
    }
}

pub fn report_errors(diagnostics: &[Diagnostic]) {
    eprintln!("{}", render_all(diagnostics));
}
