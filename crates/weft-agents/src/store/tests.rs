//! Unit tests of the store: atomicity, group commit, coalescing, appends,
//! `persist = false`, secrets, loading errors and a throughput check.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::LocalSet;

use super::commit::{Batch, Msg};
use super::*;

fn store(dir: &Path) -> Rc<Store> {
    Store::with_secrets(dir.to_path_buf(), true, Vec::new())
}

#[tokio::test]
async fn write_then_read_creates_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(&tmp.path().join("state"));
    let v = json!({"_type": "weft.worker", "version": 1, "id": "w1", "status": "completed", "task": "t"});
    s.write_json("workers/w1.json", &v).await.unwrap();
    assert_eq!(s.read_json("workers/w1.json").unwrap(), v);
    assert_eq!(s.load("workers/w1.json", "weft.worker", 1).unwrap(), v);
    let listed = s.list("workers");
    assert_eq!(listed, vec![tmp.path().join("state/workers/w1.json")]);
    let st = s.stats();
    assert_eq!(st.files_written, 1);
    assert!(st.syncs >= 2, "{st:?}"); // data + directory
    assert!(s.last_error().is_none());
}

#[tokio::test]
async fn paths_must_stay_inside_the_state_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    for bad in ["../x.json", "/etc/x.json", "", "a/../../x", "w.json.tmp-1"] {
        let e = s.write_json(bad, &json!(1)).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
    }
    assert!(s.read_json("../x").is_err());
    assert!(s.list("..").is_empty());
}

