//! Ctrl-C while an evaluation runs (embedding.md §2). While rustyline
//! reads a line the terminal is in raw mode and Ctrl-C reaches the editor as
//! a key (`ReadlineError::Interrupted`); while the VM runs, the terminal is
//! back in cooked mode and Ctrl-C arrives as SIGINT. One process-wide
//! handler (the `ctrlc` crate, installed once) sets the interrupt flag of
//! the evaluation that is armed, so it stops at its next loop iteration or
//! call with `error[cancelled]: interrupted`.
//!
//! Order matters: creating the rustyline `Editor` installs rustyline's own
//! SIGINT handler (restored when the editor is dropped), so [`install`] must
//! run after it. (rustyline's `signal-hook` feature would leave SIGINT alone,
//! but with it, input that arrives faster than it is typed, e.g. a paste,
//! stalls the editor.)

use std::io::IsTerminal;
use std::sync::{Mutex, Once};

/// The interrupt flag of the evaluation running now, if any.
static ARMED: Mutex<Option<weft::InterruptHandle>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Installs the SIGINT handler (once per process; after the `Editor` is
/// created). A SIGINT that arrives
/// while no evaluation runs is ignored on a terminal (rustyline reports the
/// key itself); with input from a pipe it ends the session (status 130).
pub fn install() {
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            let armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
            match armed.as_ref() {
                Some(flag) => flag.interrupt(),
                None if !std::io::stdin().is_terminal() => std::process::exit(130),
                None => {}
            }
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C cannot interrupt evaluations: {e}");
        }
    });
}

/// Arms `flag` for the duration of `job`: a SIGINT during it sets the flag.
pub fn while_armed<T>(flag: weft::InterruptHandle, job: impl FnOnce() -> T) -> T {
    set(Some(flag));
    let result = job();
    set(None);
    result
}

fn set(flag: Option<weft::InterruptHandle>) {
    *ARMED.lock().unwrap_or_else(|e| e.into_inner()) = flag;
}
