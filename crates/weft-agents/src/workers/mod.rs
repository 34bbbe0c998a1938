//! Delegated workers (workers.md): a script hands work to a child agent
//! loop that runs as a `spawn_local` task on its own `Vm`, with a narrowed
//! capability policy, a carry policy and an execution profile; it can be
//! waited for, given more input, cancelled, and resumed after the process
//! died (snapshots and durable keys through [`crate::store`]).
//!
//! - [`options`]: the options, parsed once into `WorkerOptions`;
//! - [`registry`]: the per-run registry, worker records, handles;
//! - [`run`]: spawning, the queue, one cycle, finishing and cancelling;
//! - [`events`]: events and snapshots;
//! - [`durable`]: keys, checkpoints, resume;
//! - [`budget`]: the worker's budget scope across cycles;
//! - [`builtins`]: the script-facing builtins.

pub mod budget;
pub mod builtins;
pub mod durable;
mod envelope;
pub mod events;
mod hooks;
pub mod modes;
pub mod options;
pub mod progress;
pub mod registry;
pub mod replay;
pub mod run;
mod shutdown;

pub use registry::{Registry, Status, Worker};

#[cfg(test)]
mod tests;
