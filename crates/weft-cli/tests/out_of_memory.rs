//! Running out of memory is a catchable `limit_exceeded`, not an abort:
//! `weft run` under a 2 GB address-space limit (`ulimit -v`) doubles a
//! string until the allocator refuses (issue: it ended with "memory
//! allocation of 1073741824 bytes failed" and SIGABRT).

#![cfg(target_os = "linux")]

use std::process::Command;

#[test]
fn a_refused_allocation_is_a_catchable_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("grow.wf");
    std::fs::write(
        &script,
        r#"var s = "ab"
let e = try { while true { s = s + s } } catch e { e }
println(e.category)
println(contains(e.message, "out of memory"))
s = ""
println("still running")
"#,
    )
    .unwrap();
    let weft = env!("CARGO_BIN_EXE_weft");
    // Far above what fits, so the allocator is what stops the loop.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 2000000 && exec '{weft}' run --max-string-len 100000000000 '{}'",
            script.display()
        ))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "limit_exceeded\ntrue\nstill running\n");
}
