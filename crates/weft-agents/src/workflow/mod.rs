//! Workflow graphs (workflows.md): a graph of nodes — `stage`, `subagent`,
//! `verify`, `condition`, `code`, `map`, `join`, `approval` — joined by branch-labelled
//! edges, run by a scheduler that checkpoints a run record after every
//! stage, so a run survives crashes (`key`, `resume`) and can be replayed
//! without calling models, tools or commands (`replay`).
//!
//! - [`graph`] / [`nodes`] / [`template`]: building and validating;
//! - [`exec`] (+ [`subagent`], [`map`], [`approval`]): running one node;
//! - [`schedule`]: the scheduler; [`run`]: `workflow_execute`;
//! - [`record`] / [`store`]: run records; [`replay`]; [`events`];
//! - [`builtins`]: the script-facing builtins.

pub mod approval;
pub mod builtins;
pub mod diagram;
pub mod events;
pub mod exec;
pub mod graph;
pub mod map;
pub mod nodes;
pub mod record;
pub mod replay;
pub mod report;
pub mod run;
pub mod schedule;
pub mod state;
pub mod store;
pub mod subagent;
pub mod template;

#[cfg(test)]
mod tests;
