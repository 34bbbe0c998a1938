//! The virtual machine: one [`Vm`] per task, each with its own value stack,
//! frame stack and handler stack, sharing one [`Program`] (globals,
//! modules, builtins, output).
//!
//! Script calls never recurse on the Rust stack: a call pushes a [`Frame`]
//! and the dispatch loop (`dispatch.rs`) continues in it. The loop is a
//! plain synchronous function; when it meets an async builtin it returns
//! to [`Vm::run_until`], which awaits the builtin's future in place and
//! resumes — so `run` is `async` without paying for it per instruction.

mod access;
mod budget;
mod calls;
mod captured;
mod dispatch;
mod dispatch_support;
mod ops;
mod structural;
mod unwind;
mod variables;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use crate::builtins::{AsyncCall, BuiltinDef};
use crate::bytecode::{FnProto, LocKind};
use crate::error::RtResult;
use crate::value::{Closure, Value};

pub use budget::{Budget, Exhausted, LiveTask};

/// State shared by every task of one program run.
pub struct Program {
    pub globals: RefCell<Vec<Value>>,
    pub global_names: RefCell<Vec<String>>,
    pub builtins: Vec<Rc<BuiltinDef>>,
    pub modules: RefCell<Vec<ModuleSlot>>,
    pub out: RefCell<Box<dyn Write>>,
    pub max_call_depth: usize,
    /// Maximum nesting of script calls made from inside builtins (each
    /// nests a dispatch loop on the Rust stack).
    pub max_native_depth: usize,
    /// The program's random number generator (`random_seed` reseeds it).
    pub rng: RefCell<fastrand::Rng>,
    /// Set from another thread (Ctrl-C, SIGTERM, a host) to stop the
    /// running evaluation at its next loop back-edge, call or await.
    pub interrupt: std::sync::Arc<crate::interrupt::Interrupt>,
    /// Instruction budget (`--max-steps`): loop back-edges and calls.
    pub max_steps: Option<u64>,
    /// Wall-clock limit (reset per run by `Runtime::restart_clock`).
    pub deadline: std::cell::Cell<Option<std::time::Instant>>,
    /// Steps used by all tasks, and which budget (if any) is exhausted.
    pub budget: Budget,
    /// Most tasks (`spawn`, `parallel_map` items) alive at once.
    pub max_tasks: Option<usize>,
    /// `max_string_len` / `max_collection_len` (see `value::limits`).
    pub limits: crate::value::SizeLimits,
    /// State owned by extension crates (LLM layer, workers), one value per
    /// type; see [`Program::ext`].
    pub extensions: RefCell<std::collections::HashMap<std::any::TypeId, Rc<dyn std::any::Any>>>,
    /// Run when the main module's top level has finished (also after an
    /// uncaught error), in registration order: extension crates cancel what
    /// is still running and flush durable state here.
    pub shutdown_hooks: RefCell<Vec<ShutdownHook>>,
    /// Asks for approval of a builtin call that the task's policy lists in
    /// `approve` (installed by the agents crate); see [`ApprovalGate`].
    pub approval_gate: RefCell<Option<ApprovalGate>>,
}

/// Asks a human whether builtin `name` may run with these arguments:
/// `Ok(())` runs it, `Err` is the error the call fails with (a rejection,
/// or `awaiting_approval` when the request parked).
pub type ApprovalGate = Rc<
    dyn for<'v> Fn(
        &'v mut Vm,
        &'static str,
        &'v [Value],
    ) -> crate::builtins::LocalBoxFuture<'v, RtResult<()>>,
>;

/// A program-end hook (see [`Program::shutdown_hooks`]).
pub type ShutdownHook = Rc<dyn Fn(Rc<Program>) -> crate::builtins::LocalBoxFuture<'static, ()>>;

/// Why an awaited builtin was dropped before it finished.
enum Stop {
    Interrupted,
    Time,
}

/// The error of an interrupted evaluation.
fn interrupted() -> Box<crate::error::RtError> {
    crate::error::RtError::new("cancelled", "interrupted")
}

