"""The openai backend against a real model server: llama-cpp-python's OpenAI-compatible
server running SmolLM2-135M-Instruct on the CPU (see tests/utils/llama_server.py).

The model is tiny, so the test asserts what constrained decoding and validation guarantee
(schema-valid answers within their bounds), not what a good model would say.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from aegis_core.loop.features import Features
from aegis_core.loop.model import ROUTES, AegisModel, JobView
from resources.model import AegisModelResource
from tests.utils.llama_server import MODEL_ALIAS, RESPONSE_FORMAT

FEATURES = Features(
    source_format="pdf",
    bytes=820_000,
    samples=40,
    measured=40,
    words=9_000,
    format_mix={"document": 1.0},
    pages=12,
    pages_without_text=5,
    noise_ratio=0.1,
    pii_density=2.5,
    language_mix={"en": 1.0},
)
CHUNK = (
    "The installer copies the program files to your computer and creates a shortcut on "
    "the desktop. It checks that there is enough disk space before it starts."
)


@pytest.fixture(scope="module")
def llama_model(llama_base_url: str) -> Iterator[AegisModel]:
    resource = AegisModelResource(
        backend="openai",
        base_url=llama_base_url,
        model=MODEL_ALIAS,
        timeout_s=60,
        response_format=RESPONSE_FORMAT,
    )
    model = resource.get()
    yield model
    model.close()


def timed(label: str, call, *args):
    started = time.monotonic()
    result = call(*args)
    print(f"{label}: {time.monotonic() - started:.2f} s")
    return result


def test_triage_score_propose_and_qa_from_a_real_model(llama_model: AegisModel) -> None:
    assert (llama_model.name, llama_model.model_id) == ("openai", MODEL_ALIAS)

    triage = timed("triage", llama_model.triage, FEATURES)
    assert triage.route in ROUTES and (triage.backend, triage.model_id) == ("openai", "smollm2")
    assert 1 <= len(triage.reasons) <= 3 and all(r.strip() for r in triage.reasons)

    score = timed("score", llama_model.score, FEATURES, triage)
    assert 0.0 <= score.complexity_score <= 1.0 and 0.0 <= score.quality <= 1.0
    assert score.rationale.strip() and len(score.rationale) <= 300

    job = JobView("job", prices={"ocr": Decimal("0.05")})
    for proposal in timed("propose", llama_model.propose, FEATURES, score, job):
        assert proposal.kind == "ocr" and 1 <= proposal.units <= FEATURES.pages_without_text
        assert proposal.amount == Decimal("0.05") * proposal.units

    pairs = timed("qa_pairs", llama_model.qa_pairs, CHUNK, "Installing the program")
    assert 1 <= len(pairs) <= 3
    for pair in pairs:
        assert pair.question.strip() and pair.answer.strip()
        assert len(pair.question) <= 200 and len(pair.answer) <= 800
