//! One REPL session: the [`weft::Engine`] whose globals persist between
//! inputs, the tokio current-thread runtime each input is evaluated in,
//! and how an input's outcome is shown (embedding.md §2).
//!
//! Lives on the VM thread: the engine is not `Send`.

use std::io::{self, Write};

use weft::tooling::ReplOutcome;
use weft::Engine;

use super::interrupt;

pub struct Session {
    engine: Engine,
    tokio: tokio::runtime::Runtime,
}

impl Session {
    pub fn new() -> Result<Session, String> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Session {
            engine: new_engine()?,
            tokio,
        })
    }

    /// `:reset`: a fresh engine; tasks left by the old one are dropped.
    pub fn reset(&mut self) -> Result<(), String> {
        self.engine = new_engine()?;
        Ok(())
    }

    /// Keywords aside, the names to complete: builtins and session names.
    pub fn completion_names(&mut self) -> Vec<String> {
        self.engine.completion_names()
    }

    /// Compiles `source` against the session's globals and runs it. A
    /// SIGINT (Ctrl-C) meanwhile interrupts the evaluation.
    pub fn eval(&mut self, source: &str) -> ReplOutcome {
        let flag = self.engine.interrupt_handle();
        let engine = &mut self.engine;
        let tokio = &self.tokio;
        interrupt::while_armed(flag, || tokio.block_on(engine.repl_eval(source)))
    }

    /// The bytecode of `source`; its declarations are not kept.
    pub fn disassemble(&mut self, source: &str) -> Result<String, weft::Error> {
        self.engine.disassemble_source(source)
    }
}

/// `print`/`println` write to unbuffered-by-us stdout (the engine flushes
/// after each input anyway), so output appears as it is produced.
fn new_engine() -> Result<Engine, String> {
    Engine::builder()
        .output(io::stdout())
        .interactive_approvals(true)
        .build()
        .map_err(|e| e.to_string())
}

/// Shows a finished outcome: the value's repr on stdout (nothing for nil or
/// a statement), errors on stderr. `Incomplete` is the caller's to
/// handle; here it shows nothing.
pub fn report(outcome: ReplOutcome) {
    match outcome {
        ReplOutcome::Value(Some(v)) if v.is_nil() => {}
        ReplOutcome::Value(Some(v)) => {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{}", v.repr());
            let _ = out.flush();
        }
        ReplOutcome::Value(None) | ReplOutcome::Incomplete => {}
        ReplOutcome::Error(e) => report_error(&e),
    }
}

pub fn report_error(error: &weft::Error) {
    eprintln!("{error}");
}
