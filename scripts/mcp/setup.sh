#!/usr/bin/env bash
# Install the third-party MCP peers the tests talk to (nothing is started):
#
#   bash scripts/mcp/setup.sh
#
#   <repo>/.mcp-peers/node   npm: @modelcontextprotocol/server-everything and
#                            @modelcontextprotocol/server-filesystem (run with
#                            node 20; the tests use node_modules/.bin)
#   <repo>/.venv-mcp         PyPI: mcp (the official Python SDK, used as a
#                            client of `weft mcp serve`)
#
# Both directories are git-ignored ($MCP_PEERS and $MCP_VENV override them).
# Idempotent: what is already installed at the pinned version is left alone.
# Cold: ~30 s (npm ~15 s, pip ~15 s). Only the npm registry and PyPI are used.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=${MCP_PEERS:-$REPO/.mcp-peers/node}
VENV=${MCP_VENV:-$REPO/.venv-mcp}
PY=${PYTHON:-python3}
EVERYTHING=2026.8.31
FILESYSTEM=2026.8.31
PY_MCP=1.30.0

start=$(date +%s)
version_of() { node -p "require('$PEERS/node_modules/$1/package.json').version" 2>/dev/null || true; }
if [ "$(version_of @modelcontextprotocol/server-everything)" = "$EVERYTHING" ] &&
   [ "$(version_of @modelcontextprotocol/server-filesystem)" = "$FILESYSTEM" ]; then
  echo "mcp: npm servers ready in $PEERS"
else
  mkdir -p "$PEERS"
  npm install --prefix "$PEERS" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/server-everything@$EVERYTHING" \
    "@modelcontextprotocol/server-filesystem@$FILESYSTEM"
  echo "mcp: npm servers installed in $PEERS"
fi

if "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('mcp') == '$PY_MCP'" 2>/dev/null; then
  echo "mcp: Python SDK ready in $VENV"
else
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "mcp==$PY_MCP"
  "$VENV/bin/python" -c "import mcp.client.stdio, mcp.client.streamable_http"
  echo "mcp: Python SDK installed in $VENV"
fi
echo "mcp: setup took $(( $(date +%s) - start )) s"
