//! `weft disasm FILE`: prints the compiled bytecode listing (for developers
//! of Weft).

use std::io::Write;

use super::{check_readable, usage_error, vm_thread_failure, Exit};
use crate::cli::DisasmArgs;
use crate::vm_thread::on_vm_thread;

/// Runs `weft disasm`.
pub fn execute(args: DisasmArgs) -> Exit {
    if let Err(message) = check_readable(&args.file) {
        return usage_error(message);
    }
    let file = args.file;
    let outcome = on_vm_thread(move || {
        // Compiled exactly as `weft run` compiles it: top-level variables
        // that nothing else can see live in frame slots, not globals.
        weft::Engine::builder()
            .keep_top_level(false)
            .build()
            .and_then(|mut engine| engine.disassemble_file(&file))
            .map_err(|e| e.to_string())
    });
    match outcome {
        Ok(Ok(listing)) => {
            let mut out = std::io::stdout().lock();
            let written = out.write_all(listing.as_bytes()).and_then(|()| {
                if listing.is_empty() || listing.ends_with('\n') {
                    Ok(())
                } else {
                    out.write_all(b"\n")
                }
            });
            match written.and_then(|()| out.flush()) {
                Ok(()) => Exit::Success,
                Err(e) => {
                    eprintln!("error: cannot write the listing: {e}");
                    Exit::Failure
                }
            }
        }
        Ok(Err(rendered)) => {
            eprintln!("{rendered}");
            Exit::Failure
        }
        Err(e) => vm_thread_failure(e),
    }
}
