//! Instructions on variables that live outside the operand stack and the
//! current frame's plain slots — in-place updates of globals and captured
//! cells, path reads and copy-on-write path writes, closure creation — kept
//! out of the dispatch loop's body (none of them jumps or changes frames).

use std::rc::Rc;

use super::access::{get_path, set_path};
use super::ops::{add_in_place, add_in_place_limited};
use super::Vm;
use crate::bytecode::{Capture, LocKind, Op};
use crate::error::{overflow, type_error, RtError, RtResult};
use crate::value::{Closure, Value};

impl Vm {
    /// Executes one variable instruction of the frame at `base` running
    /// `closure`.
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_variables(
        &mut self,
        op: Op,
        base: usize,
        closure: &Closure,
    ) -> RtResult<()> {
        match op {
            Op::AddToGlobal(g) => {
                let b = self.stack.pop().expect("operand stack underflow");
                let r = {
                    let mut globals = self.program.globals.borrow_mut();
                    match &mut globals[g as usize] {
                        Value::Undef => Err(RtError::new("undefined", "")),
                        other => add_in_place_limited(other, &b, &self.program.limits),
                    }
                };
                b.discard();
                if let Err(e) = r {
                    if e.category() == "undefined" {
                        return Err(self.undefined_global(g));
                    }
                    return Err(e);
                }
            }
            Op::AddToUpvalCell(u) => {
                let b = self.stack.pop().expect("operand stack underflow");
                let r = match &closure.upvalues[u as usize] {
                    Value::Cell(c) => {
                        add_in_place_limited(&mut c.borrow_mut(), &b, &self.program.limits)
                    }
                    _ => Err(type_error("internal: cell expected")),
                };
                b.discard();
                r?;
            }
            Op::IncGlobal { g, n } => {
                let r = {
                    let mut globals = self.program.globals.borrow_mut();
                    match &mut globals[g as usize] {
                        Value::Int(x) => match x.checked_add(n as i64) {
                            Some(r) => {
                                *x = r;
                                Ok(())
                            }
                            None => Err(overflow()),
                        },
                        Value::Undef => Err(RtError::new("undefined", "")),
                        other => add_in_place(other, &Value::Int(n as i64)),
                    }
                };
                if let Err(e) = r {
                    if e.category() == "undefined" {
                        return Err(self.undefined_global(g as u32));
                    }
                    return Err(e);
                }
            }
            Op::Closure(k) => {
                let p = closure.proto.protos[k as usize].clone();
                let upvalues: Box<[Value]> = p
                    .captures
                    .iter()
                    .map(|c| match c {
                        Capture::Local(s) => self.stack[base + *s as usize].clone(),
                        Capture::Upval(u) => closure.upvalues[*u as usize].clone(),
                    })
                    .collect();
                self.stack
                    .push(Value::Func(Rc::new(Closure { proto: p, upvalues })));
            }

            Op::GetPath { kind, depth, idx } => {
                let n = self.stack.len();
                let keys_start = n - depth as usize;
                let v = {
                    let root = self.path_root_value(kind, idx, base, closure);
                    get_path(&root, &self.stack[keys_start..])?
                };
                self.stack.push(v);
            }
            Op::SetPath { kind, depth, idx } => {
                let v = self.stack.pop().expect("operand stack underflow");
                let keys_start = self.stack.len() - depth as usize;
                let r = {
                    let (lower, keys) = self.stack.split_at_mut(keys_start);
                    match kind {
                        LocKind::Local => set_path(
                            &mut lower[base + idx as usize],
                            keys,
                            v,
                            &self.program.limits,
                        ),
                        LocKind::Cell => match &lower[base + idx as usize] {
                            Value::Cell(c) => {
                                set_path(&mut c.borrow_mut(), keys, v, &self.program.limits)
                            }
                            _ => Err(type_error("internal: cell expected")),
                        },
                        LocKind::UpvalCell => match &closure.upvalues[idx as usize] {
                            Value::Cell(c) => {
                                set_path(&mut c.borrow_mut(), keys, v, &self.program.limits)
                            }
                            _ => Err(type_error("internal: cell expected")),
                        },
                        LocKind::Global => {
                            let mut globals = self.program.globals.borrow_mut();
                            set_path(&mut globals[idx as usize], keys, v, &self.program.limits)
                        }
                    }
                };
                for _ in 0..depth {
                    self.drop_top();
                }
                r?;
            }

            _ => unreachable!("not a variable instruction: {op:?}"),
        }
        Ok(())
    }
}
