//! The one module that writes durable state under the state directory
//! (worker snapshots, run records, events) — being filled in.
