//! What the kill-and-rerun integration tests share: `weft` run offline in a
//! test directory, with that directory's own state dir.

use std::path::Path;
use std::process::Command;

/// `weft ARGS` in `dir`: no model provider, state under `dir/state`.
pub fn weft(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.args(args)
        .current_dir(dir)
        .env("WEFT_LLM_DISABLED", "1")
        .env("WEFT_STATE_DIR", dir.join("state"))
        .env_remove("WEFT_PERSIST");
    c
}
