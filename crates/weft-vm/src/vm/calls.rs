//! Calls: frame setup with arity checks, defaults and rest parameters;
//! calling builtins (sync in place, async handed back to `run_until`);
//! method-call resolution (language.md §4); entering an imported module's
//! top level.

use std::rc::Rc;

use super::{Frame, Vm};
use crate::builtins::{Args, AsyncCall, BuiltinDef, BuiltinFn};
use crate::bytecode::Op;
use crate::error::{type_error, RtError, RtResult};
use crate::value::{dict_get, Closure, Value};

/// What a call did.
pub(crate) enum Step {
    /// The result is on the stack.
    Done,
    /// A script frame was pushed; the dispatch loop continues in it.
    Frame,
    /// An async builtin must be awaited (arguments already removed).
    Await(AsyncCall, Vec<Value>),
}

/// The call of a builtin the task's policy lists in `approve`: the
/// program's approval gate first (no gate: `permission_denied`), then the
/// builtin itself.
pub(crate) fn gated(def: Rc<BuiltinDef>) -> crate::builtins::HostFn {
    Rc::new(move |vm: &mut Vm, args: Vec<Value>| {
        let def = def.clone();
        Box::pin(async move {
            let gate = vm.program.approval_gate.borrow().clone();
            match gate {
                Some(gate) => gate(vm, def.name, &args).await?,
                None => {
                    return Err(RtError::new(
                        "permission_denied",
                        format!(
                            "{}: the policy requires an approval for this call, but this runtime has no approval gate",
                            def.name
                        ),
                    ))
                }
            }
            vm.run_builtin_now(&def, args).await
        })
    })
}

impl Vm {
    /// Executes a call instruction other than `Call`/`TailCall` (spread
    /// calls, builtin calls, method calls, module runs) of a function with constants
    /// `consts`; the frame's ip is already saved.
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_call(&mut self, op: Op, consts: &[Value]) -> RtResult<Step> {
        match op {
            Op::CallList => {
                let argc = self.spread_args()?;
                let fpos = self.stack.len() - argc - 1;
                self.call_at(fpos, argc)
            }
            Op::CallBuiltin { id, argc } => {
                let def = self.program.builtins[id as usize].clone();
                let start = self.stack.len() - argc as usize;
                self.call_builtin(&def, start, start)
            }
            Op::CallBuiltinList(id) => {
                let def = self.program.builtins[id as usize].clone();
                let argc = self.spread_args()?;
                let start = self.stack.len() - argc;
                self.call_builtin(&def, start, start)
            }
            Op::CallMethod {
                name,
                argc,
                builtin,
            } => {
                let rpos = self.stack.len() - argc as usize - 1;
                self.call_method(rpos, argc as usize, &consts[name as usize], builtin, None)
            }
            Op::CallMethodScoped {
                name,
                argc,
                builtin,
            } => {
                let cand = self.stack.pop().expect("operand stack underflow");
                let rpos = self.stack.len() - argc as usize - 1;
                self.call_method(
                    rpos,
                    argc as usize,
                    &consts[name as usize],
                    builtin,
                    Some(cand),
                )
            }
            Op::CallMethodList {
                name,
                builtin,
                scoped,
            } => {
                let cand = if scoped {
                    Some(self.stack.pop().expect("operand stack underflow"))
                } else {
                    None
                };
                let argc = self.spread_args()?;
                let rpos = self.stack.len() - argc - 1;
                self.call_method(rpos, argc, &consts[name as usize], builtin, cand)
            }
            Op::RunModule(m) => self.enter_module_once(m),
            _ => unreachable!("not a call instruction: {op:?}"),
        }
    }

