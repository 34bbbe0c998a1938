//! How a host (the CLI, an embedder) configures the agent layer of one
//! program run before it starts: `--llm-fixture` entries, the
//! `--llm-record` file, the state directory, worker settings, the root
//! budget and the price table.

use std::path::PathBuf;

use weft_vm::vm::Program;

use crate::llm::fixture::Fixture;
use crate::llm::state::Recorder;
use crate::state::AgentState;

pub use crate::llm::fixture::load_fixture;

/// Agent-layer settings of one run.
#[derive(Debug, Clone, Default)]
pub struct AgentConfig {
    /// Answer every model call from these entries (mock semantics),
    /// whatever the provider; see [`crate::llm::fixture`].
    pub fixture: Option<Fixture>,
    /// Append every real provider exchange to this JSONL file.
    pub record: Option<PathBuf>,
    /// Where worker snapshots, key index and `events.jsonl` go
    /// (workers.md §6); `None` = no durable state at all.
    pub state_dir: Option<PathBuf>,
    /// Write durable state (snapshots, events) to `state_dir`. When false,
    /// keys are not resumed and nothing is written.
    pub persist: bool,
    /// Program-wide limit of running workers (`--max-workers`).
    pub max_workers: Option<usize>,
    /// Most workers the run may create in all (`Limits::max_run_workers`).
    pub max_run_workers: Option<usize>,
    /// Ignore stored durable state (`--fresh`).
    pub fresh: bool,
    /// Worker events as JSON lines on stderr (`--events`).
    pub events: bool,
    /// A live table of workers on stderr when it is a terminal
    /// (`--progress`).
    pub progress: bool,
    /// The root budget (`--budget`).
    pub budget: Option<weft_vm::budget::BudgetLimits>,
    /// Per-model prices for `cost_usd` budgets (`--prices`).
    pub prices: crate::budget::PriceTable,
    /// Bypass the result cache (`--no-cache`).
    pub no_cache: bool,
    /// A terminal prompt may answer `request_approval` (`weft run`, the
    /// REPL) when stdin and stderr are terminals.
    pub interactive_approvals: bool,
}

/// Applies `config` to the run of `program`.
pub fn configure(program: &Program, config: AgentConfig) {
    let state = program.ext::<AgentState>();
    crate::approval::gate::install(program);
    if let Some(fixture) = config.fixture {
        let mut mock = state.llm.mock.borrow_mut();
        mock.fixture = true;
        mock.scripted = true;
        for entry in fixture.entries {
            mock.push(entry);
        }
    }
    if let Some(path) = config.record {
        *state.llm.record.borrow_mut() = Some(Recorder::new(path));
    }
    let workers = &state.workers;
    if let Some(dir) = config.state_dir {
        *workers.store.borrow_mut() = Some(crate::store::Store::new(dir, config.persist));
    }
    if let Some(n) = config.max_workers {
        workers.max_concurrent.set(n.max(1));
    }
    workers.max_created.set(config.max_run_workers);
    if let Some(limits) = config.budget {
        *state.budget.root.borrow_mut() = Some(weft_vm::budget::Budget::root(limits));
    }
    *state.budget.prices.borrow_mut() = config.prices;
    state.cache.disabled.set(config.no_cache);
    state
        .approvals
        .interactive
        .set(config.interactive_approvals);
    workers.fresh.set(config.fresh);
    workers.sinks.stderr.set(config.events);
    if config.progress {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            crate::workers::progress::start(program);
        }
    }
}
