//! Weft's compiler and virtual machine (API contract; implementation in progress).

use std::io::Write;
use std::path::Path;

pub use weft_syntax::{Diagnostic, SourceFile};

/// How a program run is configured by its host (the CLI or an embedder).
pub struct RuntimeOptions {
    /// `argv` global: the strings after `--`.
    pub argv: Vec<String>,
    /// Maximum script call depth before `stack_overflow` (default 10,000).
    pub max_call_depth: usize,
    /// Where `print`/`println` write (default: stdout).
    pub stdout: Box<dyn Write>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            argv: Vec::new(),
            max_call_depth: 10_000,
            stdout: Box::new(std::io::stdout()),
        }
    }
}

/// One program run: modules, globals, builtins.
pub struct Runtime {}

impl Runtime {
    pub fn new(_options: RuntimeOptions) -> Runtime {
        Runtime {}
    }

    /// Parses and compiles `path` and every module it imports; runs nothing.
    /// Returns every diagnostic found.
    pub fn check_file(&mut self, _path: &Path) -> Result<(), Vec<Diagnostic>> {
        Ok(())
    }

    /// Compiles and runs `path` as the program's main module. An uncaught
    /// error comes back as a rendered-ready diagnostic (`error[category]`,
    /// `error[thrown]` for a thrown non-error value).
    pub async fn run_file(&mut self, _path: &Path) -> Result<(), Diagnostic> {
        Ok(())
    }

    /// The bytecode listing of `path` (and the functions inside it).
    pub fn disassemble_file(&mut self, _path: &Path) -> Result<String, Vec<Diagnostic>> {
        Ok(String::new())
    }
}
