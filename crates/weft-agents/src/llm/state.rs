//! The LLM layer's part of a program run's [`AgentState`]: the mock's
//! queue and call log (shared by every task and worker of the run), the
//! `--llm-record` file, the "no provider configured" notice flag, and the
//! HTTP client (one connection pool per run).
//!
//! [`AgentState`]: crate::state::AgentState

use std::cell::{Cell, OnceCell, RefCell};
use std::io::Write;
use std::path::PathBuf;

use super::mock::MockState;

/// LLM state of one program run.
#[derive(Default)]
pub struct LlmState {
    pub mock: RefCell<MockState>,
    /// `--llm-record FILE.jsonl`: where real exchanges are appended.
    pub record: RefCell<Option<Recorder>>,
    /// The mock-fallback notice was printed.
    pub notice_shown: Cell<bool>,
    client: OnceCell<reqwest::Client>,
}

impl LlmState {
    /// The run's HTTP client (built on first use).
    pub fn client(&self) -> reqwest::Client {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .unwrap_or_default()
            })
            .clone()
    }
}

/// Appends JSON lines to the record file; a write failure is reported on
/// stderr once and recording continues to be attempted.
#[derive(Debug)]
pub struct Recorder {
    pub path: PathBuf,
    warned: bool,
}

impl Recorder {
    pub fn new(path: PathBuf) -> Recorder {
        Recorder {
            path,
            warned: false,
        }
    }

    /// Appends one line (`line` must not contain a newline).
    pub fn append(&mut self, line: &str) {
        let result = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = result {
            if !self.warned {
                self.warned = true;
                eprintln!(
                    "weft: cannot write the LLM record file {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}
