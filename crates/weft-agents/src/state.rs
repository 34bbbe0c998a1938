//! Per-program-run agent state, kept in the VM's `Program` extension map
//! (`vm.program.ext::<AgentState>()`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::llm::Provider;

/// Agent-layer state of one program run.
#[derive(Default)]
pub struct AgentState {
    /// Providers registered by the host, by name (in addition to the
    /// built-in `mock`, `openai`, `anthropic`).
    pub providers: RefCell<HashMap<String, Rc<dyn Provider>>>,
    /// `agent_loop` sessions (`session_id` → transcript) of this run.
    pub sessions: RefCell<HashMap<String, crate::transcript::Transcript>>,
    /// The LLM layer's run state: the mock's queue and call log, fixture
    /// and record settings, the HTTP client (see [`crate::llm::state`]).
    pub llm: crate::llm::state::LlmState,
    /// Delegated workers of this run (workers.md).
    pub workers: crate::workers::Registry,
    /// The root budget and the price table (see [`crate::budget`]).
    pub budget: crate::budget::BudgetState,
    /// Result-cache settings (`--no-cache`).
    pub cache: crate::cache::CacheState,
    /// Approval gates: the host's callback, whether a terminal may answer.
    pub approvals: crate::approval::ApprovalState,
    /// The cluster `placement: "cluster"` workers run on, if configured.
    pub cluster: crate::cluster::remote::ClusterLink,
    /// On a `weft host`: the cluster job this engine runs (its worker's
    /// checkpoints go to the cluster).
    pub cluster_job: crate::cluster::checkpoints::JobLink,
    /// Whether copying a run record to the cluster failed once already
    /// (`cluster/run_mirror.rs` warns once per run).
    pub cluster_runs_warned: std::cell::Cell<bool>,
}
