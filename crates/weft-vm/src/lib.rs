//! Weft's compiler and virtual machine.
//!
//! - [`compiler`]: AST → bytecode ([`bytecode::FnProto`]).
//! - [`vm`]: the dispatch loop, frames, handlers; async at builtin awaits.
//! - [`value`]: runtime values (`Rc`-based, copy-on-write collections).
//! - [`builtins`]: the core library, one file per family.
//! - [`runtime`]: a program run — modules, imports, globals — and the
//!   entry points used by the CLI.

pub mod budget;
pub mod builtins;
pub mod bytecode;
pub mod compiler;
pub mod confine;
pub mod context;
pub mod disasm;
pub mod error;
pub mod interrupt;
pub mod memory;
pub mod policy;
pub mod runtime;
pub mod stdlib;
pub mod value;
pub mod vm;

pub use error::{RtError, RtResult};
pub use runtime::{ReplOutcome, Runtime, RuntimeOptions};
pub use value::Value;
pub use weft_syntax::{Diagnostic, SourceFile};