/// How many back-edges/calls run between budget checks.
pub(crate) const TICK: u32 = 1024;

/// A compiled module as the VM sees it.
pub struct ModuleSlot {
    pub main: Rc<FnProto>,
    pub ran: bool,
}

impl Program {
    /// Registers a program-end hook.
    pub fn on_shutdown(&self, hook: ShutdownHook) {
        self.shutdown_hooks.borrow_mut().push(hook);
    }

    /// Runs (and removes) every program-end hook.
    pub async fn run_shutdown_hooks(self: &Rc<Self>) {
        let hooks: Vec<ShutdownHook> = std::mem::take(&mut *self.shutdown_hooks.borrow_mut());
        for hook in hooks {
            hook(self.clone()).await;
        }
    }

    /// The program-wide extension state of type `T`, created on first use.
    /// Extension crates keep their per-run state here (not in statics or
    /// thread-locals): e.g. the mock provider's queue.
    pub fn ext<T: Default + 'static>(&self) -> Rc<T> {
        let id = std::any::TypeId::of::<T>();
        let mut map = self.extensions.borrow_mut();
        let entry = map
            .entry(id)
            .or_insert_with(|| Rc::new(T::default()) as Rc<dyn std::any::Any>)
            .clone();
        drop(map);
        entry
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("keyed by TypeId"))
    }

    /// Writes program output (print/println).
    pub fn write_out(&self, s: &str) {
        let mut out = self.out.borrow_mut();
        let _ = out.write_all(s.as_bytes());
    }

    pub fn flush_out(&self) {
        let _ = self.out.borrow_mut().flush();
    }
}

/// One activation of a script function.
pub(crate) struct Frame {
    pub closure: Rc<Closure>,
    pub ip: usize,
    /// Stack index of slot 0 (the callee sits at `base - 1`).
    pub base: usize,
    /// The last variable moved out by a `Take*` instruction, restored if an
    /// error interrupts the statement before it is stored again.
    pub restore: Option<Restore>,
}

#[derive(Clone, Copy)]
pub(crate) struct Restore {
    pub kind: LocKind,
    pub idx: u32,
    /// Stack position of the moved value.
    pub pos: usize,
}

/// An installed `try` handler.
pub(crate) struct Handler {
    /// Index of the frame that installed it.
    pub frame: usize,
    /// Stack height when it was installed.
    pub height: usize,
    /// Absolute code position of the handler.
    pub target: usize,
    /// Handler of a `finally` (receives the error in flight) rather than a
    /// `catch` (receives the error value).
    pub finally: bool,
}

/// Why the dispatch loop returned.
pub(crate) enum Exit {
    /// The frame the run started with returned this value.
    Return(Value),
    /// An async builtin must be awaited; its result is pushed on resume.
    Await(AsyncCall, Vec<Value>),
}

/// A task's interpreter state.
pub struct Vm {
    pub program: Rc<Program>,
    pub(crate) stack: Vec<Value>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) handlers: Vec<Handler>,
    pub(crate) native_depth: usize,
    /// Countdown to the next budget check (see [`TICK`]).
    pub(crate) tick: u32,
    /// What the countdown started from (charged to the program's budget
    /// when it reaches 0, or in part when the task ends).
    pub(crate) tick_start: u32,
    /// This task's cwd, environment overlay and capability hook.
    pub ctx: crate::context::TaskContext,
}

impl Vm {
    /// The periodic budget check: interrupts, `max_steps` (one total for
    /// every task of the run), the deadline. An exhausted budget stays
    /// exhausted (`budget.rs`): from then on every check raises again.
    #[cold]
    pub(crate) fn check_budget(&mut self) -> RtResult<()> {
        let used = self.program.budget.charge(self.tick_start as u64);
        self.set_countdown(TICK);
        if self.program.interrupt.is_requested() {
            // It stays requested: every later check raises again.
            self.set_countdown(1);
            return Err(interrupted());
        }
        if let Some(spent) = self.program.budget.exhausted() {
            self.set_countdown(1);
            return Err(spent.error());
        }
        if let Some(max) = self.program.max_steps {
            if used >= max {
                self.set_countdown(1);
                return Err(self.program.budget.exhaust(Exhausted::Steps(max)));
            }
            let left = max - used;
            if left < TICK as u64 {
                self.set_countdown(left as u32);
            }
        }
        self.check_deadline()
            .inspect_err(|_| self.set_countdown(1))?;
        crate::memory::check_heap()
    }

