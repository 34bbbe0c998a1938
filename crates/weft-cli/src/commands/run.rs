//! `weft run FILE [-- ARGS...]`: runs a script on the VM thread.
//!
//! The run flags of embedding.md §1 are parsed once, here, into a typed
//! [`RunConfig`]. Flags the VM cannot honour yet are refused with a usage
//! error rather than silently ignored; see [`RunConfig::unavailable_flags`].

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::PathBuf;

use super::{check_readable, run_signals, usage_error, vm_thread_failure, Exit};
use crate::capability::Capability;
use crate::cli::RunArgs;
use crate::vm_thread::block_on_vm_thread;

/// The state directory used when neither `WEFT_STATE_DIR` nor
/// `--state-dir` is given (workers.md §6).
pub const DEFAULT_STATE_DIR: &str = ".weft";

/// `WEFT_PERSIST=0` (or `false`/`off`/`no`) turns durable worker state
/// off: no snapshots, no `events.jsonl`, no resume by key.
pub const PERSIST_ENV: &str = "WEFT_PERSIST";

/// Whether durable state is written, from the value of [`PERSIST_ENV`].
pub fn persist_enabled(v: Option<OsString>) -> bool {
    !matches!(
        v.as_deref()
            .and_then(|s| s.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("0" | "false" | "off" | "no")
    )
}

/// Everything `weft run` was asked to do, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    pub file: PathBuf,
    /// The strings after `--`, bound to the script's `argv`.
    pub argv: Vec<String>,
    /// `WEFT_STATE_DIR`, else `--state-dir`, else `.weft/` (workers.md §6).
    pub state_dir: PathBuf,
    /// `--max-steps`: the VM's instruction budget (loop iterations and calls).
    pub max_steps: Option<NonZeroU64>,
    /// `--max-string-len`, `--max-collection-len`, `--max-tasks` (each
    /// with a default), `--time-limit-ms`.
    pub max_string_len: usize,
    pub max_collection_len: usize,
    pub max_tasks: usize,
    pub max_run_workers: usize,
    pub max_memory: Option<NonZeroUsize>,
    pub time_limit_ms: Option<NonZeroU64>,
    pub max_workers: Option<NonZeroU32>,
    pub policy: Option<PathBuf>,
    pub fresh: bool,
    /// `--deny` capabilities, each once, in the order first given.
    pub deny: Vec<Capability>,
    pub llm_fixture: Option<PathBuf>,
    pub llm_record: Option<PathBuf>,
    pub events: bool,
    pub progress: bool,
    /// `--budget` as given (parsed by the engine builder).
    pub budget: Option<String>,
    pub prices: Option<PathBuf>,
    /// `--no-cache`.
    pub no_cache: bool,
}

