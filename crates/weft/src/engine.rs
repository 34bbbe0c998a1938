//! [`Engine`]: one Weft program run a host drives — native functions,
//! providers and event handlers registered on it; scripts run with
//! [`Engine::run_file`], [`Engine::eval`], [`Engine::call`]. Owns the VM
//! runtime (created at the first run, so registrations come first) and the
//! `LocalSet` its tasks and workers run in.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use tokio::task::LocalSet;
use weft_agents::AgentConfig;
use weft_agents::state::AgentState;
use weft_vm::builtins::BuiltinDef;
use weft_vm::{ReplOutcome, Runtime, RuntimeOptions};

use crate::builder::{EngineBuilder, Limits};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::llm::{Adapter, LlmProvider};
use crate::local::Local;
use crate::native::{AsyncNativeFn, NativeFn, Registered, Registration, async_def, sync_def};
use crate::policy::Policy;
use crate::value::{IntoValue, Value};

/// A host's event handler.
type Handler = Box<dyn Fn(&Event)>;

/// Everything the builder collected, used when the runtime is created.
pub(crate) struct Setup {
    pub agents: AgentConfig,
    pub policy: Policy,
    pub limits: Limits,
    pub output: Option<Box<dyn Write>>,
    pub argv: Vec<String>,
    pub keep_top_level: bool,
    pub approval_handler: Option<weft_agents::approval::ApprovalHandler>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            agents: AgentConfig {
                persist: true,
                ..AgentConfig::default()
            },
            policy: Policy::default(),
            limits: Limits::default(),
            output: None,
            argv: Vec::new(),
            keep_top_level: true,
            approval_handler: None,
        }
    }
}

/// An embedded Weft interpreter: one program's globals, builtins, workers
/// and durable state.
///
/// An engine is neither `Send` nor `Sync` (its values are `Rc`-based): make
/// it on the thread that uses it. The async methods need a tokio runtime
/// (any flavour); the engine runs its tasks in its own `LocalSet`, so no
/// `LocalSet` is needed around them. The `_blocking` methods and
/// [`block_on`](crate::block_on) make a current-thread runtime themselves.
///
/// Workers do not outlive the call that started them: when
/// [`run_file`](Self::run_file), [`eval`](Self::eval) or [`call`](Self::call)
/// returns, workers still running are cancelled and durable state is
/// flushed, as when `weft run` ends.
///
/// ```
/// let mut engine = weft::Engine::builder().build()?;
/// engine.register_fn("add", |a: i64, b: i64| -> weft::Result<i64> { Ok(a + b) })?;
/// weft::block_on(engine.eval("fn twice(x) { add(x, x) }"))?;
/// let v = weft::block_on(engine.call("twice", vec![21.into()]))?;
/// assert_eq!(v.as_int(), Some(42));
/// # Ok::<(), weft::Error>(())
/// ```
pub struct Engine {
    inner: Local<Inner>,
}

/// The engine's state (kept on its thread by [`Local`]).
struct Inner {
    /// Taken when the runtime is created.
    setup: Option<Setup>,
    runtime: Option<Runtime>,
    host_fns: Vec<BuiltinDef>,
    host_names: HashSet<&'static str>,
    providers: Vec<(String, Rc<dyn weft_agents::llm::Provider>)>,
    handlers: Rc<RefCell<Vec<Handler>>>,
    local: Rc<LocalSet>,
    /// `progress(true)`: the live table starts with the first run (it is a
    /// task, so it must be spawned inside the engine's `LocalSet`).
    progress_pending: bool,
}

