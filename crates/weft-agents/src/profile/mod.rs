//! Carry policies and execution profiles of delegated workers
//! (workers.md §4–§5) — being filled in.
