//! Embed Weft — a scripting language for orchestrating LLM agents and
//! workers — in a Rust program. This crate is the one dependency a host
//! needs (embedding.md §4):
//!
//! ```
//! # fn main() -> weft::Result<()> {
//! let out = weft::OutputBuffer::new();
//! let mut engine = weft::Engine::builder()
//!     .policy(weft::Policy::read_only())
//!     .limits(weft::Limits { max_steps: Some(10_000_000), ..Default::default() })
//!     .output(out.clone())
//!     .build()?;
//! engine.register_fn("lookup_user", |id: i64| -> weft::Result<String> { Ok(format!("user{id}")) })?;
//! let v = engine.eval_blocking(r#"println(lookup_user(7)); 1 + 2"#)?;
//! assert_eq!(v.as_int(), Some(3));
//! assert_eq!(out.contents(), "user7\n");
//! # Ok(())
//! # }
//! ```
//!
//! - [`Engine`] / [`EngineBuilder`]: configure, register native functions
//!   and providers, subscribe to events, run files, evaluate text, call
//!   script functions.
//! - [`Value`] with [`FromValue`] / [`IntoValue`]: values and conversions.
//! - [`Error`]: category, message, span; renders like the CLI.
//! - [`Limits`], [`Policy`], [`Capability`]: what a script may do.
//! - [`llm`]: the [`LlmProvider`] trait and chat types.
//! - [`Event`]: worker and workflow events.
//! - [`tooling`]: what the `weft` command itself needs (checks,
//!   disassembly, REPL support, worker snapshots).
//! - [`guide`]: the embedding chapter of the user guide (its examples are
//!   tested).
//!
//! Engines and values are `Rc`-based, hence neither `Send` nor `Sync`:
//! keep each engine on one thread (the compiler enforces it, with one
//! error that names the engine or value: "Weft engines and values are
//! bound to the thread that created them"). None of these compile:
//!
//! ```compile_fail,E0277
//! // An engine cannot move to another thread.
//! let engine = weft::Engine::builder().build().unwrap();
//! std::thread::spawn(move || drop(engine));
//! ```
//!
//! ```compile_fail,E0277
//! // An engine cannot be shared between threads either.
//! fn assert_sync<T: Sync>(_: &T) {}
//! let engine = weft::Engine::builder().build().unwrap();
//! assert_sync(&engine);
//! ```
//!
//! ```compile_fail,E0277
//! // A weft::Value cannot be sent to another thread.
//! let value = weft::Value::from("text");
//! let (tx, rx) = std::sync::mpsc::channel::<weft::Value>();
//! std::thread::spawn(move || tx.send(value).unwrap());
//! drop(rx);
//! ```
//!
//! (Moving data between threads goes through `serde_json::Value` or plain
//! Rust types.)

#![warn(missing_docs)]

mod approval;
mod budget;
mod builder;
mod engine;
mod error;
mod event;
pub mod llm;
mod local;
pub mod mcp;
mod native;
mod policy;
pub mod tooling;
mod value;

use std::future::Future;

pub use approval::{Approval, ApprovalRequest};
pub use budget::Budget;
pub use builder::{EngineBuilder, Limits, OutputBuffer};
pub use engine::{Engine, InterruptHandle, IntoArgs};
pub use error::{Error, Result, SourceSpan};
pub use event::Event;
pub use llm::LlmProvider;
pub use native::{AsyncNativeFn, LocalFuture, NativeFn, Registration, Signature};
pub use policy::{Capability, Policy};
pub use value::{FromValue, IntoValue, TypeMismatch, Value};
/// The counting global allocator that [`Limits::max_memory`] needs.
pub use weft_vm::memory::CountingAlloc;

/// Runs a future to completion on a new current-thread tokio runtime,
/// inside a `LocalSet`: the way to drive an [`Engine`]'s async methods
/// from synchronous code. Fails (instead of panicking) when called from
/// inside a tokio runtime, where the future should be awaited instead.
///
/// ```
/// let mut engine = weft::Engine::builder().build()?;
/// let v = weft::block_on(engine.eval("2 * 21"))?;
/// assert_eq!(v.as_int(), Some(42));
/// # Ok::<(), weft::Error>(())
/// ```
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            "runtime",
            "weft::block_on was called inside a tokio runtime; await the future instead",
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new("runtime", format!("cannot start a tokio runtime: {e}")))?;
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// The embedding chapter of the Weft user guide
/// (`docs/guide/embedding.md`). Every Rust example in it is compiled and
/// run as a doctest.
#[doc = include_str!("../../../docs/guide/embedding.md")]
pub mod guide {}
