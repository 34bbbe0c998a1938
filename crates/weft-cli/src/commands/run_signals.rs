//! SIGINT (Ctrl-C) and SIGTERM during `weft run`. A dedicated thread waits
//! for them with `tokio::signal` on its own current-thread runtime (the VM
//! thread may be busy in a loop that never yields). The first signal
//! interrupts the engine: awaits are dropped, loops stop, keyed workers and
//! runs end `interrupted` and are made durable by the program-end hooks,
//! output is flushed, and `weft run` exits 130 (SIGINT) or 143 (SIGTERM).
//! A second signal exits at once.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{mpsc, Arc};

use tokio::signal::unix::{signal, SignalKind};

/// Exit status after SIGINT (128 + 2), as shells report it.
pub const SIGINT_EXIT: u8 = 130;
/// Exit status after SIGTERM (128 + 15).
pub const SIGTERM_EXIT: u8 = 143;

/// The signal received first, if any.
#[derive(Clone, Default)]
pub struct Received(Arc<AtomicI32>);

impl Received {
    /// The exit status the first signal asks for (`None`: no signal).
    pub fn exit_status(&self) -> Option<u8> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            15 => Some(SIGTERM_EXIT),
            _ => Some(SIGINT_EXIT),
        }
    }

    /// The signal's name, for the message on stderr.
    pub fn name(&self) -> &'static str {
        match self.0.load(Ordering::SeqCst) {
            15 => "SIGTERM",
            _ => "SIGINT",
        }
    }
}

/// Starts watching for SIGINT and SIGTERM; returns once the handlers are
/// installed. `interrupt` is called at the first signal. An error means the
/// handlers could not be installed (the signals then keep their default
/// action).
pub fn watch(interrupt: impl Fn() + Send + 'static) -> std::io::Result<Received> {
    let received = Received::default();
    let seen = received.clone();
    let (ready_tx, ready_rx) = mpsc::channel::<std::io::Result<()>>();
    std::thread::Builder::new()
        .name("weft-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let handlers = signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
                let (mut int, mut term) = match handlers {
                    Ok(h) => h,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let first = tokio::select! {
                    _ = int.recv() => 2,
                    _ = term.recv() => 15,
                };
                seen.0.store(first, Ordering::SeqCst);
                interrupt();
                // A second signal: the user does not want to wait.
                let code = tokio::select! {
                    _ = int.recv() => SIGINT_EXIT,
                    _ = term.recv() => SIGTERM_EXIT,
                };
                eprintln!("weft: interrupted again; exiting at once");
                std::process::exit(code.into());
            });
        })?;
    ready_rx
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the signal thread stopped")))?;
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_follows_the_signal() {
        let r = Received::default();
        assert_eq!(r.exit_status(), None);
        r.0.store(2, Ordering::SeqCst);
        assert_eq!((r.exit_status(), r.name()), (Some(130), "SIGINT"));
        r.0.store(15, Ordering::SeqCst);
        assert_eq!((r.exit_status(), r.name()), (Some(143), "SIGTERM"));
    }
}