#[test]
fn target_is_never_observed_partially_written() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("workers/big.json");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let s = store(tmp.path());
    let big = |generation: u64| json!({"gen": generation, "pad": "x".repeat(100_000), "end": true});
    rt.block_on(s.write_json("workers/big.json", &big(0)))
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let target = target.clone();
        std::thread::spawn(move || {
            let (mut reads, mut last) = (0u64, 0u64);
            loop {
                // One more read after `stop`, which comes after the last write.
                let stopping = stop.load(Ordering::Relaxed);
                let bytes = std::fs::read(&target).expect("target always exists");
                let v: Value = serde_json::from_slice(&bytes).expect("complete JSON");
                assert_eq!(v["end"], json!(true));
                let generation = v["gen"].as_u64().unwrap();
                assert!(generation >= last, "went back from {last} to {generation}");
                last = generation;
                reads += 1;
                if stopping {
                    break;
                }
                std::thread::yield_now();
            }
            (reads, last)
        })
    };
    for generation in 1..=40 {
        rt.block_on(s.write_json("workers/big.json", &big(generation)))
            .unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let (reads, last) = reader.join().expect("reader saw only complete files");
    assert!(reads > 0);
    assert_eq!(last, 40);
    // No temporary leftovers once the store is closed.
    rt.block_on(s.close());
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("workers"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[tokio::test]
async fn concurrent_writers_share_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    const N: usize = 300;
    LocalSet::new()
        .run_until(async {
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let s = s.clone();
                    tokio::task::spawn_local(async move {
                        let rel = format!("workers/w{i}.json");
                        s.write_json(&rel, &json!({"i": i})).await.unwrap();
                        // Durable and in place when write_json returns.
                        assert_eq!(s.read_json(&rel).unwrap(), json!({"i": i}));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await;
    let st = s.stats();
    assert_eq!(st.files_written, N as u64);
    assert!(st.batches <= (N / 10) as u64, "{st:?}");
    assert!(st.syncs <= (N / 5) as u64, "{st:?}");
    assert_eq!(s.list("workers").len(), N);
}

#[test]
fn batch_coalesces_writes_of_one_path() {
    let mut b = Batch::default();
    let mut rxs = Vec::new();
    for i in 0..5 {
        let (tx, rx) = tokio::sync::oneshot::channel();
        rxs.push(rx);
        b.add(Msg::Write {
            target: "/s/a.json".into(),
            bytes: vec![b'0' + i],
            done: Some(tx),
        });
    }
    b.add(Msg::Write {
        target: "/s/b.json".into(),
        bytes: vec![],
        done: None,
    });
    assert_eq!(b.len(), 6);
    assert_eq!(b.distinct_writes(), 2);
    assert_eq!(b.waiters_of(Path::new("/s/a.json")), 5);
    assert_eq!(b.newest(Path::new("/s/a.json")), Some(&b"4"[..]));
}

#[tokio::test]
async fn same_path_writes_coalesce_and_all_waiters_wake() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    for i in 0..200 {
        s.write_json_later("runs/r.json", &json!({"n": i}));
    }
    let results = LocalSet::new()
        .run_until(async {
            let tasks: Vec<_> = (200..250)
                .map(|i| {
                    let s = s.clone();
                    tokio::task::spawn_local(async move {
                        s.write_json("runs/r.json", &json!({"n": i})).await
                    })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        })
        .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(s.read_json("runs/r.json").unwrap(), json!({"n": 249}));
    let st = s.stats();
    assert!(st.files_written < 50, "{st:?}");
    assert_eq!(s.list("runs").len(), 1);
}

#[tokio::test]
async fn later_writes_are_durable_after_flush_or_drop() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    s.flush().await; // nothing started yet
    s.write_json_later("a.json", &json!("a"));
    s.append_line_later("events.jsonl", "{\"seq\":1}");
    s.flush().await;
    assert_eq!(s.read_json("a.json").unwrap(), json!("a"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("events.jsonl")).unwrap(),
        "{\"seq\":1}\n"
    );
    s.write_json_later("b.json", &json!("b"));
    drop(s);
    assert_eq!(
        read_json_file(&tmp.path().join("b.json")).unwrap(),
        json!("b")
    );
}

#[tokio::test]
async fn persist_false_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let s = Store::with_secrets(dir.clone(), false, Vec::new());
    s.write_json("workers/w.json", &json!(1)).await.unwrap();
    s.write_json_later("workers/x.json", &json!(1));
    s.append_line("events.jsonl", "{}").await;
    s.append_line_later("events.jsonl", "{}");
    s.flush().await;
    assert!(!dir.exists());
    assert_eq!(s.stats(), StoreStats::default());
    assert!(s.list("workers").is_empty());
}

#[tokio::test]
async fn appends_are_whole_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    const N: usize = 200;
    LocalSet::new()
        .run_until(async {
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let s = s.clone();
                    tokio::task::spawn_local(async move {
                        let line = json!({"seq": i, "kind": "worker_completed"}).to_string();
                        s.append_line("events.jsonl", &line).await;
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await;
    let text = std::fs::read_to_string(tmp.path().join("events.jsonl")).unwrap();
    assert!(text.ends_with('\n'));
    let mut seqs: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs.len(), N);
    // Enqueued in task order, so written in that order.
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    seqs.dedup();
    assert_eq!(seqs.len(), N);
    let st = s.stats();
    assert!(st.append_writes < N as u64 / 5, "{st:?}");
    assert_eq!(s.last_error(), None);
}

#[tokio::test]
async fn secrets_are_never_written() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "sk-test-0123456789abcdef";
    let s = Store::with_secrets(tmp.path().to_path_buf(), true, vec![key.to_string()]);
    let v = json!({"config": {"headers": {"authorization": format!("Bearer {key}")}}, "ok": 1});
    s.write_json("workers/w.json", &v).await.unwrap();
    s.append_line("events.jsonl", &json!({"data": key}).to_string())
        .await;
    let snap = std::fs::read_to_string(tmp.path().join("workers/w.json")).unwrap();
    let events = std::fs::read_to_string(tmp.path().join("events.jsonl")).unwrap();
    for text in [&snap, &events] {
        assert!(!text.contains(key), "{text}");
        assert!(text.contains(REDACTED), "{text}");
    }
    let back = s.read_json("workers/w.json").unwrap();
    assert_eq!(
        back["config"]["headers"]["authorization"],
        json!("Bearer [redacted]")
    );
    assert_eq!(s.stats().redactions, 2);
}

#[test]
fn secret_values_pick_key_like_variables() {
    let vars = [
        ("OPENAI_API_KEY", "sk-abcdefghijkl"),
        ("GITHUB_TOKEN", "ghp_1234567890"),
        ("my_client_secret", "s3cr3t-value-x"),
        ("SHORT_TOKEN", "12345678"), // 8 chars: too short
        ("HOME", "/home/someone/long"),
        ("ANTHROPIC_API_KEY", "sk-abcdefghijkl"), // duplicate value
    ];
    let got = secret_values_from(vars.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    assert_eq!(
        got,
        vec!["sk-abcdefghijkl", "ghp_1234567890", "s3cr3t-value-x"]
    );
}

#[test]
fn secret_values_reads_the_environment_of_a_child() {
    // The variable is set only in a child test process, never in this one.
    if std::env::var_os("WEFT_STORE_SECRET_CHILD").is_some() {
        let got = secret_values();
        assert!(got.contains(&"sk-child-secret-value".to_string()));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "store::tests::secret_values_reads_the_environment_of_a_child",
            "--test-threads=1",
        ])
        .env("WEFT_STORE_SECRET_CHILD", "1")
        .env("OPENAI_API_KEY", "sk-child-secret-value")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn load_record_reasons_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("w.json");
    let load = |content: &str| {
        std::fs::write(&p, content).unwrap();
        load_record(&p, "weft.worker", 1)
    };
    let err = |content: &str| load(content).unwrap_err();
    let shown = p.display().to_string();

    assert!(load(
        r#"{"_type":"weft.worker","version":1,"id":"w","status":"completed","task":"t"}"#
    )
    .is_ok());
    let e = err(r#"{"_type":"weft.worker","version":1}"#);
    assert!(
        e.starts_with(&format!(
            "{shown}: corrupt weft.worker: field 'id' is missing"
        )),
        "{e}"
    );
    let e = err("{\n  \"_type\": \"weft.worker\",\n  \"version\": 1,\n");
    assert!(
        e.starts_with(&format!("{shown}: invalid JSON at line 4, column 0")),
        "{e}"
    );
    let e = err("{\"a\": tru}");
    assert!(e.contains("invalid JSON at line 1, column"), "{e}");
    assert!(err("").contains("the file is empty"));
    assert_eq!(
        err(r#"{"_type":"weft.run","version":1}"#),
        format!("{shown}: is a weft.run, expected weft.worker")
    );
    assert_eq!(
        err(r#"{"version":1}"#),
        format!("{shown}: is not a Weft snapshot")
    );
    assert_eq!(
        err(r#"{"_type":"other","version":1}"#),
        format!("{shown}: is not a Weft snapshot")
    );
    assert!(err("[1,2]").contains("is not a Weft snapshot"));
    assert_eq!(
        err(r#"{"_type":"weft.worker","version":7}"#),
        format!("{shown}: unknown version 7 (this build reads version 1)")
    );
    assert_eq!(
        err(r#"{"_type":"weft.worker","version":"1"}"#),
        format!("{shown}: unknown version \"1\" (this build reads version 1)")
    );
    assert_eq!(
        err(r#"{"_type":"weft.worker"}"#),
        format!("{shown}: has no version (this build reads version 1)")
    );
    let missing = tmp.path().join("nope.json");
    let e = load_record(&missing, "weft.worker", 1).unwrap_err();
    assert!(
        e.starts_with(&format!("{}: cannot read", missing.display())),
        "{e}"
    );
    let e = load_record(tmp.path(), "weft.worker", 1).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
}

#[test]
fn load_record_never_panics_on_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("f.json");
    let good = serde_json::to_vec_pretty(&json!({
        "_type": "weft.worker", "version": 1, "id": "w", "task": "é ✓",
        "transcript": [{"role": "user", "content": "hi"}], "usage": {"tokens": 3}
    }))
    .unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let check = |bytes: &[u8]| {
        std::fs::write(&p, bytes).unwrap();
        if let Err(e) = load_record(&p, "weft.worker", 1) {
            assert!(e.starts_with(&p.display().to_string()), "{e}");
        }
    };
    for cut in 0..good.len() {
        check(&good[..cut]);
    }
    for _ in 0..300 {
        let len = rng.usize(0..200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        check(&bytes);
        let mut mutated = good.clone();
        for _ in 0..rng.usize(1..4) {
            let i = rng.usize(0..mutated.len());
            mutated[i] = rng.u8(..);
        }
        check(&mutated);
    }
    check(&vec![b'['; 100_000]); // deep nesting hits serde's limit, not the stack
}

#[test]
fn list_is_sorted_and_skips_temporary_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("workers");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    for name in ["b.json", "a.json", "a.json.tmp-0192abc", "c.json"] {
        std::fs::write(d.join(name), "{}").unwrap();
    }
    let s = store(tmp.path());
    let names: Vec<_> = s
        .list("workers")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.json", "b.json", "c.json"]);
    assert!(s.list("missing").is_empty());
}

#[tokio::test]
async fn write_failures_reach_the_waiter() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("workers"), "a file, not a directory").unwrap();
    let s = store(tmp.path());
    let e = s.write_json("workers/w.json", &json!(1)).await.unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
    // Other writes of the same batch are unaffected.
    s.write_json("runs/r.json", &json!(2)).await.unwrap();
    s.write_json_later("workers/x.json", &json!(1));
    s.flush().await;
    assert!(s.last_error().is_some());
    assert!(s.stats().errors >= 2);
}

/// Names of the files in `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn rewrites_reuse_spares_and_close_removes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    for round in 0..4 {
        for i in 0..20 {
            s.write_json_later(&format!("workers/w{i}.json"), &json!({"round": round}));
        }
        s.flush().await;
        tokio::time::sleep(super::spares::QUARANTINE + Duration::from_millis(20)).await;
    }
    let st = s.stats();
    assert_eq!(st.files_written, 80);
    if cfg!(target_os = "linux") {
        // Round 1 creates targets, round 2 creates temporaries whose old
        // inodes become spares, rounds 3 and 4 reuse them.
        assert_eq!(st.spares_reused, 40, "{st:?}");
        assert_eq!(names(&tmp.path().join("workers")).len(), 40);
    }
    assert_eq!(s.list("workers").len(), 20);
    for i in 0..20 {
        let v = s.read_json(&format!("workers/w{i}.json")).unwrap();
        assert_eq!(v, json!({"round": 3}));
    }
    s.close().await;
    assert_eq!(names(&tmp.path().join("workers")).len(), 20);
    // The store still works after close.
    s.write_json("workers/w0.json", &json!({"round": 4}))
        .await
        .unwrap();
    assert_eq!(s.read_json("workers/w0.json").unwrap(), json!({"round": 4}));
}

#[tokio::test]
async fn spares_are_removed_when_idle() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    for round in 0..2 {
        s.write_json("a.json", &json!(round)).await.unwrap();
    }
    tokio::time::sleep(super::spares::IDLE_TRIM + Duration::from_millis(300)).await;
    // No spare left; `live/` holds this process's liveness lock.
    assert_eq!(names(tmp.path()), ["a.json", "live"]);
}

#[tokio::test]
async fn an_open_old_version_is_not_overwritten_during_quarantine() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    s.write_json("a.json", &json!({"v": 0})).await.unwrap();
    s.write_json("a.json", &json!({"v": 1})).await.unwrap();
    let t0 = Instant::now();
    let mut held = std::fs::File::open(tmp.path().join("a.json")).unwrap();
    for v in 2..6 {
        s.write_json("a.json", &json!({"v": v})).await.unwrap();
    }
    let mut text = String::new();
    held.read_to_string(&mut text).unwrap();
    if t0.elapsed() < super::spares::QUARANTINE {
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"v": 1})
        );
    }
    assert_eq!(s.read_json("a.json").unwrap(), json!({"v": 5}));
}

#[test]
fn spare_pool_quarantine_and_bound() {
    use super::spares::{SparePool, MAX_SPARES, QUARANTINE};
    let mut pool = SparePool::default();
    let dir = Path::new("/nonexistent-weft-test");
    pool.give(dir, dir.join("x.tmp-1"), 5).unwrap();
    let now = Instant::now();
    assert_eq!(pool.take(dir, 5, now + QUARANTINE), None); // same batch
    assert_eq!(pool.take(dir, 6, now), None); // too recent
    assert_eq!(
        pool.take(dir, 6, now + QUARANTINE * 2),
        Some(dir.join("x.tmp-1"))
    );
    assert_eq!(pool.take(Path::new("/other"), 9, now), None);
    for i in 0..MAX_SPARES {
        pool.give(dir, dir.join(format!("s.tmp-{i}")), 1).unwrap();
    }
    assert!(pool.give(dir, dir.join("one-too-many"), 1).is_err());
    assert_eq!(pool.len(), MAX_SPARES);
}

/// Throughput sanity check: 2,000 small snapshots from 2,000 concurrent
/// tasks (one fsync each would take ~0.6 s on this disk; group commit needs
/// a handful of syncs). The 10,000-write benchmark is the `store_bench`
/// example; this test stays smaller because removing its files afterwards
/// slows file creation on this filesystem for a minute (see `spares.rs`).
#[tokio::test]
async fn throughput_concurrent_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    const N: usize = 2_000;
    let t0 = Instant::now();
    LocalSet::new()
        .run_until(async {
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let s = s.clone();
                    tokio::task::spawn_local(async move {
                        let v = json!({"_type": "weft.worker", "version": 1,
                                       "id": format!("w{i}"), "status": "completed"});
                        s.write_json(&format!("workers/w{i}.json"), &v)
                            .await
                            .unwrap();
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await;
    let elapsed = t0.elapsed();
    let st = s.stats();
    eprintln!("store: {N} durable writes in {elapsed:?}; {st:?}");
    assert_eq!(st.files_written, N as u64);
    assert!(st.syncs < 50, "{st:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