    fn set_countdown(&mut self, n: u32) {
        self.tick = n;
        self.tick_start = n;
    }

    /// Awaits an async builtin. Under a wall-clock limit the wait itself is
    /// bounded by the deadline: a builtin still running then (a `sleep`, a
    /// slow process or request, a callback stuck in an await) is dropped,
    /// and whatever script frames it had entered are unwound.
    ///
    /// An interrupt request ends the wait the same way, with
    /// `error[cancelled]: interrupted`.
    async fn await_builtin(&mut self, func: AsyncCall, args: Vec<Value>) -> RtResult<Value> {
        let interrupt = self.program.interrupt.clone();
        if interrupt.is_requested() {
            return Err(interrupted());
        }
        let deadline = self.program.deadline.get();
        let frames = self.frames.len();
        let handlers = self.handlers.len();
        let height = self.stack.len();
        let native_depth = self.native_depth;
        // Boxed: the timer and the interrupt wait would otherwise enlarge
        // every dispatch loop's future (deep recursion nests those).
        let stopped = Box::pin(async {
            let call = func.call(self, args);
            let until_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                r = call => Ok(r),
                _ = interrupt.requested() => Err(Stop::Interrupted),
                _ = until_deadline => Err(Stop::Time),
            }
        })
        .await;
        match stopped {
            Ok(r) => r.and_then(|v| self.after_builtin(v)),
            Err(e) => {
                self.frames.truncate(frames);
                self.handlers.truncate(handlers);
                self.stack.truncate(height);
                self.native_depth = native_depth;
                Err(match e {
                    Stop::Interrupted => interrupted(),
                    Stop::Time => self.program.budget.exhaust(Exhausted::Time),
                })
            }
        }
    }

    /// Checks the result of an awaited (or host-called) builtin: the size
    /// limits, and the deadline (an awaited builtin may have run for a
    /// long time without a back-edge or call).
    pub(crate) fn after_builtin(&self, v: Value) -> RtResult<Value> {
        self.program.limits.check_envelope(&v)?;
        self.check_deadline()?;
        Ok(v)
    }

    /// Fails with `limit_exceeded` when the wall-clock limit has passed.
    /// Builtins whose running time grows with their input (regexes, JSON)
    /// call it when they finish, so a long call is noticed at once rather
    /// than at the next budget check.
    pub fn check_deadline(&self) -> RtResult<()> {
        if let Some(deadline) = self.program.deadline.get() {
            if std::time::Instant::now() >= deadline {
                return Err(self.program.budget.exhaust(Exhausted::Time));
            }
        }
        Ok(())
    }

    /// Removes the top value without moving it out (scalars skip the
    /// drop glue entirely).
    #[inline(always)]
    pub(crate) fn drop_top(&mut self) {
        let len = self.stack.len();
        assert!(len > 0, "operand stack underflow");
        // SAFETY: index `len - 1` is initialised; after dropping it in place
        // the length is reduced so it is never read again.
        unsafe {
            let top = self.stack.as_mut_ptr().add(len - 1);
            self.stack.set_len(len - 1);
            if !(*top).is_scalar() {
                std::ptr::drop_in_place(top);
            }
        }
    }

    /// Drops the values above stack height `height` (top first, as
    /// repeated [`Vm::drop_top`] would), skipping the drop glue of scalars.
    #[inline(always)]
    pub(crate) fn cut_stack(&mut self, height: usize) {
        let len = self.stack.len();
        assert!(height <= len, "operand stack underflow");
        // SAFETY: `height..len` are initialised; the length is cut first,
        // so each is dropped exactly once and never read again.
        unsafe {
            self.stack.set_len(height);
            let p = self.stack.as_mut_ptr();
            for i in (height..len).rev() {
                if !(*p.add(i)).is_scalar() {
                    std::ptr::drop_in_place(p.add(i));
                }
            }
        }
    }

    /// Overwrites stack slot `i` with `v`, dropping the old value in place.
    #[inline(always)]
    pub(crate) fn set_slot(&mut self, i: usize, v: Value) {
        let slot = &mut self.stack[i];
        if slot.is_scalar() {
            // SAFETY: the old value is a scalar and owns nothing.
            unsafe { std::ptr::write(slot, v) }
        } else {
            *slot = v;
        }
    }

    /// The source file of the innermost script frame (the caller of a
    /// builtin), if any.
    pub fn current_file(&self) -> Option<std::sync::Arc<weft_syntax::diagnostic::SourceFile>> {
        self.frames.last().map(|f| f.closure.proto.file.clone())
    }

    pub fn new(program: Rc<Program>) -> Vm {
        // A task started after a budget ran out raises at its first check.
        let tick = if program.budget.exhausted().is_some() {
            1
        } else {
            TICK
        };
        Vm {
            program,
            stack: Vec::with_capacity(1024),
            frames: Vec::with_capacity(64),
            handlers: Vec::new(),
            native_depth: 0,
            tick,
            tick_start: tick,
            ctx: crate::context::TaskContext::from_process(),
        }
    }

    /// Runs module `id`'s top level (once) and returns its value.
    pub async fn run_module(&mut self, id: u32) -> RtResult<Value> {
        let main = {
            let mut modules = self.program.modules.borrow_mut();
            let slot = &mut modules[id as usize];
            slot.ran = true;
            slot.main.clone()
        };
        let closure = Rc::new(Closure {
            proto: main,
            upvalues: Box::new([]),
        });
        let f = Value::Func(closure);
        self.call_value(&f, &[]).await
    }

    /// Calls a function value with arguments and returns its result; used
    /// by builtins that take callbacks and by hosts. A script function runs
    /// synchronously until it returns or first meets an async builtin.
    pub async fn call_value(&mut self, f: &Value, args: &[Value]) -> RtResult<Value> {
        match f {
            Value::Func(closure) => {
                let stop = self.enter_function(closure, args)?;
                let r = match self.execute(stop) {
                    Ok(Exit::Return(v)) => Ok(v),
                    Ok(Exit::Await(func, args)) => self.resume_after_await(stop, func, args).await,
                    Err(e) => Err(e),
                };
                self.native_depth -= 1;
                r
            }
            Value::Builtin(def) => {
                let def = def.clone();
                def.check_arity(args.len())?;
                if self.ctx.policy.approves_builtin(def.name) {
                    let gated = calls::gated(def.clone());
                    return self
                        .await_builtin(AsyncCall::Host(gated), args.to_vec())
                        .await;
                }
                match &def.func {
                    &crate::builtins::BuiltinFn::Sync(func) => {
                        let mut args = args.to_vec();
                        let mut a = crate::builtins::Args::new(def.name, def.params, &mut args);
                        func(self, &mut a)
                    }
                    crate::builtins::BuiltinFn::Async(func) => {
                        return self
                            .await_builtin(AsyncCall::Fn(*func), args.to_vec())
                            .await
                    }
                    crate::builtins::BuiltinFn::Host(func) => {
                        return self
                            .await_builtin(AsyncCall::Host(func.clone()), args.to_vec())
                            .await
                    }
                }
                .and_then(|v| self.after_builtin(v))
            }
            other => Err(crate::error::type_error(format!(
                "cannot call {} (not a function)",
                other.type_name()
            ))),
        }
    }

    /// Pushes a call of `closure` with `args`; returns the stop depth for
    /// the dispatch loop.
    fn enter_function(&mut self, closure: &Rc<Closure>, args: &[Value]) -> RtResult<usize> {
        if self.native_depth >= self.program.max_native_depth {
            return Err(crate::error::RtError::new(
                "stack_overflow",
                format!(
                    "stack overflow: more than {} nested calls from builtins back into script functions",
                    self.program.max_native_depth
                ),
            ));
        }
        let stop = self.frames.len();
        let fpos = self.stack.len();
        let p = &*closure.proto;
        if args.len() == p.nparams as usize && !p.has_rest && stop < self.program.max_call_depth {
            // The common case (a callback of `map`, `filter`, ... called
            // with exactly its parameters): `push_frame`'s fast path with
            // one reservation for the callee slot, the arguments, the other
            // slots and the operand stack, and no arity re-checks.
            self.tick -= 1;
            if self.tick == 0 {
                self.check_budget()?;
            }
            let nslots = p.nslots as usize;
            self.stack.reserve(1 + nslots + p.code.len() + 2);
            // The callee slot: a placeholder, as below.
            self.stack.push(Value::Nil);
            for a in args {
                self.stack.push(a.clone());
            }
            for _ in args.len()..nslots {
                self.stack.push(Value::Nil);
            }
            self.frames.push(Frame {
                closure: closure.clone(),
                ip: 0,
                base: fpos + 1,
                restore: None,
            });
            self.native_depth += 1;
            return Ok(stop);
        }
        // The callee slot below the arguments is never read once the frame
        // is entered (the frame owns the closure): a placeholder saves a
        // reference-count round trip per call from a builtin.
        self.stack.push(Value::Nil);
        self.stack.extend_from_slice(args);
        if let Err(e) = self.push_frame(closure.clone(), fpos + 1, args.len()) {
            self.stack.truncate(fpos);
            return Err(e);
        }
        self.native_depth += 1;
        Ok(stop)
    }

    /// Awaits an async builtin met by a synchronous run, then continues.
    async fn resume_after_await(
        &mut self,
        stop: usize,
        func: AsyncCall,
        args: Vec<Value>,
    ) -> RtResult<Value> {
        let result = self.await_builtin(func, args).await;
        match result {
            Ok(v) => self.stack.push(v),
            Err(e) => self.raise(e, stop)?,
        }
        self.run_until(stop).await
    }

    /// Runs the dispatch loop until the frame at index `stop` returns,
    /// awaiting async builtins as they come.
    pub(crate) async fn run_until(&mut self, stop: usize) -> RtResult<Value> {
        loop {
            match self.execute(stop)? {
                Exit::Return(v) => return Ok(v),
                Exit::Await(func, args) => {
                    let result = self.await_builtin(func, args).await;
                    match result {
                        Ok(v) => self.stack.push(v),
                        Err(e) => self.raise(e, stop)?,
                    }
                }
            }
        }
    }

    /// "called from" lines for the callers of the innermost frame (the
    /// diagnostic itself points at the innermost location); repeated lines
    /// (deep recursion) are collapsed.
    pub(crate) fn trace_lines(&self) -> Vec<String> {
        let mut lines: Vec<(String, usize)> = Vec::new();
        for frame in self.frames.iter().rev().skip(1) {
            let proto = &frame.closure.proto;
            let Some(span) = proto.spans.get(frame.ip.saturating_sub(1)) else {
                continue;
            };
            let (l, c) = proto.file.line_col(span.start);
            let place = if proto.is_module {
                "top level".to_string()
            } else {
                format!("in {}", proto.name)
            };
            let line = format!(
                "note: called from {}:{}:{} ({place})",
                proto.file.name, l, c
            );
            match lines.last_mut() {
                Some((last, n)) if *last == line => *n += 1,
                _ => lines.push((line, 1)),
            }
        }
        let mut out = Vec::new();
        for (line, n) in lines.into_iter().take(8) {
            if n > 1 {
                out.push(format!("{line} [{n} times]"));
            } else {
                out.push(line);
            }
        }
        out
    }
}

impl Drop for Vm {
    /// A task's steps since its last check count too (a swarm of short
    /// tasks, each under one countdown, must not run for free).
    fn drop(&mut self) {
        if self.program.max_steps.is_some() {
            self.program
                .budget
                .charge(self.tick_start.saturating_sub(self.tick) as u64);
        }
    }
}
