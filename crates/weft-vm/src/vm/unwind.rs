//! Raising errors: attach the source location, find the innermost handler
//! of this run, unwind frames (restoring moved-out variables) and jump.

use std::rc::Rc;

use super::{Restore, Vm};
use crate::bytecode::LocKind;
use crate::error::{pending, Location, RtError, RtResult};
use crate::value::Value;

impl Vm {
    /// Handles error `e` raised in the current frame: jumps to the innermost
    /// handler installed by a frame at index `stop` or above, or unwinds to
    /// `stop` and returns the error.
    pub(crate) fn raise(&mut self, mut e: Box<RtError>, stop: usize) -> RtResult<()> {
        if e.location.is_none() {
            if let Some(frame) = self.frames.last() {
                let proto = &frame.closure.proto;
                if let Some(span) = proto.spans.get(frame.ip.saturating_sub(1)) {
                    e.location = Some(Location {
                        file: proto.file.clone(),
                        span: *span,
                    });
                }
            }
        }
        if let Some(h) = self.handlers.last() {
            if h.frame >= stop && h.frame < self.frames.len() {
                let h = self.handlers.pop().expect("handler");
                self.restore_moved(h.frame);
                self.frames.truncate(h.frame + 1);
                self.stack.truncate(h.height);
                let v = if h.finally { pending(e) } else { e.to_value() };
                self.stack.push(v);
                self.frames[h.frame].ip = h.target;
                return Ok(());
            }
        }
        self.restore_moved(stop);
        if e.trace.is_empty() {
            e.trace = self.trace_lines();
        }
        if let Some(entry) = self.frames.get(stop) {
            let base = entry.base;
            self.frames.truncate(stop);
            self.stack.truncate(base.saturating_sub(1));
        }
        self.handlers.retain(|h| h.frame < stop);
        Err(e)
    }

    /// Re-raises an error that went through a `finally` block.
    pub(crate) fn rethrow(&mut self, v: Value, stop: usize) -> RtResult<()> {
        let e = match v.into_pending() {
            Ok(p) => Box::new(Rc::try_unwrap(p).unwrap_or_else(|rc| (*rc).clone())),
            Err(other) => RtError::thrown(other),
        };
        self.raise(e, stop)
    }

    /// For frames from the top down to index `down_to`: puts a value moved
    /// out by a `Take*` instruction back when the statement did not finish.
    fn restore_moved(&mut self, down_to: usize) {
        let mut i = self.frames.len();
        while i > down_to {
            i -= 1;
            let Some(r) = self.frames[i].restore.take() else {
                continue;
            };
            let Some(v) = self.stack.get(r.pos) else {
                continue;
            };
            if matches!(v, Value::Undef) {
                continue;
            }
            let v = v.clone();
            self.put_back(i, r, v);
        }
    }

    /// Before a dict's own function field runs as a method, the receiver
    /// (possibly moved out of its variable) is put back.
    pub(crate) fn undo_take(&mut self, pos: usize) {
        let Some(i) = self.frames.len().checked_sub(1) else {
            return;
        };
        if let Some(r) = self.frames[i].restore {
            if r.pos == pos {
                let v = self.stack[pos].clone();
                self.put_back(i, r, v);
            }
        }
    }

    /// Writes `v` into the variable described by `r` if it is still
    /// undefined (moved out and not assigned since).
    fn put_back(&mut self, frame: usize, r: Restore, v: Value) {
        let base = self.frames[frame].base;
        let idx = r.idx as usize;
        match r.kind {
            LocKind::Local => {
                if let Some(slot) = self.stack.get_mut(base + idx) {
                    if matches!(slot, Value::Undef) {
                        *slot = v;
                    }
                }
            }
            LocKind::Cell => {
                if let Some(Value::Cell(c)) = self.stack.get(base + idx) {
                    let mut inner = c.borrow_mut();
                    if matches!(*inner, Value::Undef) {
                        *inner = v;
                    }
                }
            }
            LocKind::UpvalCell => {
                if let Some(Value::Cell(c)) = self.frames[frame].closure.upvalues.get(idx) {
                    let mut inner = c.borrow_mut();
                    if matches!(*inner, Value::Undef) {
                        *inner = v;
                    }
                }
            }
            LocKind::Global => {
                let mut globals = self.program.globals.borrow_mut();
                if let Some(slot) = globals.get_mut(idx) {
                    if matches!(slot, Value::Undef) {
                        *slot = v;
                    }
                }
            }
        }
    }
}
