//! Shared setup of the fuzz targets: the sandboxed engine every
//! script-running target uses (no capability, persistence off, tight
//! limits), and the invariant every target checks (errors render).

use std::time::Duration;

/// Limits small enough that any input finishes in milliseconds.
pub fn tight_limits() -> weft::Limits {
    weft::Limits {
        max_call_depth: 200,
        max_steps: Some(20_000),
        max_string_len: Some(1 << 16),
        max_collection_len: Some(4_096),
        time_limit: Some(Duration::from_millis(200)),
        ..Default::default()
    }
}

/// A fresh engine that can touch nothing outside the process: every
/// capability denied (no files, processes, network, models or workers),
/// no durable state, output discarded.
pub fn sandboxed_engine() -> weft::Engine {
    let mut policy = weft::Policy::unrestricted();
    for cap in weft::Capability::ALL {
        policy = policy.deny(cap);
    }
    weft::Engine::builder()
        .policy(policy)
        .limits(tight_limits())
        .persist(false)
        .output(std::io::sink())
        .build()
        .expect("the fuzz engine's settings are valid")
}

/// Every error must render (the CLI and hosts print them) without
/// panicking, and must name a category.
pub fn check_error(e: &weft::Error) {
    assert!(!e.category().is_empty());
    let _ = e.to_string();
}
