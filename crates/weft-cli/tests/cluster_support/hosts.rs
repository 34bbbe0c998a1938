//! Test helper shared by the cluster test binaries: `weft host` processes
//! (each with its own log file in the test directory, killed on drop),
//! waiting for a line in the host logs, and collecting a child's output
//! with a time limit.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A `weft host` process, killed on drop (panics included).
pub struct Host {
    pub child: Child,
    pub log: PathBuf,
}

impl Host {
    /// `weft host --cluster URLS --ack-wait-ms 2000 EXTRA` in `dir`.
    pub fn start(dir: &Path, urls: &str, extra: &[&str]) -> Host {
        Host::start_with(dir, urls, extra, &[])
    }

    /// [`Host::start`] with extra environment variables (a model provider).
    pub fn start_with(dir: &Path, urls: &str, extra: &[&str], env: &[(&str, &str)]) -> Host {
        let path = dir.join(format!(
            "host-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let log = std::fs::File::create(&path).unwrap();
        let mut args = vec!["host", "--cluster", urls, "--ack-wait-ms", "2000"];
        args.extend_from_slice(extra);
        let mut cmd = super::support::weft(dir, &args);
        for (k, v) in env {
            if k.is_empty() {
                continue;
            }
            cmd.env(k, v);
        }
        if env.iter().any(|(k, _)| *k == "WEFT_PROVIDER") {
            cmd.env_remove("WEFT_LLM_DISABLED");
        }
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start weft host");
        Host { child, log: path }
    }

    /// This host's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until this host's log contains `needle`.
    pub fn wait_for(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in the host log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`-STOP`, `-CONT`, ...) to the host process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} failed");
    }

    /// kill -9.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// All host logs of `dir`, concatenated.
pub fn host_logs(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("host-") {
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    all
}

/// Waits until a host log of `dir` contains `needle` (30 s at most).
pub fn wait_for_log(dir: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !host_logs(dir).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no `{needle}` in the host logs:\n{}",
            host_logs(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` (killed after `limit`) and returns its output.
pub fn wait_output(child: &mut Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = Command::new("true").output().unwrap();
    let status = child.wait().unwrap();
    let mut so = Vec::new();
    let mut se = Vec::new();
    use std::io::Read;
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut so);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut se);
    }
    out.status = status;
    out.stdout = so;
    out.stderr = se;
    out
}
