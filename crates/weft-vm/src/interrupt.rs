//! The interrupt request of a program (Ctrl-C, SIGTERM,
//! `InterruptHandle::interrupt`): set from any thread, it stops the running
//! evaluation at its next loop back-edge or call *and* wakes every await
//! of a builtin (a `sleep`, a process, a request), which then fails with
//! `error[cancelled]: interrupted`.
//!
//! The request stays set until the next top-level run clears it
//! ([`Interrupt::clear`]), like an exhausted budget: a script that catches
//! the error cannot keep running, and program-end hooks can tell an
//! interrupted program ([`Interrupt::is_requested`]) from one that ended.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// One program's interrupt request. `Send + Sync`; shared through an `Arc`.
#[derive(Debug, Default)]
pub struct Interrupt {
    requested: AtomicBool,
    wake: Notify,
}

impl Interrupt {
    /// Asks the running evaluation to stop, and wakes every pending await.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    /// Forgets a request (the start of a new top-level run).
    pub fn clear(&self) {
        self.requested.store(false, Ordering::SeqCst);
    }

    /// Whether a stop was requested since the last [`Interrupt::clear`].
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Resolves once a stop is requested (at once if it already was).
    pub async fn requested(&self) {
        let notified = self.wake.notified();
        tokio::pin!(notified);
        // Registered before the check, so a request in between still wakes it.
        notified.as_mut().enable();
        if self.is_requested() {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_request_from_another_thread_wakes_the_waiter() {
        let i = Arc::new(Interrupt::default());
        let i2 = i.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            i2.request();
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), i.requested())
            .await
            .expect("woken");
        t.join().unwrap();
        assert!(i.is_requested());
        i.clear();
        assert!(!i.is_requested());
    }

    #[tokio::test]
    async fn an_earlier_request_resolves_at_once() {
        let i = Interrupt::default();
        i.request();
        i.requested().await;
    }
}
