"""Pick the Aegis model backend from configuration (AEGIS_MODEL_* or a resource's fields)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aegis_core.loop.model import AegisModel, ModelError
from aegis_core.loop.rules import RulesModel

BACKENDS = ("rules", "openai", "tensorrt_llm")


@dataclass(frozen=True)
class ModelConfig:
    backend: str = "rules"
    base_url: str | None = None
    model: str = "aegis-14b"
    timeout_s: float = 60.0
    retries: int = 2
    backoff_s: float = 0.5
    engine_dir: str | None = None
    api_key: str | None = None
    response_format: str = "json_schema"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ModelConfig:
        """The settings' AEGIS_MODEL_* values; overrides that are None or "" are ignored."""
        base = cls(
            backend=settings.model_backend,
            base_url=settings.model_base_url,
            model=settings.model_name,
            timeout_s=settings.model_timeout_s,
            retries=settings.model_retries,
            backoff_s=settings.model_backoff_s,
            engine_dir=str(settings.model_engine_dir) if settings.model_engine_dir else None,
            api_key=settings.model_api_key,
            response_format=settings.model_response_format,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v not in (None, "")})


def build_model(config: ModelConfig) -> AegisModel:
    """The configured backend; a misconfiguration is a `ModelError`, never a fallback."""
    if config.backend == "rules":
        return RulesModel()
    if config.backend == "openai":
        if not config.base_url:
            raise ModelError("openai", "load", "AEGIS_MODEL_BASE_URL is not set")
        from aegis_core.loop.openai_backend import OpenAIModel

        return OpenAIModel(
            config.base_url,
            config.model,
            timeout_s=config.timeout_s,
            retries=config.retries,
            backoff_s=config.backoff_s,
            api_key=config.api_key,
            response_format=config.response_format,
        )
    if config.backend == "tensorrt_llm":
        if not config.engine_dir:
            raise ModelError("tensorrt_llm", "load", "AEGIS_MODEL_ENGINE_DIR is not set")
        from aegis_core.loop.trtllm_backend import TensorRTLLMModel

        return TensorRTLLMModel(
            config.engine_dir,
            model=config.model,
            timeout_s=config.timeout_s,
            retries=config.retries,
            backoff_s=config.backoff_s,
        )
    raise ModelError(config.backend, "load", f"unknown backend; choose one of {BACKENDS}")
