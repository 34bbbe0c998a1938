//! `weft check FILE...`: parses and compiles each file (and its imports)
//! with a fresh runtime, printing every diagnostic to stderr; runs nothing.

use std::path::PathBuf;

use weft_vm::{Runtime, RuntimeOptions};

use super::{check_readable, render_all, usage_error, vm_thread_failure, Exit};
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
                let mut runtime = Runtime::new(RuntimeOptions {
                    extra_builtins: weft_agents::builtins(),
                    ..RuntimeOptions::default()
                });
                runtime.check_file(file).err().map(|ds| render_all(&ds))
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
