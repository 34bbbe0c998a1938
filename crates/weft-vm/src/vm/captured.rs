//! Instructions on moved-out and captured variables, kept out of the
//! dispatch loop's body: `Take*` (move a variable out so an operator or
//! builtin finds it uniquely owned, recording how to restore it), the cells
//! of captured `var`s in local slots and upvalues, and stores into globals.
//! None of them jumps or changes frames.

use std::rc::Rc;

use super::{Restore, Vm};
use crate::bytecode::{LocKind, Op};
use crate::error::{RtError, RtResult};
use crate::value::{Closure, Value};

impl Vm {
    /// Executes one captured-variable instruction of frame `fi` (slots at
    /// `base`, running `closure`).
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_captured(
        &mut self,
        op: Op,
        fi: usize,
        base: usize,
        closure: &Closure,
    ) -> RtResult<()> {
        match op {
            Op::TakeLocal(s) => {
                let v = std::mem::replace(&mut self.stack[base + s as usize], Value::Undef);
                let v = if let Value::Undef = v { Value::Nil } else { v };
                self.taken(fi, LocKind::Local, s as u32, v);
            }
            Op::MakeCell(s) => {
                let slot = &mut self.stack[base + s as usize];
                let v = std::mem::take(slot);
                let v = if let Value::Undef = v { Value::Nil } else { v };
                *slot = Value::Cell(Rc::new(std::cell::RefCell::new(v)));
            }
            Op::LoadCell(s) => {
                let v = match &self.stack[base + s as usize] {
                    Value::Cell(c) => c.borrow().clone(),
                    other => other.clone(),
                };
                self.stack.push(v);
            }
            Op::StoreCell(s) => {
                let v = self.stack.pop().expect("operand stack underflow");
                match &self.stack[base + s as usize] {
                    Value::Cell(c) => *c.borrow_mut() = v,
                    _ => self.stack[base + s as usize] = v,
                }
            }
            Op::TakeCell(s) => {
                let v = match &self.stack[base + s as usize] {
                    Value::Cell(c) => std::mem::replace(&mut *c.borrow_mut(), Value::Undef),
                    other => other.clone(),
                };
                self.taken(fi, LocKind::Cell, s as u32, v);
            }
            Op::LoadUpvalCell(u) => {
                let v = match &closure.upvalues[u as usize] {
                    Value::Cell(c) => c.borrow().clone(),
                    other => other.clone(),
                };
                if let Value::Undef = v {
                    return Err(RtError::new(
                        "undefined",
                        "a captured variable was read before it was assigned",
                    ));
                }
                self.stack.push(v);
            }
            Op::StoreUpvalCell(u) => {
                let v = self.stack.pop().expect("operand stack underflow");
                if let Value::Cell(c) = &closure.upvalues[u as usize] {
                    *c.borrow_mut() = v;
                }
            }
            Op::TakeUpvalCell(u) => {
                let v = match &closure.upvalues[u as usize] {
                    Value::Cell(c) => std::mem::replace(&mut *c.borrow_mut(), Value::Undef),
                    other => other.clone(),
                };
                self.taken(fi, LocKind::UpvalCell, u as u32, v);
            }
            Op::StoreGlobal(g) => {
                let v = self.stack.pop().expect("operand stack underflow");
                self.program.globals.borrow_mut()[g as usize] = v;
            }
            Op::TakeGlobal(g) => {
                let v = std::mem::replace(
                    &mut self.program.globals.borrow_mut()[g as usize],
                    Value::Undef,
                );
                if let Value::Undef = v {
                    return Err(self.undefined_global(g));
                }
                self.taken(fi, LocKind::Global, g, v);
            }
            _ => unreachable!("not a captured-variable instruction: {op:?}"),
        }
        Ok(())
    }

    /// Pushes a moved-out variable's value and records in frame `fi` how
    /// to restore it if the consuming instruction fails.
    fn taken(&mut self, fi: usize, kind: LocKind, idx: u32, v: Value) {
        self.frames[fi].restore = Some(Restore {
            kind,
            idx,
            pos: self.stack.len(),
        });
        self.stack.push(v);
    }
}