    /// `RunModule(m)`: enters module `m`'s top level the first time (its
    /// value is the result), else pushes nil.
    fn enter_module_once(&mut self, m: u32) -> RtResult<Step> {
        let main = {
            let mut modules = self.program.modules.borrow_mut();
            let slot = &mut modules[m as usize];
            if slot.ran {
                None
            } else {
                slot.ran = true;
                Some(slot.main.clone())
            }
        };
        match main {
            None => {
                self.stack.push(Value::Nil);
                Ok(Step::Done)
            }
            Some(proto) => {
                let c = Rc::new(Closure {
                    proto,
                    upvalues: Box::new([]),
                });
                let fpos = self.stack.len();
                self.stack.push(Value::Func(c.clone()));
                self.push_frame(c, fpos + 1, 0)?;
                Ok(Step::Frame)
            }
        }
    }

    /// Enters `closure` with `argc` arguments at `base..`: checks the
    /// arity, marks missing optional arguments, collects rest arguments,
    /// reserves the remaining slots.
    pub(crate) fn push_frame(
        &mut self,
        closure: Rc<Closure>,
        base: usize,
        argc: usize,
    ) -> RtResult<()> {
        self.tick -= 1;
        if self.tick == 0 {
            self.check_budget()?;
        }
        let p = &*closure.proto;
        let nparams = p.nparams as usize;
        self.stack.reserve(p.nslots as usize + p.code.len() + 2);
        if argc == nparams && !p.has_rest && self.frames.len() < self.program.max_call_depth {
            let nslots = p.nslots as usize;
            if nslots > nparams {
                self.stack.resize(base + nslots, Value::Nil);
            }
            self.frames.push(Frame {
                closure,
                ip: 0,
                base,
                restore: None,
            });
            return Ok(());
        }
        if argc < p.nrequired as usize || (!p.has_rest && argc > nparams) {
            return Err(type_error(format!(
                "{}() {}, got {}",
                p.name,
                p.arity_text(),
                argc
            )));
        }
        if self.frames.len() >= self.program.max_call_depth {
            return Err(RtError::new(
                "stack_overflow",
                format!(
                    "stack overflow: call depth exceeded the limit of {} frames",
                    self.program.max_call_depth
                ),
            ));
        }
        if argc < nparams {
            for _ in argc..nparams {
                self.stack.push(Value::Undef);
            }
        }
        if p.has_rest {
            let extras: Vec<Value> = if argc > nparams {
                self.stack.drain(base + nparams..).collect()
            } else {
                Vec::new()
            };
            self.stack.push(Value::list(extras));
        }
        let filled = nparams + p.has_rest as usize;
        for _ in filled..p.nslots as usize {
            self.stack.push(Value::Nil);
        }
        self.frames.push(Frame {
            closure,
            ip: 0,
            base,
            restore: None,
        });
        Ok(())
    }

    /// Calls the value at `fpos` with the `argc` values above it.
    pub(crate) fn call_at(&mut self, fpos: usize, argc: usize) -> RtResult<Step> {
        match &self.stack[fpos] {
            Value::Func(c) => {
                let c = c.clone();
                self.push_frame(c, fpos + 1, argc)?;
                Ok(Step::Frame)
            }
            Value::Builtin(def) => {
                let def = def.clone();
                self.call_builtin(&def, fpos + 1, fpos)
            }
            other => Err(type_error(format!(
                "cannot call {} (not a function)",
                other.type_name()
            ))),
        }
    }

