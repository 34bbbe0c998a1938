//! How a host (the CLI, an embedder) configures the agent layer of one
//! program run before it starts: `--llm-fixture` entries and the
//! `--llm-record` file.

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
}

/// Applies `config` to the run of `program`.
pub fn configure(program: &Program, config: AgentConfig) {
    let state = program.ext::<AgentState>();
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
}