impl RunConfig {
    /// Builds the configuration from parsed flags and the value of
    /// `WEFT_STATE_DIR` (passed in so tests need not touch the environment).
    pub fn new(args: RunArgs, env_state_dir: Option<OsString>) -> RunConfig {
        let state_dir = env_state_dir
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or(args.state_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
        let mut deny = Vec::new();
        for cap in args.deny {
            if !deny.contains(&cap) {
                deny.push(cap);
            }
        }
        RunConfig {
            file: args.file,
            argv: args.args,
            state_dir,
            max_steps: args.max_steps,
            max_string_len: args.max_string_len,
            max_collection_len: args.max_collection_len,
            max_tasks: args.max_tasks,
            max_run_workers: args.max_run_workers,
            max_memory: args.max_memory,
            time_limit_ms: args.time_limit_ms,
            max_workers: args.max_workers,
            policy: args.policy,
            fresh: args.fresh,
            deny,
            llm_fixture: args.llm_fixture,
            llm_record: args.llm_record,
            events: args.events,
            progress: args.progress,
            budget: args.budget,
            prices: args.prices,
            no_cache: args.no_cache,
        }
    }

    /// The flags given that this build cannot honour yet. Remove a flag from
    /// here when the engine gains the matching setting.
    pub fn unavailable_flags(&self) -> Vec<&'static str> {
        let given: [(&'static str, bool); 0] = [];
        given
            .into_iter()
            .filter_map(|(flag, set)| set.then_some(flag))
            .collect()
    }

    /// The `--max-steps`, `--max-string-len`, `--max-collection-len` and
    /// `--time-limit-ms` bounds.
    pub fn limits(&self) -> weft::Limits {
        weft::Limits {
            max_steps: self.max_steps.map(NonZeroU64::get),
            max_string_len: Some(self.max_string_len),
            max_collection_len: Some(self.max_collection_len),
            max_tasks: Some(self.max_tasks),
            max_run_workers: Some(self.max_run_workers),
            max_memory: self.max_memory.map(NonZeroUsize::get),
            time_limit: self
                .time_limit_ms
                .map(|ms| std::time::Duration::from_millis(ms.get())),
            ..weft::Limits::default()
        }
    }

    /// The engine for this run. Called on the VM thread: the builder
    /// holds non-`Send` settings. An unreadable or malformed
    /// `--llm-fixture` or `--prices`, or a malformed `--budget`, fails here.
    pub fn engine(&self, policy: weft::Policy) -> weft::Result<weft::Engine> {
        let mut builder = weft::Engine::builder()
            .argv(self.argv.clone())
            .policy(policy)
            .limits(self.limits())
            .keep_top_level(false)
            .output(Buffering::for_stdout(std::io::stdout().is_terminal()).wrap(std::io::stdout()))
            .state_dir(self.state_dir.clone())
            .persist(persist_enabled(std::env::var_os(PERSIST_ENV)))
            .fresh(self.fresh)
            .stderr_events(self.events)
            .progress(self.progress)
            .cache(!self.no_cache)
            .interactive_approvals(true);
        if let Some(n) = self.max_workers {
            builder = builder.max_workers(n.get() as usize);
        }
        if let Some(path) = &self.llm_fixture {
            builder = builder.llm_fixture(path);
        }
        if let Some(path) = &self.llm_record {
            builder = builder.llm_record(path);
        }
        if let Some(spec) = &self.budget {
            builder = builder.budget(weft::Budget::parse(spec)?);
        }
        if let Some(path) = &self.prices {
            builder = builder.prices_file(path);
        }
        builder.build()
    }
}

/// How the script's output is buffered: by line on a terminal (a
/// `println` shows at once, even before a long `sleep`), in blocks
/// otherwise (pipes and files, where throughput matters). Either way it is
/// flushed before `weft run` exits, on every path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffering {
    Line,
    Block,
}

impl Buffering {
    /// The buffering for stdout, given whether it is a terminal.
    pub fn for_stdout(on_terminal: bool) -> Buffering {
        if on_terminal {
            Buffering::Line
        } else {
            Buffering::Block
        }
    }

    /// `sink` with this buffering.
    pub fn wrap(self, sink: impl Write + 'static) -> Box<dyn Write> {
        match self {
            Buffering::Line => Box::new(std::io::LineWriter::new(sink)),
            Buffering::Block => Box::new(std::io::BufWriter::new(sink)),
        }
    }
}

/// Why a run failed.
enum Failed {
    /// The engine could not be configured (exit 2).
    Usage(String),
    /// The script failed (exit 1); the rendered diagnostics.
    Script(String),
    /// Stopped by a signal: the exit status and the signal's name.
    Signal(u8, &'static str),
}

/// Runs `weft run`.
pub fn execute(args: RunArgs) -> Exit {
    let config = RunConfig::new(args, std::env::var_os("WEFT_STATE_DIR"));
    let unavailable = config.unavailable_flags();
    if !unavailable.is_empty() {
        for flag in unavailable {
            eprintln!("error: `{flag}` is not available yet in this build");
        }
        return Exit::Usage;
    }
    if let Err(message) = check_readable(&config.file) {
        return usage_error(message);
    }
    if let Err(message) = weft::tooling::check_crash_hook_env() {
        return usage_error(message);
    }
    let root_policy = match super::policy::root_policy(config.policy.as_deref(), &config.deny) {
        Ok(p) => p,
        Err(message) => return usage_error(message),
    };
    let outcome = block_on_vm_thread(move || async move {
        let mut engine = config
            .engine(root_policy)
            .map_err(|e| Failed::Usage(e.message().to_string()))?;
        let handle = engine.interrupt_handle();
        let signals = match run_signals::watch(move || handle.interrupt()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("warning: Ctrl-C and SIGTERM cannot stop the run cleanly: {e}");
                None
            }
        };
        let result = engine.run_file(&config.file).await;
        // The program-end hooks have run: interrupted keyed workers and
        // runs are durable now, and the script's output is flushed.
        if let Some(status) = signals.as_ref().and_then(|s| s.exit_status()) {
            let name = signals.as_ref().map_or("SIGINT", |s| s.name());
            return Err(Failed::Signal(status, name));
        }
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(Failed::Script(e.to_string())),
        }
    });
    // Output of `print` without a newline must not be lost.
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(Ok(())) => Exit::Success,
        Ok(Err(Failed::Signal(status, name))) => {
            eprintln!(
                "weft: interrupted by {name}; keyed workers and runs still running were saved as `interrupted` (run again to resume them)"
            );
            Exit::Signal(status)
        }
        Ok(Err(Failed::Usage(message))) => usage_error(message),
        Ok(Err(Failed::Script(rendered))) => {
            eprintln!("{rendered}");
            Exit::Failure
        }
        Err(e) => vm_thread_failure(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn config(argv: &[&str], env: Option<&str>) -> RunConfig {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        RunConfig::new(*args, env.map(OsString::from))
    }

    #[test]
    fn state_dir_precedence() {
        assert_eq!(
            config(&["weft", "run", "a.wf"], None).state_dir,
            PathBuf::from(".weft")
        );
        let flag = ["weft", "run", "--state-dir", "s", "a.wf"];
        assert_eq!(config(&flag, None).state_dir, PathBuf::from("s"));
        assert_eq!(config(&flag, Some("/e")).state_dir, PathBuf::from("/e"));
        assert_eq!(config(&flag, Some("")).state_dir, PathBuf::from("s"));
    }

    /// A sink whose content the test can read while the writer holds it.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn stdout_is_line_buffered_only_on_a_terminal() {
        assert_eq!(Buffering::for_stdout(true), Buffering::Line);
        assert_eq!(Buffering::for_stdout(false), Buffering::Block);
        let sink = Shared::default();
        let mut w = Buffering::Line.wrap(sink.clone());
        w.write_all(b"before\npart").unwrap();
        assert_eq!(sink.0.borrow().as_slice(), b"before\n");
        let sink = Shared::default();
        let mut w = Buffering::Block.wrap(sink.clone());
        w.write_all(b"before\npart").unwrap();
        assert!(sink.0.borrow().is_empty());
        w.flush().unwrap();
        assert_eq!(sink.0.borrow().as_slice(), b"before\npart");
    }

