//! The dispatch loop: executes instructions of the top frame until the
//! frame at index `stop` returns or an async builtin must be awaited.
//!
//! The hot instructions (constants, locals, int fast paths, jumps and fused
//! loop back-edges, script calls and returns, list indexing, dict pattern
//! fields) run in its body, with the running frame's state (ip, base,
//! code, constants) in locals that a call or return switches without
//! leaving the loop. The rest are methods in modules of their own:
//! `captured.rs` (`Take*`, cells), `ops.rs` (operators), `calls.rs`
//! (builtin, spread and method calls, module runs), `structural.rs`
//! (collections), `variables.rs` (globals, paths, closures), `access.rs`
//! (slices, iteration setup, loop stack heights).

use std::rc::Rc;

use super::access::{get_field, index, iter_next};
use super::calls::Step;
use super::dispatch_support::{int_cmp, local_int_cmp, slow_cmp, stack_cmp};
use super::ops::{add_in_place, add_in_place_limited, arith, negate, ordered};
use super::{Exit, Handler, Vm};
use crate::bytecode::{LocKind, Op};
use crate::error::{overflow, RtError, RtResult};
use crate::value::{values_equal, Closure, Value};

impl Vm {
    pub(crate) fn execute(&mut self, stop: usize) -> RtResult<Exit> {
        'frames: loop {
            // The running frame's state, kept in locals of this function
            // (re-read by `load_frame!` whenever the running frame changes:
            // a fast call or return switches frames without leaving the
            // dispatch loop).
            let mut fi: usize;
            let mut closure: &Closure;
            let mut proto: &crate::bytecode::FnProto;
            let mut code: &[Op];
            let mut consts: &[Value];
            let mut base: usize;
            let mut code_start: *const Op;
            let mut ip: *const Op;
            macro_rules! load_frame {
                () => {
                    fi = self.frames.len() - 1;
                    // SAFETY: the closure is kept alive by frame `fi`, which
                    // stays on the frame stack for as long as it runs: every
                    // path that pops it reloads the frame state at once
                    // (`load_frame!`, `continue 'frames` or return). Frames
                    // may move when the frame Vec grows, but the closure
                    // they point to does not.
                    closure = unsafe { &*Rc::as_ptr(&self.frames.get_unchecked(fi).closure) };
                    proto = &*closure.proto;
                    code = &proto.code[..];
                    consts = &proto.consts[..];
                    base = unsafe { self.frames.get_unchecked(fi) }.base;
                    code_start = code.as_ptr();
                    // SAFETY: a saved ip is always inside its function's code.
                    ip = unsafe { code_start.add(self.frames.get_unchecked(fi).ip) };
                };
            }
            load_frame!();
            // The current position as an index into `code`.
            macro_rules! pos {
                () => {
                    // SAFETY: `ip` points into `code`.
                    unsafe { ip.offset_from(code_start) as usize }
                };
            }

            // Raises an error at the current instruction: jumps to a
            // handler (continuing the frame loop) or leaves `execute`.
            macro_rules! pop {
                () => {
                    self.stack.pop().expect("operand stack underflow")
                };
            }
            // Pushes without a capacity check: every frame entry reserves
            // `nslots + code.len() + 2` values (no instruction pushes more
            // than one value net, and loops are stack-neutral).
            macro_rules! push {
                ($v:expr) => {{
                    let v = $v;
                    debug_assert!(self.stack.len() < self.stack.capacity());
                    let len = self.stack.len();
                    // SAFETY: capacity reserved on frame entry, see above.
                    unsafe {
                        std::ptr::write(self.stack.as_mut_ptr().add(len), v);
                        self.stack.set_len(len + 1);
                    }
                }};
            }
            macro_rules! top {
                () => {
                    self.stack.last_mut().expect("operand stack underflow")
                };
            }
            // Local slot `s` of the running frame, without a bounds check:
            // frames reserve `nslots` slots above `base` and the operand
            // stack never shrinks below them.
            macro_rules! slot {
                ($s:expr) => {{
                    let i = base + $s as usize;
                    debug_assert!(i < self.stack.len());
                    // SAFETY: see above.
                    unsafe { self.stack.get_unchecked(i) }
                }};
            }
            macro_rules! slot_mut {
                ($s:expr) => {{
                    let i = base + $s as usize;
                    debug_assert!(i < self.stack.len());
                    // SAFETY: see `slot!`.
                    unsafe { self.stack.get_unchecked_mut(i) }
                }};
            }
            // Constant `k` of the running function (the compiler only
            // emits indexes of constants it added).
            macro_rules! konst {
                ($k:expr) => {{
                    let k = $k as usize;
                    debug_assert!(k < consts.len());
                    // SAFETY: see above.
                    unsafe { consts.get_unchecked(k) }
                }};
            }
            macro_rules! jump {
                ($off:expr) => {
                    // SAFETY: jump targets are inside the function's code.
                    ip = unsafe { ip.offset($off as isize) }
                };
            }
            // Every error path breaks out of this loop with the error; it is
            // raised once below.
            let err: Box<RtError> = 'dispatch: loop {
                macro_rules! throw {
                    ($e:expr) => {
                        break 'dispatch $e
                    };
                }
                macro_rules! tri {
                    ($e:expr) => {
                        match $e {
                            Ok(v) => v,
                            Err(e) => break 'dispatch e,
                        }
                    };
                }
                // After a call: continue here, in a new frame, or await.
                macro_rules! after_call {
                    ($step:expr) => {
                        match $step {
                            Ok(Step::Done) => {}
                            Ok(Step::Frame) => {
                                load_frame!();
                                continue 'dispatch;
                            }
                            Ok(Step::Await(f, args)) => return Ok(Exit::Await(f, args)),
                            Err(e) => break 'dispatch e,
                        }
                    };
                }

                debug_assert!(pos!() < code.len());
                // SAFETY: the compiler ends every function with `Return` and
                // only emits jumps to positions inside the function's code,
                // so `ip` is always in bounds.
                let op = unsafe { &*ip };
                ip = unsafe { ip.add(1) };
                match *op {
                    Op::Nop => {}
                    Op::Const(k) => push!(konst!(k).clone()),
                    Op::Nil => push!(Value::Nil),
                    Op::True => push!(Value::Bool(true)),
                    Op::False => push!(Value::Bool(false)),
                    Op::Int(i) => push!(Value::Int(i as i64)),
                    Op::Pop => self.drop_top(),
                    Op::Dup => {
                        let v = top!().clone();
                        push!(v);
                    }

                    Op::LoadLocal(s) => {
                        let v = slot!(s).clone();
                        push!(v);
                    }
                    Op::StoreLocal(s) => {
                        let v = pop!();
                        let slot = slot_mut!(s);
                        if slot.is_scalar() {
                            // SAFETY: the old value is a scalar and owns nothing.
                            unsafe { std::ptr::write(slot, v) }
                        } else {
                            *slot = v;
                        }
                    }
                    Op::TakeLocal(_)
                    | Op::MakeCell(_)
                    | Op::LoadCell(_)
                    | Op::StoreCell(_)
                    | Op::TakeCell(_)
                    | Op::LoadUpvalCell(_)
                    | Op::StoreUpvalCell(_)
                    | Op::TakeUpvalCell(_)
                    | Op::StoreGlobal(_)
                    | Op::TakeGlobal(_) => tri!(self.exec_captured(*op, fi, base, closure)),
                    Op::LoadUpval(u) => push!(closure.upvalues[u as usize].clone()),
                    Op::LoadGlobal(g) => {
                        let v = match &self.program.globals.borrow()[g as usize] {
                            // Functions are the common case (calls of
                            // top-level functions): cloned inline.
                            Value::Func(f) => Value::Func(Rc::clone(f)),
                            other => other.clone(),
                        };
                        if let Value::Undef = v {
                            throw!(self.undefined_global(g));
                        }
                        push!(v);
                    }

                    Op::Add => {
                        let b = pop!();
                        let a = top!();
                        if let (Value::Int(x), Value::Int(y)) = (&mut *a, &b) {
                            match x.checked_add(*y) {
                                Some(r) => *x = r,
                                None => {
                                    push!(b);
                                    throw!(overflow())
                                }
                            }
                        } else if let Err(e) = add_in_place_limited(a, &b, &self.program.limits) {
                            push!(b);
                            throw!(e)
                        } else {
                            b.discard();
                        }
                    }
                    Op::AddToLocal(s) => {
                        let b = pop!();
                        let slot = slot_mut!(s);
                        let r = match (&mut *slot, &b) {
                            (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                                Some(r) => {
                                    *x = r;
                                    Ok(())
                                }
                                None => Err(overflow()),
                            },
                            (Value::Cell(c), _) => {
                                add_in_place_limited(&mut c.borrow_mut(), &b, &self.program.limits)
                            }
                            (other, _) => add_in_place_limited(other, &b, &self.program.limits),
                        };
                        b.discard();
                        tri!(r);
                    }
                    // `xs[i] = v` on a uniquely owned list in a plain local
                    // with an index in range: assigned in place. Anything
                    // else (copy-on-write, negative or bad indexes, dicts,
                    // errors) takes the general path.
                    Op::SetPath {
                        kind: LocKind::Local,
                        depth: 1,
                        idx,
                    } => {
                        let v = pop!();
                        let key = match top!() {
                            Value::Int(i) => *i,
                            _ => -1,
                        };
                        let target = match slot_mut!(idx) {
                            Value::List(items) if key >= 0 => {
                                Rc::get_mut(items).and_then(|items| items.get_mut(key as usize))
                            }
                            _ => None,
                        };
                        match target {
                            Some(item) => {
                                *item = v;
                                self.drop_top();
                            }
                            None => {
                                push!(v);
                                tri!(self.exec_variables(*op, base, closure));
                            }
                        }
                    }
                    Op::AddToGlobal(_)
                    | Op::AddToUpvalCell(_)
                    | Op::IncGlobal { .. }
                    | Op::Closure(_)
                    | Op::GetPath { .. }
                    | Op::SetPath { .. } => tri!(self.exec_variables(*op, base, closure)),
                    Op::RemInt(n) | Op::MulInt(n) => {
                        let a = top!();
                        let r = match (&mut *a, *op) {
                            (Value::Int(x), Op::RemInt(_)) => {
                                *x = x.wrapping_rem(n as i64);
                                Ok(())
                            }
                            (Value::Int(x), _) => match x.checked_mul(n as i64) {
                                Some(r) => {
                                    *x = r;
                                    Ok(())
                                }
                                None => Err(overflow()),
                            },
                            (a, code) => {
                                let which = if matches!(code, Op::RemInt(_)) {
                                    Op::Rem
                                } else {
                                    Op::Mul
                                };
                                arith(which, a, &Value::Int(n as i64)).map(|v| *a = v)
                            }
                        };
                        tri!(r);
                    }
                    Op::AddInt(n) => {
                        let a = top!();
                        if let Value::Int(x) = a {
                            match x.checked_add(n as i64) {
                                Some(r) => *x = r,
                                None => throw!(overflow()),
                            }
                        } else if let Err(e) = add_in_place(a, &Value::Int(n as i64)) {
                            throw!(e)
                        }
                    }
                    Op::Sub
                    | Op::Mul
                    | Op::Div
                    | Op::Rem
                    | Op::Pow
                    | Op::Lt
                    | Op::Le
                    | Op::Gt
                    | Op::Ge
                    | Op::In
                    | Op::NotIn
                    | Op::MakeRange(_) => tri!(self.exec_operator(*op)),
                    Op::Eq | Op::Ne => {
                        let b = pop!();
                        let a = top!();
                        let eq = values_equal(a, &b);
                        *a = Value::Bool(if *op == Op::Eq { eq } else { !eq });
                    }
                    Op::LtInt(n) => {
                        let a = top!();
                        let r = match a {
                            Value::Int(x) => *x < n as i64,
                            _ => tri!(ordered(Op::Lt, a, &Value::Int(n as i64))),
                        };
                        *top!() = Value::Bool(r);
                    }
                    Op::Neg => {
                        let a = top!();
                        let v = tri!(negate(a));
                        *top!() = v;
                    }
                    Op::Not => {
                        let a = top!();
                        *a = Value::Bool(!a.truthy());
                    }

                    Op::Jump(off) => {
                        if off < 0 {
                            self.tick -= 1;
                            if self.tick == 0 {
                                self.frames[fi].ip = pos!();
                                tri!(self.check_budget());
                            }
                        }
                        jump!(off);
                    }
                    Op::JumpIfFalse(off) => {
                        let t = top!().truthy();
                        self.drop_top();
                        if !t {
                            jump!(off);
                        }
                    }
                    Op::JumpIfTrue(off) => {
                        if pop!().truthy() {
                            jump!(off);
                        }
                    }
                    Op::JumpIfFalseOrPop(off) => {
                        if !top!().truthy() {
                            jump!(off);
                        } else {
                            self.stack.pop();
                        }
                    }
                    Op::JumpIfTrueOrPop(off) => {
                        if top!().truthy() {
                            jump!(off);
                        } else {
                            self.stack.pop();
                        }
                    }
                    Op::JumpIfNotNilOrPop(off) => {
                        if !matches!(top!(), Value::Nil) {
                            jump!(off);
                        } else {
                            self.stack.pop();
                        }
                    }
                    Op::JumpIfNil(off) => {
                        if matches!(top!(), Value::Nil) {
                            jump!(off);
                        }
                    }
                    Op::JumpIfNotLt(off)
                    | Op::JumpIfNotLe(off)
                    | Op::JumpIfNotGt(off)
                    | Op::JumpIfNotGe(off)
                    | Op::JumpIfNotEq(off)
                    | Op::JumpIfNotNe(off) => {
                        let n = self.stack.len();
                        let r = tri!(stack_cmp(*op, &self.stack[n - 2], &self.stack[n - 1]));
                        self.drop_top();
                        self.drop_top();
                        if !r {
                            jump!(off);
                        }
                    }
                    // Rotated back-edges: on the slow path they do nothing
                    // and the `Jump` after them runs.
                    Op::LoopIfLocalK { cmp, slot, k, back } => {
                        if self.tick > 1 {
                            if let (Value::Int(x), Value::Int(n)) = (slot!(slot), konst!(k)) {
                                self.tick -= 1;
                                if int_cmp(cmp, *x, *n) {
                                    jump!(-(back as isize));
                                } else {
                                    jump!(1);
                                }
                            }
                        }
                    }
                    Op::LoopIfLocals { cmp, a, b, back } => {
                        if self.tick > 1 {
                            if let (Value::Int(x), Value::Int(y)) = (slot!(a), slot!(b)) {
                                self.tick -= 1;
                                if int_cmp(cmp, *x, *y) {
                                    jump!(-(back as isize));
                                } else {
                                    jump!(1);
                                }
                            }
                        }
                    }
                    Op::IterLoop { slot, back } => {
                        if self.tick > 1 {
                            self.tick -= 1;
                            let at = base + slot as usize;
                            let cursor = match self.stack[at + 1] {
                                Value::Int(c) => c,
                                _ => 0,
                            };
                            match iter_next(&self.stack[at], cursor) {
                                Some((v, next)) => {
                                    self.stack[at + 1] = Value::Int(next);
                                    push!(v);
                                    jump!(-(back as isize));
                                }
                                None => jump!(1),
                            }
                        }
                    }
                    Op::LoadLocalAddInt { slot, n } => {
                        let v = match slot!(slot) {
                            Value::Int(x) => match x.checked_add(n as i64) {
                                Some(r) => Value::Int(r),
                                None => throw!(overflow()),
                            },
                            other => {
                                let mut a = match other {
                                    Value::Cell(c) => c.borrow().clone(),
                                    v => v.clone(),
                                };
                                tri!(add_in_place(&mut a, &Value::Int(n as i64)));
                                a
                            }
                        };
                        push!(v);
                    }
                    Op::LoadLocalRemInt { slot, n } | Op::LoadLocalMulInt { slot, n } => {
                        let rem = matches!(*op, Op::LoadLocalRemInt { .. });
                        let v = match slot!(slot) {
                            // `n != 0` (the compiler's guarantee).
                            Value::Int(x) if rem => Value::Int(x.wrapping_rem(n as i64)),
                            Value::Int(x) => match x.checked_mul(n as i64) {
                                Some(r) => Value::Int(r),
                                None => throw!(overflow()),
                            },
                            other => {
                                let a = match other {
                                    Value::Cell(c) => c.borrow().clone(),
                                    v => v.clone(),
                                };
                                let which = if rem { Op::Rem } else { Op::Mul };
                                tri!(arith(which, &a, &Value::Int(n as i64)))
                            }
                        };
                        push!(v);
                    }
                    Op::JumpIfNotLocalLtInt { slot, n, off }
                    | Op::JumpIfNotLocalLeInt { slot, n, off }
                    | Op::JumpIfNotLocalGtInt { slot, n, off }
                    | Op::JumpIfNotLocalGeInt { slot, n, off }
                    | Op::JumpIfNotLocalEqInt { slot, n, off }
                    | Op::JumpIfNotLocalNeInt { slot, n, off } => {
                        let cmp = local_int_cmp(*op);
                        let r = match slot!(slot) {
                            Value::Int(x) => int_cmp(cmp, *x, n as i64),
                            other => tri!(slow_cmp(cmp, other, &Value::Int(n as i64))),
                        };
                        if !r {
                            jump!(off);
                        }
                    }
                    Op::JumpIfNotLocals { cmp, a, b, off } => {
                        let r = match (slot!(a), slot!(b)) {
                            (Value::Int(x), Value::Int(y)) => int_cmp(cmp, *x, *y),
                            (x, y) => tri!(slow_cmp(cmp, x, y)),
                        };
                        if !r {
                            jump!(off);
                        }
                    }
                    Op::IncLocal { slot, n } => {
                        let v = slot_mut!(slot);
                        let r = match v {
                            Value::Int(x) => match x.checked_add(n as i64) {
                                Some(r) => {
                                    *x = r;
                                    Ok(())
                                }
                                None => Err(overflow()),
                            },
                            Value::Cell(c) => {
                                add_in_place(&mut c.borrow_mut(), &Value::Int(n as i64))
                            }
                            other => add_in_place(other, &Value::Int(n as i64)),
                        };
                        tri!(r);
                    }
                    Op::JumpIfArgGiven { slot, offset } => {
                        if !matches!(self.stack[base + slot as usize], Value::Undef) {
                            jump!(offset);
                        }
                    }

                    Op::Call(argc) => {
                        // SAFETY: `fi` is the running frame.
                        unsafe { self.frames.get_unchecked_mut(fi) }.ip = pos!();
                        self.tick -= 1;
                        if self.tick == 0 {
                            tri!(self.check_budget());
                        }
                        let argc = argc as usize;
                        let fpos = self.stack.len() - argc - 1;
                        // Fast path: a script function called with exactly
                        // its parameters (the callee and its arguments are
                        // on the stack: `fpos` is in bounds).
                        if let Value::Func(c) = unsafe { self.stack.get_unchecked(fpos) } {
                            let p = &*c.proto;
                            if p.nparams as usize == argc
                                && !p.has_rest
                                && self.frames.len() < self.program.max_call_depth
                            {
                                let nslots = p.nslots as usize;
                                let need = nslots + p.code.len() + 2;
                                // Move the callee into the frame: the slot
                                // below the arguments is never read again.
                                let callee_slot = unsafe { self.stack.get_unchecked_mut(fpos) };
                                let Ok(c) = std::mem::replace(callee_slot, Value::Nil).into_func()
                                else {
                                    unreachable!("checked above")
                                };
                                if self.stack.capacity() - self.stack.len() < need {
                                    self.stack.reserve(need);
                                }
                                for _ in argc..nslots {
                                    push!(Value::Nil);
                                }
                                if self.frames.len() == self.frames.capacity() {
                                    self.frames.reserve(self.frames.len());
                                }
                                let callee: *const Closure = Rc::as_ptr(&c);
                                let frame = super::Frame {
                                    closure: c,
                                    ip: 0,
                                    base: fpos + 1,
                                    restore: None,
                                };
                                // SAFETY: capacity for one more frame was ensured above.
                                unsafe {
                                    let n = self.frames.len();
                                    std::ptr::write(self.frames.as_mut_ptr().add(n), frame);
                                    self.frames.set_len(n + 1);
                                }
                                // Continue in the new frame without leaving
                                // the dispatch loop (as `load_frame!`, with
                                // what is known here).
                                fi = self.frames.len() - 1;
                                // SAFETY: the new frame owns the closure.
                                closure = unsafe { &*callee };
                                proto = &*closure.proto;
                                code = &proto.code[..];
                                consts = &proto.consts[..];
                                base = fpos + 1;
                                code_start = code.as_ptr();
                                ip = code_start;
                                continue 'dispatch;
                            }
                        }
                        after_call!(self.call_at(fpos, argc));
                    }
                    Op::TailCall(argc) => {
                        self.frames[fi].ip = pos!();
                        let argc = argc as usize;
                        let fpos = self.stack.len() - argc - 1;
                        let reuse = match &self.stack[fpos] {
                            Value::Func(c) => {
                                Rc::ptr_eq(&c.proto, &closure.proto)
                                    && proto.nparams as usize == argc
                                    && !proto.has_rest
                                    && self.handlers.last().is_none_or(|h| h.frame != fi)
                            }
                            _ => false,
                        };
                        if !reuse {
                            // Not a self-call: an ordinary call (the
                            // `Return` after this instruction follows).
                            self.tick -= 1;
                            if self.tick == 0 {
                                tri!(self.check_budget());
                            }
                            after_call!(self.call_at(fpos, argc));
                            continue 'dispatch;
                        }
                        self.tick -= 1;
                        if self.tick == 0 {
                            tri!(self.check_budget());
                        }
                        let callee = std::mem::replace(&mut self.stack[fpos], Value::Nil);
                        let Ok(callee) = callee.into_func() else {
                            unreachable!("checked above")
                        };
                        // The arguments become slots 0..argc; everything
                        // else of the frame (other slots, temporaries, the
                        // old arguments) is dropped.
                        for i in 0..argc {
                            self.stack.swap(base + i, fpos + 1 + i);
                        }
                        self.stack.truncate(base + argc);
                        for _ in argc..proto.nslots as usize {
                            push!(Value::Nil);
                        }
                        let frame = &mut self.frames[fi];
                        frame.ip = 0;
                        frame.restore = None;
                        if !Rc::ptr_eq(&frame.closure, &callee) {
                            // `closure` (borrowed from the old value) is not
                            // used again: the frame loop re-reads it.
                            frame.closure = callee;
                        }
                        continue 'frames;
                    }
                    Op::CallList
                    | Op::CallBuiltin { .. }
                    | Op::CallBuiltinList(_)
                    | Op::CallMethod { .. }
                    | Op::CallMethodScoped { .. }
                    | Op::CallMethodList { .. }
                    | Op::RunModule(_) => {
                        self.frames[fi].ip = pos!();
                        after_call!(self.exec_call(*op, consts));
                    }
                    Op::Return => {
                        let v = pop!();
                        // Drop the frame's slots and callee; the result
                        // takes the callee's place.
                        self.cut_stack(base);
                        let callee = base - 1;
                        self.frames.pop();
                        if self.frames.len() == stop {
                            // The callee slot (dropped in place unless a
                            // scalar placeholder).
                            self.drop_top();
                            return Ok(Exit::Return(v));
                        }
                        self.set_slot(callee, v);
                        load_frame!();
                        continue 'dispatch;
                    }
                    Op::MakeList(_)
                    | Op::ListAppend
                    | Op::ListExtend
                    | Op::MakeDict(_)
                    | Op::DictInsert
                    | Op::DictExtend
                    | Op::Interp(_)
                    | Op::MatchList { .. }
                    | Op::ExpectList { .. }
                    | Op::IsDict
                    | Op::ExpectDict
                    | Op::DictHas(_)
                    | Op::DictWithout(_)
                    | Op::ListFrom(_) => tri!(self.exec_structural(*op, consts)),
                    Op::GetIndex => {
                        // Fast path: a list and an int index in range.
                        let n = self.stack.len();
                        let item = match (&self.stack[n - 2], &self.stack[n - 1]) {
                            (Value::List(items), Value::Int(i)) if *i >= 0 => {
                                items.get(*i as usize).cloned()
                            }
                            _ => None,
                        };
                        if let Some(v) = item {
                            // The index is an int: nothing to drop.
                            // SAFETY: `n - 1` values stay initialised.
                            unsafe { self.stack.set_len(n - 1) };
                            *top!() = v;
                            continue 'dispatch;
                        }
                        let i = pop!();
                        let obj = top!();
                        match index(obj, &i) {
                            Ok(v) => *top!() = v,
                            Err(e) => {
                                push!(i);
                                throw!(e)
                            }
                        }
                    }
                    Op::MatchField { slot, k, off } => {
                        let v = match (slot!(slot), konst!(k)) {
                            (Value::Dict(d), Value::Str(key)) => d.get(key).cloned(),
                            _ => None,
                        };
                        match v {
                            Some(v) => push!(v),
                            None => jump!(off),
                        }
                    }
                    Op::GetField(k) => {
                        let name = consts[k as usize].as_str().unwrap_or("");
                        let v = tri!(get_field(top!(), name));
                        *top!() = v;
                    }
                    Op::Slice { .. }
                    | Op::IterInit(_)
                    | Op::SaveHeight(_)
                    | Op::RestoreHeight(_) => tri!(self.exec_access(*op, base)),
                    Op::IterNext { slot, exit } => {
                        let at = base + slot as usize;
                        let cursor = match self.stack[at + 1] {
                            Value::Int(c) => c,
                            _ => 0,
                        };
                        match iter_next(&self.stack[at], cursor) {
                            Some((v, next)) => {
                                self.stack[at + 1] = Value::Int(next);
                                push!(v);
                            }
                            None => jump!(exit),
                        }
                    }

                    Op::PushHandler { offset, finally } => {
                        self.handlers.push(Handler {
                            frame: fi,
                            height: self.stack.len(),
                            target: (pos!() as i64 + offset as i64) as usize,
                            finally,
                        });
                    }
                    Op::PopHandler => {
                        self.handlers.pop();
                    }
                    Op::Throw => {
                        let v = pop!();
                        throw!(RtError::thrown(v));
                    }
                    Op::Rethrow => {
                        let v = pop!();
                        self.frames[fi].ip = pos!();
                        self.rethrow(v, stop)?;
                        continue 'frames;
                    }
                }
            };
            self.frames[fi].ip = pos!();
            self.raise(err, stop)?;
        }
    }
}
