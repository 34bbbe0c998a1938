//! The end of a program for its workers: the program-end hook cancels
//! what is still queued or running and makes the last state durable,
//! promptly when the program was stopped (time limit, interrupt).

use std::rc::Rc;

use weft_vm::vm::Program;

use super::registry::{Registry, Worker};
use super::run::{cancel_tree, registry};

/// Whether the program is ending because it was stopped: its wall-clock
/// limit passed (`--time-limit-ms`) or it was interrupted (Ctrl-C,
/// SIGTERM, `InterruptHandle::interrupt`).
fn program_stopped(program: &Program) -> bool {
    program.interrupt.is_requested()
        || program
            .deadline
            .get()
            .is_some_and(|d| std::time::Instant::now() >= d)
}

/// A program that was stopped ends promptly: the end-of-program writes are
/// those a re-run or a reader needs — keyed workers and workers that
/// started. A worker cancelled before it ever started, with no key, is not
/// written again: it did nothing and nothing resumes it; its snapshot stays
/// as the run left it (`queued`, shown `interrupted` since no process owns
/// it any more, or none if it was never written) and its events are in the
/// log. Ending at the time limit with 20,000 queued workers used to take
/// seconds past the limit writing their `cancelled` snapshots.
fn skip_never_started(reg: &Registry) {
    reg.dirty.borrow_mut().retain(|id| {
        reg.get(id)
            .is_none_or(|w| w.key.is_some() || w.started_at.borrow().is_some())
    });
}

/// Registers the program-end hook that cancels workers still queued or
/// running and flushes the store.
pub(super) fn ensure_shutdown_hook(program: &Rc<Program>, reg: &Registry) {
    if reg.shutdown_registered.replace(true) {
        return;
    }
    program.on_shutdown(Rc::new(|program: Rc<Program>| {
        Box::pin(async move {
            let state = registry(&program);
            let reg = &state.workers;
            reg.shutting_down.set(true);
            // Nothing starts any more: emptying the queue first keeps each
            // cancel O(1) (finalize removes a worker from the queue), so
            // ending with many queued workers is linear.
            reg.queue.borrow_mut().clear();
            let all: Vec<Rc<Worker>> = reg.workers.borrow().values().cloned().collect();
            for w in all.iter().filter(|w| w.parent_id.is_none()) {
                cancel_tree(&program, reg, w);
            }
            // Orphans (a parent not in this registry); a tree already
            // walked above is not walked again.
            for w in all.iter().filter(|w| w.status().active()) {
                cancel_tree(&program, reg, w);
            }
            if reg.sinks.progress.get() {
                super::progress::draw(&state);
            }
            if program_stopped(&program) {
                skip_never_started(reg);
            }
            let ended = super::events::write_dirty(reg);
            if let Some(s) = reg.store() {
                s.flush().await;
            }
            for (w, _, _) in ended {
                w.terminal_durable.set(true);
                w.done.notify_waiters();
            }
        })
    }));
}
