"""The `openai` backend: any OpenAI-compatible /v1/chat/completions server.

In production that is `trtllm-serve` serving Aegis-14B; vLLM, llama.cpp's `llama-server`
and OpenAI itself speak the same wire format. Decoding is constrained by the answer's JSON
schema in one of two request dialects (`response_format`):
- "json_schema": {"type": "json_schema", "json_schema": {"name", "schema"}} (OpenAI,
  trtllm-serve, vLLM, llama-server);
- "json_object": {"type": "json_object", "schema": ...} (llama-cpp-python's server, which
  refuses the first);
- "json": {"type": "json", "schema": ...} (trtllm-serve releases before "json_schema").
Retryable: timeouts (no answer within timeout_s), connection errors, HTTP 408/429/5xx, a
body that is not a chat.completion, an answer cut off at max_tokens. Other HTTP errors
(400, 401, 404...) cannot improve by asking again: they raise `ModelError` at once.
"""

from __future__ import annotations

from typing import Any

import httpx

from aegis_core.loop.llm import LLMModel, Messages, Retryable
from aegis_core.loop.model import ModelError

RESPONSE_FORMATS = ("json_schema", "json_object", "json")
RETRY_STATUS = {408, 429}


class OpenAIModel(LLMModel):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        timeout_s: float = 60.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        api_key: str | None = None,
        response_format: str = "json_schema",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {RESPONSE_FORMATS}")
        super().__init__(model, retries=retries, backoff_s=backoff_s)
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.response_format = response_format
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, headers=headers, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def _format(self, schema: dict[str, Any], task: str) -> dict[str, Any]:
        if self.response_format in ("json_object", "json"):
            return {"type": self.response_format, "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": task, "schema": schema}}

    def _complete(
        self,
        messages: Messages,
        schema: dict[str, Any],
        task: str,
        max_tokens: int,
        temperature: float,
    ) -> str:
        body = {
            "model": self.model_id,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "response_format": self._format(schema, task),
        }
        try:
            response = self._client.post("/chat/completions", json=body)
        except httpx.TimeoutException:
            raise Retryable(f"no answer within {self.timeout_s} s") from None
        except httpx.TransportError as exc:
            raise Retryable(f"cannot reach {self.base_url}: {exc}") from None
        status = response.status_code
        if status >= 400:
            detail = f"HTTP {status} from {self.base_url}: {response.text[:200]}"
            if status >= 500 or status in RETRY_STATUS:
                raise Retryable(detail)
            raise ModelError(self.name, task, detail)
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise Retryable(f"not a chat.completion: {response.text[:200]!r}") from None
        if choice.get("finish_reason") == "length":
            raise Retryable(f"answer cut off at max_tokens={max_tokens}")
        if not isinstance(content, str):
            raise Retryable("the answer has no text content")
        return content
