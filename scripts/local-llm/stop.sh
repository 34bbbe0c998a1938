#!/usr/bin/env bash
# Stop a server started by start.sh (its whole process group).
#   LLM_PORT=18089 bash scripts/local-llm/stop.sh   # or LLM_PIDFILE=... bash stop.sh
set -euo pipefail
PIDFILE=${LLM_PIDFILE:-${TMPDIR:-/tmp}/weft-llm-${LLM_PORT:?set LLM_PORT or LLM_PIDFILE}.pid}
[ -f "$PIDFILE" ] || { echo "local-llm: no pidfile $PIDFILE" >&2; exit 1; }
PID=$(cat "$PIDFILE")
kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$PID" 2>/dev/null || true
rm -f "$PIDFILE"
echo "local-llm: stopped pid $PID"