    #[test]
    fn persist_env_values() {
        assert!(persist_enabled(None));
        assert!(persist_enabled(Some("1".into())));
        assert!(!persist_enabled(Some("0".into())));
        assert!(!persist_enabled(Some("OFF".into())));
    }

    #[test]
    fn parsed_only_flags_are_available() {
        let c = config(
            &["weft", "run", "--max-steps", "5", "a.wf", "--", "x"],
            None,
        );
        assert!(c.unavailable_flags().is_empty());
        assert_eq!(c.max_steps, NonZeroU64::new(5));
        assert_eq!(c.argv, ["x"]);
    }

    #[test]
    fn limit_flags_reach_the_runtime_options() {
        let c = config(
            &[
                "weft",
                "run",
                "--max-string-len",
                "100",
                "--max-collection-len",
                "7",
                "--time-limit-ms",
                "250",
                "a.wf",
            ],
            None,
        );
        let o = c.limits();
        assert_eq!(o.max_string_len, Some(100));
        assert_eq!(o.max_collection_len, Some(7));
        assert_eq!(o.time_limit, Some(std::time::Duration::from_millis(250)));
    }

    #[test]
    fn size_and_task_limits_have_safe_defaults() {
        let o = config(&["weft", "run", "a.wf"], None).limits();
        assert_eq!(o.max_string_len, Some(crate::cli::DEFAULT_MAX_STRING_LEN));
        assert_eq!(
            o.max_collection_len,
            Some(crate::cli::DEFAULT_MAX_COLLECTION_LEN)
        );
        assert_eq!(o.max_tasks, Some(crate::cli::DEFAULT_MAX_TASKS));
        let o = config(&["weft", "run", "--max-tasks", "3", "a.wf"], None).limits();
        assert_eq!(o.max_tasks, Some(3));
        let o = config(&["weft", "run", "a.wf"], None).limits();
        assert_eq!(o.max_run_workers, Some(crate::cli::DEFAULT_MAX_RUN_WORKERS));
        let o = config(&["weft", "run", "--max-run-workers", "2", "a.wf"], None).limits();
        assert_eq!(o.max_run_workers, Some(2));
    }

    #[test]
    fn worker_flags_are_available() {
        let c = config(
            &[
                "weft",
                "run",
                "--events",
                "--deny",
                "network",
                "--deny",
                "network",
                "--llm-fixture",
                "f.jsonl",
                "--llm-record",
                "r.jsonl",
                "a.wf",
            ],
            None,
        );
        assert_eq!(c.deny, [Capability::Network]);
        assert!(c.unavailable_flags().is_empty());
        assert!(c.events);
    }
}
