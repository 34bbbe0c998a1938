//! The run's consumable budgets: the instruction budget (`max_steps`),
//! shared by every task of the run, and the sticky "exhausted" state of it
//! and of the wall-clock limit. Once a budget is exhausted it stays
//! exhausted until the host starts a new run (`Runtime::restart_clock`):
//! the `limit_exceeded` error can be caught for cleanup, but from then on
//! every budget check (each loop back-edge and call, in every task) raises
//! it again, so `while true { try { while true {} } catch e {} }` ends.
//! Also the count of live tasks (`max_tasks`): a [`LiveTask`] guard is
//! held by each running task.

use std::cell::Cell;
use std::rc::Rc;

use super::Program;
use crate::error::{RtError, RtResult};

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhausted {
    /// The instruction budget of this many steps.
    Steps(u64),
    /// The wall-clock limit.
    Time,
}

impl Exhausted {
    /// The `limit_exceeded` error a check raises.
    #[cold]
    pub fn error(self) -> Box<RtError> {
        match self {
            Exhausted::Steps(max) => RtError::new(
                "limit_exceeded",
                format!("instruction budget of {max} steps exhausted (loop iterations and calls)"),
            ),
            Exhausted::Time => RtError::new("limit_exceeded", "wall-clock time limit exceeded"),
        }
    }
}

/// Program-wide budget state (every task's steps count against one total).
#[derive(Debug, Default)]
pub struct Budget {
    steps_used: Cell<u64>,
    exhausted: Cell<Option<Exhausted>>,
    live_tasks: Cell<usize>,
}

impl Budget {
    /// Adds `n` steps to the run's total and returns the new total.
    pub fn charge(&self, n: u64) -> u64 {
        let used = self.steps_used.get().saturating_add(n);
        self.steps_used.set(used);
        used
    }

    /// Steps charged so far in this run.
    pub fn steps_used(&self) -> u64 {
        self.steps_used.get()
    }

    /// The budget that ran out, if one has.
    #[inline]
    pub fn exhausted(&self) -> Option<Exhausted> {
        self.exhausted.get()
    }

    /// Records that `what` ran out (the first one stays the reason) and
    /// returns the error to raise.
    #[cold]
    pub fn exhaust(&self, what: Exhausted) -> Box<RtError> {
        let what = *self.exhausted.get().get_or_insert(what);
        self.exhausted.set(Some(what));
        what.error()
    }

    /// A new run: nothing used, nothing exhausted.
    pub fn reset(&self) {
        self.steps_used.set(0);
        self.exhausted.set(None);
    }
}

/// Counts one live task of a program while it exists (see
/// [`LiveTask::start`]).
pub struct LiveTask(Rc<Program>);

impl LiveTask {
    /// Counts a new task, or fails with `limit_exceeded` when `max_tasks`
    /// tasks are already live (spawned and not yet finished or cancelled).
    pub fn start(program: &Rc<Program>) -> RtResult<LiveTask> {
        let live = &program.budget.live_tasks;
        if let Some(max) = program.max_tasks {
            if live.get() >= max {
                return Err(RtError::new(
                    "limit_exceeded",
                    format!(
                        "more than {max} live tasks (max_tasks {max}): await or cancel some first"
                    ),
                ));
            }
        }
        live.set(live.get() + 1);
        Ok(LiveTask(program.clone()))
    }
}

impl Drop for LiveTask {
    fn drop(&mut self) {
        let live = &self.0.budget.live_tasks;
        live.set(live.get().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_sticks_until_reset() {
        let b = Budget::default();
        assert_eq!(b.charge(10), 10);
        assert_eq!(b.exhausted(), None);
        let e = b.exhaust(Exhausted::Steps(10));
        assert!(e.message().contains("budget of 10 steps"));
        // A later time-out keeps the first reason.
        b.exhaust(Exhausted::Time);
        assert_eq!(b.exhausted(), Some(Exhausted::Steps(10)));
        b.reset();
        assert_eq!((b.exhausted(), b.steps_used()), (None, 0));
    }
}
