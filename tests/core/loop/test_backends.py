"""Choosing the backend: settings, the Dagster resource's overrides, and no silent fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aegis_core.loop.backends import ModelConfig, build_model
from aegis_core.loop.model import ModelError
from aegis_core.loop.openai_backend import OpenAIModel
from aegis_core.loop.rules import RulesModel
from aegis_core.loop.trtllm_backend import TensorRTLLMModel, available
from aegis_core.settings import get_settings
from resources.model import AegisModelResource


def test_rules_is_the_embedded_default() -> None:
    model = AegisModelResource().get()
    assert isinstance(model, RulesModel) and (model.name, model.model_id) == ("rules", "rules-v1")


def test_settings_choose_and_configure_the_openai_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_MODEL_BACKEND", "openai")
    monkeypatch.setenv("AEGIS_MODEL_BASE_URL", "http://gpu.internal:8000/v1/")
    monkeypatch.setenv("AEGIS_MODEL_NAME", "aegis-14b-fp8")
    monkeypatch.setenv("AEGIS_MODEL_TIMEOUT_S", "7.5")
    monkeypatch.setenv("AEGIS_MODEL_RETRIES", "4")
    get_settings.cache_clear()
    model = AegisModelResource().get()
    assert isinstance(model, OpenAIModel)
    assert (model.base_url, model.model_id, model.timeout_s, model.retries) == (
        "http://gpu.internal:8000/v1",
        "aegis-14b-fp8",
        7.5,
        4,
    )
    assert model.response_format == "json_schema"
    # The resource's own fields win over the settings; zero retries is a valid choice.
    over = AegisModelResource(model="other", retries=0, response_format="json_object").get()
    assert (over.model_id, over.retries, over.response_format) == ("other", 0, "json_object")


def test_misconfiguration_is_an_error_never_a_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AEGIS_MODEL_BACKEND", "openai")
    get_settings.cache_clear()
    with pytest.raises(ModelError, match="AEGIS_MODEL_BASE_URL is not set"):
        AegisModelResource().get()
    with pytest.raises(ModelError, match="AEGIS_MODEL_ENGINE_DIR is not set"):
        build_model(ModelConfig(backend="tensorrt_llm"))
    with pytest.raises(ModelError, match=r"not installed|no engine or checkpoint"):
        build_model(ModelConfig(backend="tensorrt_llm", engine_dir=str(tmp_path / "none")))
    with pytest.raises(ModelError, match="unknown backend"):
        build_model(ModelConfig(backend="gpt"))
    with pytest.raises(ValueError, match="response_format"):
        build_model(ModelConfig(backend="openai", base_url="http://x/v1", response_format="xml"))


def _trtllm_missing() -> str | None:
    reason = available()
    if reason:
        return reason
    import torch

    if not torch.cuda.is_available():
        return "no GPU visible to torch"
    if not os.environ.get("AEGIS_TEST_TRTLLM_MODEL"):
        return "set AEGIS_TEST_TRTLLM_MODEL to an engine or checkpoint directory"
    return None


def test_tensorrt_llm_in_process() -> None:
    """Where TensorRT-LLM and a GPU are present: the same questions, answered in-process."""
    reason = _trtllm_missing()
    if reason:
        pytest.skip(f"tensorrt_llm backend not testable here: {reason}")
    from tests.core.loop.test_openai_llama import CHUNK, FEATURES

    model = TensorRTLLMModel(os.environ["AEGIS_TEST_TRTLLM_MODEL"], timeout_s=120)
    try:
        triage = model.triage(FEATURES)
        assert triage.backend == "tensorrt_llm" and triage.reasons
        score = model.score(FEATURES, triage)
        assert 0 <= score.complexity_score <= 1 and 0 <= score.quality <= 1
        assert model.qa_pairs(CHUNK, "Installing the program")
    finally:
        model.close()
