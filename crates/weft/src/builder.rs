//! Configuring an engine: [`EngineBuilder`] (state directory, root policy,
//! limits, output, argv, LLM fixture/record, workers) and [`Limits`].
//! Settings are validated in [`EngineBuilder::build`], once.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::{Engine, Setup};
use crate::error::{Error, Result};
use crate::policy::Policy;

/// Bounds that turn a runaway script into a catchable `limit_exceeded`
/// (or `stack_overflow`) error instead of taking the host down. `None`
/// means unbounded.
///
/// ```
/// use std::time::Duration;
/// let limits = weft::Limits {
///     max_steps: Some(100_000),
///     time_limit: Some(Duration::from_secs(5)),
///     ..Default::default()
/// };
/// let mut engine = weft::Engine::builder().limits(limits).build()?;
/// let err = weft::block_on(engine.eval("while true {}")).unwrap_err();
/// assert_eq!(err.category(), "limit_exceeded");
///
/// let small = weft::Limits { max_string_len: Some(1_000), max_collection_len: Some(100), ..Default::default() };
/// let mut engine = weft::Engine::builder().limits(small).build()?;
/// let err = weft::block_on(engine.eval(r#"var s = "ab"; while true { s = s + s }"#)).unwrap_err();
/// assert_eq!(err.category(), "limit_exceeded");
/// let err = weft::block_on(engine.eval("var xs = []; for i in 0..1000 { xs = push(xs, i) }")).unwrap_err();
/// assert_eq!(err.category(), "limit_exceeded");
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest script call nesting before `stack_overflow` (default 10,000).
    pub max_call_depth: usize,
    /// Instruction budget of one run: loop iterations plus calls.
    pub max_steps: Option<u64>,
    /// Longest string a script may build, in bytes.
    pub max_string_len: Option<usize>,
    /// Most items in one list or entries in one dict.
    pub max_collection_len: Option<usize>,
    /// Wall-clock time of one run ([`Engine::run_file`], [`Engine::eval`],
    /// [`Engine::call`]), measured from its start.
    pub time_limit: Option<Duration>,
    /// Most tasks alive at once (`spawn`, `parallel_map` items); one more
    /// raises `limit_exceeded`.
    pub max_tasks: Option<usize>,
    /// Most heap bytes a run may add to what the process uses when it
    /// starts. Needs [`crate::CountingAlloc`] as the process's global
    /// allocator (`build` fails otherwise). Growing a string or list with
    /// `+` past it, or a heap over it at a budget check, raises
    /// `limit_exceeded`; the count and the limit are process-wide.
    pub max_memory: Option<usize>,
    /// Most workers one run may create (`spawn_worker`, `sub_agent_run`,
    /// workflow `subagent` nodes, delegated `map` items), running, queued
    /// or finished alike; one more raises `limit_exceeded`. A resumed
    /// keyed worker counts once.
    pub max_run_workers: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_call_depth: 10_000,
            max_steps: None,
            max_string_len: None,
            max_collection_len: None,
            time_limit: None,
            max_tasks: None,
            max_memory: None,
            max_run_workers: None,
        }
    }
}

/// A cloneable in-memory writer for capturing script output
/// (`print`/`println`) with [`EngineBuilder::output`].
///
/// ```
/// let out = weft::OutputBuffer::new();
/// let mut engine = weft::Engine::builder().output(out.clone()).build()?;
/// weft::block_on(engine.eval("println(\"hello\")"))?;
/// assert_eq!(out.contents(), "hello\n");
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct OutputBuffer(Rc<RefCell<Vec<u8>>>);

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }

    /// Everything written so far (invalid UTF-8 replaced).
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }

    /// Empties the buffer and returns what it held.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.borrow_mut());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for OutputBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds an [`Engine`]; get one with [`Engine::builder`].
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let engine = weft::Engine::builder()
///     .state_dir(dir.path())
///     .policy(weft::Policy::read_only())
///     .limits(weft::Limits { max_steps: Some(1_000_000), ..Default::default() })
///     .argv(["--verbose"])
///     .max_workers(4)
///     .build()?;
/// # Ok::<(), weft::Error>(())
/// ```
pub struct EngineBuilder {
    pub(crate) setup: Setup,
    llm_fixture: Option<PathBuf>,
    prices_file: Option<PathBuf>,
}

impl EngineBuilder {
    pub(crate) fn new() -> EngineBuilder {
        EngineBuilder {
            setup: Setup::default(),
            llm_fixture: None,
            prices_file: None,
        }
    }

