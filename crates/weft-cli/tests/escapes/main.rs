//! Attack regression tests (docs/security.md): each test reproduces an
//! escape an attacker tried — a script, model output, repository content or
//! a state directory trying to get past the capability policy — and checks
//! that it is closed. Add new attacks here, one module per surface.

mod env;
mod fs_links;
mod imports;
mod network;
mod race;
mod repo_symlinks;
mod resume;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory: `ws/` (the workspace root the attacks target) and
/// `outside/` (what must stay untouched), canonical paths.
pub struct Scene {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub ws: PathBuf,
    pub outside: PathBuf,
}

impl Scene {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        let ws = dir.join("ws");
        let outside = dir.join("outside");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "TOP-SECRET").unwrap();
        Scene {
            _tmp: tmp,
            dir,
            ws,
            outside,
        }
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `weft ARGS` in the scene's directory, with a 60 s watchdog (a hang
    /// is a failure, not a stuck test run).
    pub fn weft(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("WEFT_STATE_DIR", self.dir.join(".state"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("WEFT_OPENAI_BASE_URL")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("WEFT_PROVIDER")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run weft");
        let start = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!("weft {args:?} hung for 60 s; stderr: {}", text(&out.stderr));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `script` (written to `s.wf`) with `flags` before it.
    pub fn run(&self, script: &str, flags: &[&str], env: &[(&str, &str)]) -> Output {
        self.write("s.wf", script);
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.push("s.wf");
        self.weft(&args, env)
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// stdout, asserting a clean exit.
pub fn ok_stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}
