//! Weft's agent runtime, registered into the VM as builtins: LLM providers
//! (`mock`, `openai`, `anthropic`), `llm_call`, tools, `agent_loop`,
//! transcripts and sessions (agents.md).
//!
//! Per-run state (the mock's queue, sessions, registered providers) lives in
//! [`state::AgentState`], stored in the VM's `Program` extension map — never
//! in statics or thread-locals.

pub mod agent_loop;
pub mod approval;
pub mod budget;
pub mod cache;
pub mod cluster;
pub mod config;
pub mod llm;
pub mod llm_call;
pub mod mcp;
pub mod mock_builtins;
pub mod profile;
pub mod records;
pub mod state;
pub mod store;
pub mod tools;
pub mod transcript;
pub mod workers;
pub mod workflow;

use weft_vm::builtins::BuiltinDef;

pub use config::{configure, load_fixture, AgentConfig};

/// Every builtin this crate adds to the VM.
pub fn builtins() -> Vec<BuiltinDef> {
    let mut all = Vec::new();
    all.extend(llm_call::defs());
    all.extend(budget::defs());
    all.extend(approval::defs());
    all.extend(tools::defs());
    all.extend(agent_loop::defs());
    all.extend(transcript::defs());
    all.extend(workers::builtins::defs());
    all.extend(workflow::builtins::defs());
    all.extend(mcp::builtins::defs());
    all
}