    /// Where worker snapshots, run records and `events.jsonl` are kept
    /// (workers.md §6). Without one, nothing durable is written and keyed
    /// workers are not resumed.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.setup.agents.state_dir = Some(dir.into());
        self
    }

    /// Whether durable state is written to the state directory (default
    /// true; `WEFT_PERSIST=0` for the CLI).
    pub fn persist(mut self, persist: bool) -> Self {
        self.setup.agents.persist = persist;
        self
    }

    /// Ignore stored durable state: keyed workers start afresh (`--fresh`).
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.setup.agents.fresh = fresh;
        self
    }

    /// The most workers running at once (default 16; at least 1).
    pub fn max_workers(mut self, n: usize) -> Self {
        self.setup.agents.max_workers = Some(n);
        self
    }

    /// The root capability ceiling (default [`Policy::unrestricted`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.setup.policy = policy;
        self
    }

    /// The root budget: what all model calls, workers and workflows of
    /// this engine's runs may spend together (see [`Budget`](crate::Budget)).
    pub fn budget(mut self, budget: crate::Budget) -> Self {
        self.setup.agents.budget = Some(budget.limits());
        self
    }

    /// The price of `model` in US dollars per million input and output
    /// tokens, for `cost_usd` budgets (there are no built-in prices).
    pub fn price(mut self, model: &str, input_per_mtok: f64, output_per_mtok: f64) -> Self {
        self.setup.agents.prices.models.insert(
            model.to_string(),
            weft_agents::budget::prices::Price {
                input_per_mtok,
                output_per_mtok,
            },
        );
        self
    }

    /// Prices from a JSON file `{"MODEL": {"input_per_mtok": N,
    /// "output_per_mtok": N}}` (the CLI's `--prices`); read by
    /// [`build`](Self::build).
    pub fn prices_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.prices_file = Some(path.into());
        self
    }

    /// Whether `cache:` options may answer model calls from the state
    /// directory (default true; the CLI's `--no-cache` turns it off).
    pub fn cache(mut self, on: bool) -> Self {
        self.setup.agents.no_cache = !on;
        self
    }

    /// Bounds on every run (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.setup.limits = limits;
        self
    }

    /// Where `print`/`println` write (default: standard output). Use an
    /// [`OutputBuffer`] to capture it.
    pub fn output(mut self, writer: impl Write + 'static) -> Self {
        self.setup.output = Some(Box::new(writer));
        self
    }

    /// The script's `argv` global.
    pub fn argv<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.setup.argv = args.into_iter().map(Into::into).collect();
        self
    }

    /// Answer every model call from the recorded exchanges in this JSONL
    /// file (`--llm-fixture`); read by [`build`](Self::build).
    pub fn llm_fixture(mut self, path: impl Into<PathBuf>) -> Self {
        self.llm_fixture = Some(path.into());
        self
    }

    /// Append every real provider exchange to this JSONL file
    /// (`--llm-record`).
    pub fn llm_record(mut self, path: impl Into<PathBuf>) -> Self {
        self.setup.agents.record = Some(path.into());
        self
    }

    /// Also print every event to standard error as a JSON line (the CLI's
    /// `--events`).
    pub fn stderr_events(mut self, on: bool) -> Self {
        self.setup.agents.events = on;
        self
    }

    /// Draw a live table of workers on standard error when it is a
    /// terminal (the CLI's `--progress`).
    pub fn progress(mut self, on: bool) -> Self {
        self.setup.agents.progress = on;
        self
    }

    /// Keep every top-level name of a file run with
    /// [`Engine::run_file`] readable afterwards (default true). Off, only
    /// functions and names that functions use are kept, and top-level code
    /// runs slightly faster (`weft run` turns it off).
    pub fn keep_top_level(mut self, keep: bool) -> Self {
        self.setup.keep_top_level = keep;
        self
    }

    /// Checks the settings and makes the engine. Fails (`value_error`) on
    /// an unreadable or malformed fixture or price table, or a zero call
    /// depth.
    pub fn build(mut self) -> Result<Engine> {
        let limits = &self.setup.limits;
        if limits.max_call_depth == 0 {
            return Err(Error::value("Limits::max_call_depth must be at least 1"));
        }
        if limits.max_memory.is_some() && !weft_vm::memory::installed() {
            return Err(Error::value(
                "Limits::max_memory needs weft::CountingAlloc as the global allocator \
                 (and CountingAlloc::mark_installed called)",
            ));
        }
        if let Some(path) = &self.llm_fixture {
            let fixture = weft_agents::load_fixture(path).map_err(Error::value)?;
            self.setup.agents.fixture = Some(fixture);
        }
        if let Some(path) = &self.prices_file {
            let show = path.display();
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::value(format!("cannot read price table {show}: {e}")))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::value(format!("price table {show}: {e}")))?;
            let table = weft_agents::budget::PriceTable::from_json(&json)
                .map_err(|e| Error::value(format!("price table {show}: {e}")))?;
            self.setup.agents.prices.models.extend(table.models);
        }
        Ok(Engine::from_setup(self.setup))
    }
}