    /// Calls builtin `def` with the arguments at `start..`; the result
    /// replaces everything from `result_pos` up.
    pub(crate) fn call_builtin(
        &mut self,
        def: &Rc<BuiltinDef>,
        start: usize,
        result_pos: usize,
    ) -> RtResult<Step> {
        let argc = self.stack.len() - start;
        def.check_arity(argc)?;
        if self.ctx.policy.approves_builtin(def.name) {
            let args: Vec<Value> = self.stack.drain(start..).collect();
            self.stack.truncate(result_pos);
            return Ok(Step::Await(AsyncCall::Host(gated(def.clone())), args));
        }
        match &def.func {
            &BuiltinFn::Sync(func) => {
                // The arguments stay where they are: the builtin sees a
                // slice of the (temporarily detached) stack. Sync builtins
                // never run script code, so nothing else needs the stack.
                if def.range_args != 0 {
                    crate::builtins::ranges_to_lists(
                        &mut self.stack[start..],
                        def,
                        &self.program.limits,
                    )?;
                }
                let mut stack = std::mem::take(&mut self.stack);
                let result = {
                    let mut args = Args::new(def.name, def.params, &mut stack[start..]);
                    func(self, &mut args)
                };
                self.stack = stack;
                let v = result?;
                self.program.limits.check(&v)?;
                while self.stack.len() > result_pos {
                    self.drop_top();
                }
                self.stack.push(v);
                Ok(Step::Done)
            }
            BuiltinFn::Async(func) => {
                let args: Vec<Value> = self.stack.drain(start..).collect();
                self.stack.truncate(result_pos);
                Ok(Step::Await(AsyncCall::Fn(*func), args))
            }
            BuiltinFn::Host(func) => {
                let args: Vec<Value> = self.stack.drain(start..).collect();
                self.stack.truncate(result_pos);
                Ok(Step::Await(AsyncCall::Host(func.clone()), args))
            }
        }
    }

    /// Runs builtin `def` with `args` outside the dispatch loop (after its
    /// approval): a sync builtin sees the arguments as a slice.
    async fn run_builtin_now(&mut self, def: &BuiltinDef, mut args: Vec<Value>) -> RtResult<Value> {
        match &def.func {
            &BuiltinFn::Sync(func) => {
                if def.range_args != 0 {
                    crate::builtins::ranges_to_lists(&mut args, def, &self.program.limits)?;
                }
                let v = {
                    let mut a = Args::new(def.name, def.params, &mut args[..]);
                    func(self, &mut a)
                }?;
                self.program.limits.check(&v)?;
                Ok(v)
            }
            BuiltinFn::Async(func) => func(self, args).await,
            BuiltinFn::Host(func) => func(self, args).await,
        }
    }

    /// Calls the argument list on top of the stack (spread calls).
    pub(crate) fn spread_args(&mut self) -> RtResult<usize> {
        match self.stack.pop().map(Value::into_list) {
            Some(Ok(l)) => {
                let n = l.len();
                match Rc::try_unwrap(l) {
                    Ok(items) => self.stack.extend(items),
                    Err(shared) => self.stack.extend(shared.iter().cloned()),
                }
                Ok(n)
            }
            _ => Err(type_error("spread arguments must be a list")),
        }
    }

    /// `recv.name(args)`: the receiver sits at `rpos`, its `argc` arguments
    /// above it; `cand` is the function of that name in scope, if any.
    pub(crate) fn call_method(
        &mut self,
        rpos: usize,
        argc: usize,
        name: &Value,
        builtin: u16,
        cand: Option<Value>,
    ) -> RtResult<Step> {
        let name_str = name.as_str().unwrap_or("");
        if let Value::Dict(d) = &self.stack[rpos] {
            if let Some(f) = dict_get(d, name_str) {
                if f.is_callable() {
                    let f = f.clone();
                    self.undo_take(rpos);
                    self.stack[rpos] = f;
                    return self.call_at(rpos, argc);
                }
            }
        }
        if let Some(c) = cand {
            if c.is_callable() {
                self.stack.insert(rpos, c);
                return self.call_at(rpos, argc + 1);
            }
        }
        if builtin != u16::MAX {
            let def = self.program.builtins[builtin as usize].clone();
            return self.call_builtin(&def, rpos, rpos);
        }
        let recv = &self.stack[rpos];
        let msg = if let Value::Dict(_) = recv {
            format!("dict has no method '{name_str}' (no function field '{name_str}' and no builtin of that name)")
        } else {
            format!("{} has no method '{name_str}'", recv.type_name())
        };
        Err(RtError::new("type_error", msg))
    }
}
