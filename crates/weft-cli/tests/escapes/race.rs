//! Issue 11 §3: a second process flipping `ws/race` between a file inside
//! the root and one outside made about 1% of `read_file("ws/race")` calls
//! return the outside file (check-then-open by path). The read now resolves
//! the link in the same call that opens it, beneath the root's handle: zero
//! escapes while a flipper runs for a few seconds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;

#[test]
fn flipping_link_never_yields_the_outside_file() {
    let s = Scene::new();
    s.write("ws/inside.txt", "inside");
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let ws = s.ws.clone();
        let secret = s.outside.join("secret.txt");
        std::thread::spawn(move || {
            let (race, tmp) = (ws.join("race"), ws.join("race.tmp"));
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for target in [Path::new("inside.txt"), secret.as_path()] {
                    let _ = std::fs::remove_file(&tmp);
                    std::os::unix::fs::symlink(target, &tmp).unwrap();
                    std::fs::rename(&tmp, &race).unwrap();
                    flips += 1;
                }
            }
            flips
        })
    };
    let out = s.run(
        r#"
var inside = 0
var denied = 0
var escapes = 0
let until = monotonic_ms() + 3000
while monotonic_ms() < until {
  let r = try { read_file("ws/race") } catch e { e.category }
  if r == "inside" { inside += 1 } else if r == "TOP-SECRET" { escapes += 1 } else if r == "permission_denied" { denied += 1 }
}
println("escapes", escapes)
println(inside > 0, denied > 0)
println("inside", inside, "denied", denied)
"#,
        &["--policy", "policy.json"],
        &[],
    );
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    let stdout = ok_stdout(&out);
    assert!(
        flips > 100,
        "the flipper barely ran ({flips} flips): {stdout}"
    );
    assert!(stdout.starts_with("escapes 0\n"), "an escape: {stdout}");
    // Both outcomes were seen, so the race was exercised.
    assert!(stdout.contains("\ntrue true\n"), "{flips} flips: {stdout}");
}
