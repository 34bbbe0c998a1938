//! Throughput of the durable-state store's group commit: N concurrent local
//! tasks each write their worker snapshot ROUNDS times (awaiting durability
//! each time, like status changes) and append one event per round.
//!
//! `cargo run --release -p weft-agents --example store_bench -- [N] [ROUNDS] [DIR]`
//! (N defaults to 10000, ROUNDS to 1; DIR to a fresh temporary directory
//! in the working directory, removed after).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use weft_agents::store::Store;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let tmp;
    let dir = match args.next() {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir_in(".").expect("temporary directory");
            tmp.path().to_path_buf()
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Store::new(dir.join("state"), true);
    let t0 = Instant::now();
    rt.block_on(tokio::task::LocalSet::new().run_until(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let store = store.clone();
                tokio::task::spawn_local(async move {
                    for round in 0..rounds {
                        let v = json!({"_type": "weft.worker", "version": 1,
                                       "id": format!("w{i}"), "status": "running",
                                       "round": round, "task": format!("task {i}")});
                        store
                            .write_json(&format!("workers/w{i}.json"), &v)
                            .await
                            .expect("durable write");
                        let event = json!({"worker_id": format!("w{i}"), "round": round});
                        store.append_line("events.jsonl", &event.to_string()).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
    }));
    let elapsed = t0.elapsed();
    let total = n * rounds;
    let st = store.stats();
    rt.block_on(store.close());
    let closed = t0.elapsed();
    println!(
        "{n} tasks x {rounds} rounds: {total} durable snapshot writes + {total} event \
         appends in {:.3} s ({:.0} writes/s); {} files written, {} batches, {} syncs \
         ({:.1} per batch), {} spares reused; {:.3} s with close()",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        st.files_written,
        st.batches,
        st.syncs,
        st.syncs as f64 / st.batches.max(1) as f64,
        st.spares_reused,
        closed.as_secs_f64()
    );
}
