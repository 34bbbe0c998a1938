//! Where the VM runs: a dedicated thread with a large stack (so deeply
//! nested input cannot overflow the parser, compiler or VM), driving a tokio
//! current-thread runtime inside a `LocalSet` (architecture.md, "The flow of
//! one program").
//!
//! Only `Send` data crosses into the thread; the `Runtime` itself (which is
//! `Rc`-based and not `Send`) is created and dropped on it.

use std::future::Future;
use std::io;
use std::thread;

/// Stack size of the VM thread. Only address space is reserved up front;
/// pages are committed as the stack actually grows.
pub const VM_STACK_SIZE: usize = 256 * 1024 * 1024;

/// Why the VM thread could not produce a value.
#[derive(Debug)]
pub enum VmThreadError {
    /// The thread or the tokio runtime could not be started.
    Start(io::Error),
    /// The VM panicked (a bug in Weft; the panic message is already on stderr).
    Panicked,
}

impl std::fmt::Display for VmThreadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmThreadError::Start(e) => write!(f, "could not start the Weft VM: {e}"),
            VmThreadError::Panicked => {
                f.write_str("internal error: the Weft VM panicked (this is a bug in Weft)")
            }
        }
    }
}

/// Runs `job` on the big-stack VM thread and returns its result.
pub fn on_vm_thread<T, F>(job: F) -> Result<T, VmThreadError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let handle = thread::Builder::new()
        .name("weft-vm".into())
        .stack_size(VM_STACK_SIZE)
        .spawn(job)
        .map_err(VmThreadError::Start)?;
    handle.join().map_err(|_| VmThreadError::Panicked)
}

/// Runs the future built by `make` to completion on the VM thread, inside a
/// tokio current-thread runtime and a `LocalSet` (so the VM can
/// `spawn_local` its tasks). `make` runs on the VM thread, so the future
/// need not be `Send`.
pub fn block_on_vm_thread<T, Fut, M>(make: M) -> Result<T, VmThreadError>
where
    T: Send + 'static,
    Fut: Future<Output = T> + 'static,
    M: FnOnce() -> Fut + Send + 'static,
{
    on_vm_thread(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let local = tokio::task::LocalSet::new();
        Ok(local.block_on(&runtime, make()))
    })
    .and_then(|started: io::Result<T>| started.map_err(VmThreadError::Start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(n: u64) -> u64 {
        // Enough stack per frame that 200k frames overflow the default 8 MiB.
        let pad = std::hint::black_box([n; 32]);
        if n == 0 {
            0
        } else {
            1 + depth(n - 1) + pad[0] - n
        }
    }

    #[test]
    fn deep_recursion_fits_on_the_vm_stack() {
        assert_eq!(on_vm_thread(|| depth(200_000)).unwrap(), 200_000);
    }

    #[test]
    fn local_tasks_can_be_spawned() {
        let v = block_on_vm_thread(|| async {
            let rc = std::rc::Rc::new(20);
            let task = tokio::task::spawn_local(async move { *rc + 1 });
            task.await.unwrap() * 2
        })
        .unwrap();
        assert_eq!(v, 42);
    }

    #[test]
    fn a_panic_is_reported_not_propagated() {
        // (The panic message appears in the test output; that is expected.)
        let r = on_vm_thread(|| panic!("deliberate panic in a test"));
        assert!(matches!(r, Err(VmThreadError::Panicked)));
    }
}
