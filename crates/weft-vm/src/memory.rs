//! Heap accounting for `max_memory`: [`CountingAlloc`] wraps the global
//! allocator (the `weft` binary wraps mimalloc) and counts live heap bytes.
//! While a limit is set, growing a string, list or dict (`+`, `+=`) past it
//! and a heap over it at a budget check are a catchable `limit_exceeded`;
//! as a last resort the allocator refuses allocations past twice the limit
//! plus 64 MiB (a refusal outside the `try_reserve` growth paths aborts, so
//! the checked limit keeps well below it). The count is process-wide — one allocator serves the process — so
//! a host sets the limit for its one running script (`Runtime` does, from
//! `RuntimeOptions::max_memory`, relative to the heap in use when the run
//! starts); its own allocations during the run count too.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static HARD_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts live bytes and enforces [`set_limit`]:
/// `#[global_allocator] static A: CountingAlloc<MiMalloc> = CountingAlloc(MiMalloc);`
pub struct CountingAlloc<A>(pub A);

impl<A> CountingAlloc<A> {
    /// Would `more` bytes pass the limit? (Allocation then fails.)
    #[inline]
    fn refuses(&self, more: usize) -> bool {
        let limit = HARD_LIMIT.load(Relaxed);
        limit != usize::MAX && LIVE.load(Relaxed).saturating_add(more) > limit
    }
}

// SAFETY: every call is forwarded to the wrapped allocator with the same
// arguments; the counters never affect the memory handed out.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.refuses(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as given.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.refuses(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as given.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { self.0.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && self.refuses(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded as given.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }
}

impl<A> CountingAlloc<A> {
    /// Marks the counting allocator as installed; the `weft` binary calls
    /// it first thing (a limit without it could not be enforced).
    pub fn mark_installed(&self) {
        INSTALLED.store(true, Relaxed);
    }
}

/// Whether a [`CountingAlloc`] is the global allocator (see
/// [`CountingAlloc::mark_installed`]).
pub fn installed() -> bool {
    INSTALLED.load(Relaxed)
}

/// Live heap bytes allocated through [`CountingAlloc`].
pub fn live_bytes() -> usize {
    LIVE.load(Relaxed)
}

/// Sets the checked heap limit in bytes (`None`: no limit); the allocator
/// refuses past twice it plus 64 MiB.
pub fn set_limit(limit: Option<usize>) {
    LIMIT.store(limit.unwrap_or(usize::MAX), Relaxed);
    let hard = limit.map_or(usize::MAX, |l| l.saturating_mul(2).saturating_add(64 << 20));
    HARD_LIMIT.store(hard, Relaxed);
}

/// Would `more` bytes take the heap past the limit? (The growth paths ask
/// before they allocate.)
#[inline]
pub fn would_exceed(more: usize) -> bool {
    let limit = LIMIT.load(Relaxed);
    limit != usize::MAX && live_bytes().saturating_add(more) > limit
}

/// The current limit, if any.
pub fn limit() -> Option<usize> {
    Some(LIMIT.load(Relaxed)).filter(|&l| l != usize::MAX)
}

/// The budget check's view: a heap over the limit is `limit_exceeded`.
pub fn check_heap() -> crate::RtResult<()> {
    let Some(limit) = limit() else {
        return Ok(());
    };
    let live = live_bytes();
    if live > limit {
        return Err(crate::RtError::new(
            "limit_exceeded",
            format!("heap use of {live} bytes exceeds max_memory (limit at {limit} bytes of heap)"),
        ));
    }
    Ok(())
}