impl Engine {
    /// A builder with default settings (unrestricted policy, no state
    /// directory, output to stdout).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    pub(crate) fn from_setup(setup: Setup) -> Engine {
        Engine {
            inner: Local::new(Inner {
                setup: Some(setup),
                runtime: None,
                host_fns: Vec::new(),
                host_names: HashSet::new(),
                providers: Vec::new(),
                handlers: Rc::new(RefCell::new(Vec::new())),
                local: Rc::new(LocalSet::new()),
                progress_pending: false,
            }),
        }
    }

    /// Registers a native function scripts call as `name(...)`. Argument
    /// and result types convert through [`FromValue`](crate::FromValue) /
    /// [`IntoValue`]; a wrong argument is a `type_error` naming the
    /// function and the argument; an `Err` from the function is raised in
    /// the script with its category (catchable with `try`).
    ///
    /// Register before the engine first runs code; the name must be an
    /// identifier that is not a keyword, a builtin, or already registered.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// engine.register_fn("lookup_user", |id: i64| -> weft::Result<weft::Value> {
    ///     match id {
    ///         1 => Ok(weft::Value::dict([("name", "Ada".into())])),
    ///         _ => Err(weft::Error::new("not_found", format!("no user {id}"))),
    ///     }
    /// })?;
    /// let name = weft::block_on(engine.eval("lookup_user(1).name"))?;
    /// assert_eq!(name.as_str(), Some("Ada"));
    /// let caught = weft::block_on(engine.eval("try { lookup_user(2) } catch e { e.category }"))?;
    /// assert_eq!(caught.as_str(), Some("not_found"));
    /// let err = weft::block_on(engine.eval("lookup_user(\"x\")")).unwrap_err();
    /// assert_eq!(err.message(), "lookup_user: argument 1 must be an int, got string");
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn register_fn<Args, F: NativeFn<Args>>(
        &mut self,
        name: &str,
        f: F,
    ) -> Result<Registration> {
        self.register_fn_with_params(name, &[], f)
    }

    /// [`register_fn`](Self::register_fn) with parameter names, which
    /// messages use: `lookup_user: argument 1 (id) must be an int, got string`.
    pub fn register_fn_with_params<Args, F: NativeFn<Args>>(
        &mut self,
        name: &str,
        params: &[&str],
        f: F,
    ) -> Result<Registration> {
        self.check_new_name(name)?;
        Ok(self.add_host_fn(sync_def(name, params, f)))
    }

    /// Registers an async native function: a closure returning a future of
    /// `weft::Result<T>`. The script waits for it; other tasks and workers
    /// run meanwhile.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// engine.register_async_fn("fetch_ticket", |id: String| async move {
    ///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     Ok(format!("ticket {id}: printer on fire"))
    /// })?;
    /// let t = weft::block_on(engine.eval("fetch_ticket(\"T-1\")"))?;
    /// assert_eq!(t.as_str(), Some("ticket T-1: printer on fire"));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn register_async_fn<Args, F: AsyncNativeFn<Args>>(
        &mut self,
        name: &str,
        f: F,
    ) -> Result<Registration> {
        self.register_async_fn_with_params(name, &[], f)
    }

    /// [`register_async_fn`](Self::register_async_fn) with parameter names
    /// for messages.
    pub fn register_async_fn_with_params<Args, F: AsyncNativeFn<Args>>(
        &mut self,
        name: &str,
        params: &[&str],
        f: F,
    ) -> Result<Registration> {
        self.check_new_name(name)?;
        Ok(self.add_host_fn(async_def(name, params, f)))
    }

    fn add_host_fn(&mut self, registered: Registered) -> Registration {
        let def = registered.def;
        self.inner.host_names.insert(def.name);
        self.inner.host_fns.push(def);
        registered.registration
    }

    fn check_new_name(&self, name: &str) -> Result<()> {
        let what = format!("register_fn(\"{name}\")");
        if self.inner.runtime.is_some() {
            return Err(Error::value(format!(
                "{what}: native functions must be registered before the engine is first used (a run, an eval, a call or global lookup)"
            )));
        }
        let mut chars = name.chars();
        let ident = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            return Err(Error::value(format!(
                "{what}: a function name must be an identifier (letters, digits, _)"
            )));
        }
        if weft_syntax::lexer::KEYWORDS.contains(&name) {
            return Err(Error::value(format!("{what}: '{name}' is a keyword")));
        }
        if self.inner.host_names.contains(name) {
            return Err(Error::value(format!("{what}: already registered")));
        }
        let builtin = weft_vm::builtins::core_builtins()
            .iter()
            .chain(weft_agents::builtins().iter())
            .any(|b| b.name == name);
        if builtin || name == "argv" {
            return Err(Error::value(format!(
                "{what}: '{name}' is a builtin and cannot be replaced"
            )));
        }
        Ok(())
    }

    /// Installs an LLM provider under `name`; scripts select it with
    /// `provider: "NAME"` in `llm_call`/`agent_loop`/worker options. A host
    /// provider may shadow a built-in one (`mock`, `openai`, `anthropic`).
    /// See [`LlmProvider`] for an example.
    pub fn set_provider<P: LlmProvider>(&mut self, name: &str, provider: P) -> Result<()> {
        if name.is_empty() {
            return Err(Error::value("set_provider: the name must not be empty"));
        }
        let adapter: Rc<dyn weft_agents::llm::Provider> = Rc::new(Adapter {
            name: name.to_string(),
            inner: Rc::new(provider),
        });
        match &self.inner.runtime {
            Some(rt) => {
                let state = rt.program().ext::<AgentState>();
                state
                    .providers
                    .borrow_mut()
                    .insert(name.to_string(), adapter);
            }
            None => {
                self.inner.providers.retain(|(n, _)| n != name);
                self.inner.providers.push((name.to_string(), adapter));
            }
        }
        Ok(())
    }

    /// Calls `handler` with every event of the runs of this engine: worker
    /// events (`worker_started`, `worker_completed`, ...) and workflow run
    /// events (`run_*`, `stage_*`). Handlers run on the engine's thread, in
    /// registration order, and must not block.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let kinds = Rc::new(RefCell::new(Vec::new()));
    /// let mut engine = weft::Engine::builder().build()?;
    /// let seen = kinds.clone();
    /// engine.on_event(move |ev: &weft::Event| seen.borrow_mut().push(ev.kind().to_string()));
    /// weft::block_on(engine.eval(r#"wait_worker(spawn_worker({task: "say hi"}))"#))?;
    /// assert_eq!(kinds.borrow().last().map(String::as_str), Some("worker_completed"));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn on_event(&mut self, handler: impl Fn(&Event) + 'static) {
        self.inner.handlers.borrow_mut().push(Box::new(handler));
    }

    /// The VM runtime, created on first use from the builder's settings.
    pub(crate) fn runtime(&mut self) -> &mut Runtime {
        if self.inner.runtime.is_none() {
            let rt = self.create_runtime();
            self.inner.runtime = Some(rt);
        }
        match &mut self.inner.runtime {
            Some(rt) => rt,
            None => unreachable!("created above"),
        }
    }

    fn create_runtime(&mut self) -> Runtime {
        let mut setup = self.inner.setup.take().unwrap_or_default();
        self.inner.progress_pending = std::mem::take(&mut setup.agents.progress);
        let mut extra = weft_agents::builtins();
        extra.append(&mut self.inner.host_fns);
        let mut options = RuntimeOptions {
            argv: setup.argv,
            max_call_depth: setup.limits.max_call_depth,
            max_steps: setup.limits.max_steps,
            time_limit: setup.limits.time_limit,
            max_string_len: setup.limits.max_string_len,
            max_collection_len: setup.limits.max_collection_len,
            max_tasks: setup.limits.max_tasks,
            max_memory: setup.limits.max_memory,
            extra_builtins: extra,
            root_policy: setup.policy.0,
            top_level_globals: setup.keep_top_level,
            ..RuntimeOptions::default()
        };
        if let Some(out) = setup.output {
            options.stdout = out;
        }
        let rt = Runtime::new(options);
        setup.agents.max_run_workers = setup.limits.max_run_workers;
        weft_agents::configure(rt.program(), setup.agents);
        let state = rt.program().ext::<AgentState>();
        *state.approvals.handler.borrow_mut() = setup.approval_handler;
        for (name, p) in self.inner.providers.drain(..) {
            state.providers.borrow_mut().insert(name, p);
        }
        let handlers = self.inner.handlers.clone();
        *state.workers.sinks.host.borrow_mut() = Some(Rc::new(move |json: &serde_json::Value| {
            let handlers = handlers.borrow();
            if handlers.is_empty() {
                return;
            }
            let ev = Event::from_json(json.clone());
            for h in handlers.iter() {
                h(&ev);
            }
        }));
        rt
    }

    /// Prepares the runtime for a new top-level run: the wall-clock limit
    /// restarts and a stale interrupt is forgotten.
    fn start_run(&mut self) -> &mut Runtime {
        self.runtime();
        if std::mem::take(&mut self.inner.progress_pending) {
            use std::io::IsTerminal;
            let on_terminal = std::io::stderr().is_terminal();
            if let Some(rt) = self.inner.runtime.as_ref().filter(|_| on_terminal) {
                weft_agents::workers::progress::start(rt.program());
            }
        }
        let rt = self.runtime();
        rt.restart_clock();
        rt.interrupt_handle().clear();
        rt
    }

    /// What the end of `weft run` does: cancel workers still running, flush
    /// durable state and output; then re-arm for the next run.
    async fn end_run(&mut self) {
        let rt = self.runtime();
        let program = rt.program().clone();
        program.run_shutdown_hooks().await;
        program.flush_out();
        let state = program.ext::<AgentState>();
        state.workers.shutting_down.set(false);
        state.workers.shutdown_registered.set(false);
    }

    /// Compiles and runs a script file as the main module and returns the
    /// value of its last top-level expression (`nil` if it ends with a
    /// statement). Its top-level functions can then be called with
    /// [`call`](Self::call), and its top-level values read with
    /// [`global`](Self::global) (unless
    /// [`keep_top_level`](crate::EngineBuilder::keep_top_level) is off).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("hello.wf");
    /// std::fs::write(&path, "fn greet(n) { \"hi ${n}\" }\ngreet(\"file\")\n").unwrap();
    /// let mut engine = weft::Engine::builder().build()?;
    /// let v = weft::block_on(engine.run_file(&path))?;
    /// assert_eq!(v.as_str(), Some("hi file"));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub async fn run_file(&mut self, path: impl AsRef<Path>) -> Result<Value> {
        let path = path.as_ref().to_path_buf();
        let local = self.inner.local.clone();
        self.in_local_with(&local, async move |engine: &mut Engine| {
            let result = engine.start_run().run_main(&path).await;
            engine.end_run().await;
            result.map(Value::from_vm).map_err(Error::from_diagnostics)
        })
        .await
    }

    /// Compiles and runs source text. Top-level names it defines stay
    /// defined for later `eval`s and [`call`](Self::call)s, and it sees the
    /// names of files run before. Returns the value of the last expression
    /// (`nil` if the text ends with a statement).
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// assert_eq!(weft::block_on(engine.eval("1 + 2"))?.as_int(), Some(3));
    /// weft::block_on(engine.eval("let base = 10"))?;
    /// assert_eq!(weft::block_on(engine.eval("base * 2"))?.as_int(), Some(20));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub async fn eval(&mut self, source: &str) -> Result<Value> {
        let local = self.inner.local.clone();
        self.in_local_with(&local, async move |engine: &mut Engine| {
            let outcome = engine.start_run().eval_input("eval", source).await;
            engine.end_run().await;
            outcome_value(outcome)
        })
        .await
    }

    /// Calls the top-level function `name` (defined by a file run or an
    /// `eval` before, or a builtin) with `args` and returns its result.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// weft::block_on(engine.eval("fn summarize(text) { \"${len(text)} chars\" }"))?;
    /// let r = weft::block_on(engine.call("summarize", vec!["some text".into()]))?;
    /// assert_eq!(r.as_str(), Some("9 chars"));
    /// let err = weft::block_on(engine.call("sumarize", vec![])).unwrap_err();
    /// assert_eq!(err.category(), "undefined");
    /// assert!(err.message().contains("did you mean 'summarize'?"));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub async fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value> {
        let f = self.global(name)?;
        if !f.is_callable() {
            return Err(Error::new(
                "type_error",
                format!("'{name}' is a {}, not a function", f.type_name()),
            ));
        }
        self.call_value(&f, args).await
    }

    /// Calls a function value (e.g. a closure a script returned) with
    /// `args`.
    pub async fn call_value(&mut self, f: &Value, args: Vec<Value>) -> Result<Value> {
        let f = f.clone().into_vm();
        let args: Vec<weft_vm::Value> = args.into_iter().map(Value::into_vm).collect();
        let local = self.inner.local.clone();
        self.in_local_with(&local, async move |engine: &mut Engine| {
            let mut vm = engine.start_run().new_vm();
            let result = vm.call_value(&f, &args).await;
            drop(vm);
            engine.end_run().await;
            result.map(Value::from_vm).map_err(|e| Error::from_rt(&e))
        })
        .await
    }

    /// Converts `args` with [`IntoValue`] and [`call`](Self::call)s `name`.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// weft::block_on(engine.eval("fn add(a, b) { a + b }"))?;
    /// let v = weft::block_on(engine.call_with("add", (2, 3)))?;
    /// assert_eq!(v.as_int(), Some(5));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub async fn call_with(&mut self, name: &str, args: impl IntoArgs) -> Result<Value> {
        let args = args.into_args()?;
        self.call(name, args).await
    }

    /// The value of the top-level name `name` (from files run and `eval`s;
    /// else a builtin of that name, as a function value), or an `undefined`
    /// error with a did-you-mean.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder().build()?;
    /// weft::block_on(engine.eval("let limit = 3"))?;
    /// assert_eq!(engine.global("limit")?.as_int(), Some(3));
    /// let upper = weft::block_on(engine.call("upper", vec!["abc".into()]))?;
    /// assert_eq!(upper.as_str(), Some("ABC"));
    /// assert_eq!(engine.global("limt").unwrap_err().message(),
    ///            "no top-level function or value named 'limt' (did you mean 'limit'?)");
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn global(&mut self, name: &str) -> Result<Value> {
        let rt = self.runtime();
        if let Some(v) = rt.global(name) {
            return Ok(Value::from_vm(v));
        }
        if let Some(def) = rt.builtins().iter().find(|b| b.name == name) {
            return Ok(Value::from_vm(weft_vm::Value::Builtin(def.clone())));
        }
        let names = rt.global_names();
        let hint = weft_syntax::suggest::did_you_mean(name, names.iter().map(String::as_str))
            .map(|n| format!(" (did you mean '{n}'?)"))
            .unwrap_or_default();
        Err(Error::new(
            "undefined",
            format!("no top-level function or value named '{name}'{hint}"),
        ))
    }

    /// [`run_file`](Self::run_file) on a current-thread tokio runtime made
    /// for the call (an error if called from inside a tokio runtime: there,
    /// await `run_file`).
    pub fn run_file_blocking(&mut self, path: impl AsRef<Path>) -> Result<Value> {
        crate::block_on(self.run_file(path))
    }

    /// [`eval`](Self::eval) on a current-thread tokio runtime made for the call.
    pub fn eval_blocking(&mut self, source: &str) -> Result<Value> {
        crate::block_on(self.eval(source))
    }

    /// [`call`](Self::call) on a current-thread tokio runtime made for the call.
    pub fn call_blocking(&mut self, name: &str, args: Vec<Value>) -> Result<Value> {
        crate::block_on(self.call(name, args))
    }

    /// A handle that interrupts the running evaluation from any thread: it
    /// stops with `error[cancelled]: interrupted` at its next loop
    /// iteration or call, and a pending await (a `sleep`, a model call, a
    /// process) is dropped at once. Keyed workers still running then end
    /// `interrupted` (resumable), not `cancelled`.
    pub fn interrupt_handle(&mut self) -> InterruptHandle {
        InterruptHandle(self.runtime().interrupt_handle())
    }

    /// The `LocalSet` the engine's tasks run in.
    pub(crate) fn local_set(&self) -> Rc<LocalSet> {
        self.inner.local.clone()
    }

    /// Runs `job` with the engine inside `local`.
    async fn in_local_with<T>(
        &mut self,
        local: &LocalSet,
        job: impl AsyncFnOnce(&mut Engine) -> Result<T>,
    ) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(no_runtime());
        }
        local.run_until(job(self)).await
    }
}

