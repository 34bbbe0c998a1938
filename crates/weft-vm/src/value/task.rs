//! Handles of concurrent tasks (`spawn`) and channels (language.md §9).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;

use super::Value;
use crate::error::RtError;

/// The state of a spawned task.
pub enum TaskState {
    Running,
    Finished(Result<Value, Rc<RtError>>),
    Cancelled,
}

/// A spawned task: its eventual result and a way to cancel it.
pub struct TaskHandle {
    pub id: u64,
    pub state: RefCell<TaskState>,
    /// Woken when the task finishes or is cancelled.
    pub done: Notify,
    pub abort: RefCell<Option<tokio::task::AbortHandle>>,
}

impl TaskHandle {
    pub fn new(id: u64) -> TaskHandle {
        TaskHandle {
            id,
            state: RefCell::new(TaskState::Running),
            done: Notify::new(),
            abort: RefCell::new(None),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(*self.state.borrow(), TaskState::Running)
    }

    /// Records the outcome (unless already cancelled) and wakes waiters.
    pub fn finish(&self, result: Result<Value, Rc<RtError>>) {
        {
            let mut state = self.state.borrow_mut();
            if matches!(*state, TaskState::Running) {
                *state = TaskState::Finished(result);
            }
        }
        self.done.notify_waiters();
    }

    /// Cancels a running task: it stops at its next await point.
    pub fn cancel(&self) {
        if !self.is_running() {
            return;
        }
        *self.state.borrow_mut() = TaskState::Cancelled;
        if let Some(h) = self.abort.borrow_mut().take() {
            h.abort();
        }
        self.done.notify_waiters();
    }
}

/// A channel: a FIFO of values with an optional capacity.
pub struct Channel {
    pub id: u64,
    pub items: RefCell<VecDeque<Value>>,
    /// Maximum number of queued items (`None` = unbounded).
    pub capacity: Option<usize>,
    pub closed: Cell<bool>,
    /// Woken when an item is added or the channel is closed.
    pub readable: Notify,
    /// Woken when an item is removed or the channel is closed.
    pub writable: Notify,
}

impl Channel {
    pub fn new(id: u64, capacity: Option<usize>) -> Channel {
        Channel {
            id,
            items: RefCell::new(VecDeque::new()),
            capacity,
            closed: Cell::new(false),
            readable: Notify::new(),
            writable: Notify::new(),
        }
    }
}
