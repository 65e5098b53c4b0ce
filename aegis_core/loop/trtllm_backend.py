"""The `tensorrt_llm` backend: Aegis-14B in-process through `tensorrt_llm.LLM`.

For a GPU host without a separate server (`trtllm-serve` + the `openai` backend is the
usual deployment). `tensorrt_llm` (optional extra `gpu`) is imported on first use, and the
engine or Hugging Face checkpoint directory is loaded once. Decoding is constrained by the
answer's JSON schema through xgrammar guided decoding; prompts go through the model's own
chat template. An answer not finished within timeout_s is aborted and retried.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from pathlib import Path
from typing import Any

from aegis_core.loop.llm import LLMModel, Messages, Retryable
from aegis_core.loop.model import ModelError


def available() -> str | None:
    """None when the backend can run here, else why not."""
    if importlib.util.find_spec("tensorrt_llm") is None:
        return "tensorrt_llm is not installed (pip install -e '.[gpu]' on a GPU host)"
    return None


class TensorRTLLMModel(LLMModel):
    name = "tensorrt_llm"

    def __init__(
        self,
        engine_dir: str | Path,
        *,
        model: str = "",
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
    ) -> None:
        self.engine_dir = Path(engine_dir)
        super().__init__(model or self.engine_dir.name, retries=retries, backoff_s=backoff_s)
        self.timeout_s = timeout_s
        self._llm: Any = None
        self._lock = threading.Lock()
        missing = available()
        if missing:
            raise ModelError(self.name, "load", missing)
        if not self.engine_dir.is_dir():
            raise ModelError(self.name, "load", f"no engine or checkpoint at {self.engine_dir}")

    def _engine(self) -> Any:
        with self._lock:
            if self._llm is None:
                from tensorrt_llm import LLM

                self._llm = LLM(model=str(self.engine_dir), guided_decoding_backend="xgrammar")
            return self._llm

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.shutdown()
                self._llm = None

    def _complete(
        self,
        messages: Messages,
        schema: dict[str, Any],
        task: str,
        max_tokens: int,
        temperature: float,
    ) -> str:
        from tensorrt_llm import SamplingParams
        from tensorrt_llm.llmapi import GuidedDecodingParams

        llm = self._engine()
        prompt = llm.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=temperature,
            guided_decoding=GuidedDecodingParams(json=schema),
        )
        future = llm.generate_async(prompt, sampling_params=params)
        try:
            output = future.result(timeout=self.timeout_s).outputs[0]
        except (TimeoutError, queue.Empty):
            if hasattr(future, "abort"):
                future.abort()
            raise Retryable(f"no answer within {self.timeout_s} s") from None
        if output.finish_reason == "length":
            raise Retryable(f"answer cut off at max_tokens={max_tokens}")
        return output.text
