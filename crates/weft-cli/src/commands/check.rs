//! `weft check FILE...`: parses and compiles each file (and its imports)
//! with a fresh engine, printing every diagnostic to stderr; runs nothing.

use std::path::PathBuf;

use super::{check_readable, usage_error, vm_thread_failure, Exit};
use crate::cli::CheckArgs;
use crate::vm_thread::on_vm_thread;

/// Runs `weft check`.
pub fn execute(args: CheckArgs) -> Exit {
    for file in &args.files {
        if let Err(message) = check_readable(file) {
            return usage_error(message);
        }
    }
    let files: Vec<PathBuf> = args.files;
    let outcome = on_vm_thread(move || {
        files
            .iter()
            .filter_map(|file| {
                let checked = weft::Engine::builder()
                    .build()
                    .and_then(|mut engine| engine.check_file(file));
                checked.err().map(|e| e.to_string())
            })
            .collect::<Vec<String>>()
    });
    match outcome {
        Ok(failures) if failures.is_empty() => Exit::Success,
        Ok(failures) => {
            eprintln!("{}", failures.join("\n\n"));
            Exit::Failure
        }
        Err(e) => vm_thread_failure(e),
    }
}
