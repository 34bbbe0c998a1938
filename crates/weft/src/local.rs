//! [`Local<T>`]: how engines and values are kept on their thread.
//!
//! `Engine` and `Value` hold `Rc`-based VM state, which is neither `Send`
//! nor `Sync`. Left alone, the compiler would reject sending one to
//! another thread with a separate error for every `Rc` buried in the VM
//! (dozens, naming internal types). Their internals are wrapped in
//! `Local`, which is also never `Send` or `Sync`, but stops that search:
//! the error names the facade type and says why, once.

use std::ops::{Deref, DerefMut};

/// Implemented by no type: the condition under which a [`Local`] would be
/// `Send` or `Sync`, which therefore never holds.
#[diagnostic::on_unimplemented(
    message = "Weft engines and values are bound to the thread that created them",
    label = "this holds an engine or value (`Rc`-based, not `Send`/`Sync`)",
    note = "convert values to `serde_json::Value` or Rust types to move data between threads"
)]
pub trait ThreadBound {}

/// A value that stays on its thread (see the module docs).
pub struct Local<T>(T);

// SAFETY: these impls never apply: their condition, `T: ThreadBound`,
// holds for no type (the trait has no implementations and is not
// implementable outside this crate's control). They exist only so that the
// compiler reports the unmet `ThreadBound` instead of every `Rc` inside `T`.
unsafe impl<T: ThreadBound> Send for Local<T> {}
// SAFETY: as above, never applies.
unsafe impl<T: ThreadBound> Sync for Local<T> {}

impl<T> Local<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Local<T> {
        Local(value)
    }

    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Local<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Local<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Clone> Clone for Local<T> {
    fn clone(&self) -> Local<T> {
        Local(self.0.clone())
    }
}

impl<T: Default> Default for Local<T> {
    fn default() -> Local<T> {
        Local(T::default())
    }
}