pub(crate) fn no_runtime() -> Error {
    Error::new(
        "runtime",
        "the engine's async methods need a tokio runtime; use weft::block_on or the _blocking methods",
    )
}

/// The value (or error) of an `eval`-style outcome.
pub(crate) fn outcome_value(outcome: ReplOutcome) -> Result<Value> {
    match outcome {
        ReplOutcome::Value(v) => Ok(v.map(Value::from_vm).unwrap_or_default()),
        ReplOutcome::Errors(ds) => Err(Error::from_diagnostics(ds)),
        ReplOutcome::Incomplete => Err(Error::new(
            "syntax_error",
            "unexpected end of input (an unclosed bracket, brace or string?)",
        )),
    }
}

/// Stops a running evaluation from another thread; see
/// [`Engine::interrupt_handle`]. `Send + Sync + Clone`.
#[derive(Clone, Debug)]
pub struct InterruptHandle(std::sync::Arc<weft_vm::interrupt::Interrupt>);

impl InterruptHandle {
    /// Asks the running evaluation to stop (it stays stopped until the
    /// next `run_file`/`eval`/`call` starts).
    pub fn interrupt(&self) {
        self.0.request();
    }

    /// Whether an interrupt was requested since the current run started.
    pub fn is_interrupted(&self) -> bool {
        self.0.is_requested()
    }
}

/// Argument lists for [`Engine::call_with`]: tuples of up to four
/// [`IntoValue`] items, `()` and `Vec<Value>`.
pub trait IntoArgs {
    /// The converted arguments.
    fn into_args(self) -> Result<Vec<Value>>;
}

impl IntoArgs for Vec<Value> {
    fn into_args(self) -> Result<Vec<Value>> {
        Ok(self)
    }
}

macro_rules! tuple_args {
    ($($t:ident),*) => {
        impl<$($t: IntoValue),*> IntoArgs for ($($t,)*) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Result<Vec<Value>> {
                let ($($t,)*) = self;
                Ok(vec![$($t.into_value()?),*])
            }
        }
    };
}
tuple_args!();
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
