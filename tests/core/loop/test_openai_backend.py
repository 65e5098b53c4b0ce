"""The openai backend's wire format and error paths, against a scripted local chat server."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from aegis_core.loop.features import Features
from aegis_core.loop.model import JobView, ModelError, Score, Triage
from aegis_core.loop.openai_backend import OpenAIModel
from tests.utils.fake_openai import Reply, fake_chat_server

FEATURES = Features(
    source_format="pdf",
    bytes=50_000,
    samples=12,
    measured=12,
    words=900,
    format_mix={"document": 1.0},
    pages=6,
    pages_without_text=2,
    language_mix={"en": 1.0},
)
TRIAGE = json.dumps({"route": "ocr_then_refine", "reasons": ["2 pages are scans"]})
SCORED = Score(0.35, 0.8, "small, two scanned pages")
SCORE = json.dumps({"complexity": 35, "quality": 80, "rationale": "small, two scanned pages"})


def model(url: str, **options) -> OpenAIModel:
    return OpenAIModel(url, "aegis-14b", **{"timeout_s": 2.0, "backoff_s": 0.01, **options})


def test_answers_are_requested_with_their_schema_and_validated() -> None:
    qa = {"pairs": [{"question": "What do scans need?", "answer": "OCR first."}]}
    proposals = {"proposals": [{"kind": "ocr", "units": 2, "rationale": "two scanned pages"}]}
    with fake_chat_server(
        Reply(TRIAGE), Reply(SCORE), Reply(json.dumps(proposals)), Reply(json.dumps(qa))
    ) as server:
        m = model(server.url)
        triage = m.triage(FEATURES)
        score = m.score(FEATURES, triage)
        (proposal,) = m.propose(FEATURES, score, JobView("j", prices={"ocr": Decimal("0.05")}))
        (pair,) = m.qa_pairs("Scanned pages need OCR first.", "Scans", page=2)
    assert (triage.route, triage.backend, triage.model_id) == (
        "ocr_then_refine",
        "openai",
        "aegis-14b",
    )
    assert (score.complexity_score, score.quality) == (0.35, 0.8)
    assert (proposal.units, proposal.amount) == (
        2,
        Decimal("0.10"),
    )  # price x units, not the model's
    assert (pair.question, pair.answer) == ("What do scans need?", "OCR first.")

    first = server.requests[0]
    assert first["model"] == "aegis-14b" and first["temperature"] == 0.0
    assert (
        first["messages"][0]["role"] == "system"
        and '"pages_without_text":2' in first["messages"][1]["content"]
    )
    fmt = first["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "triage"
    route = fmt["json_schema"]["schema"]["properties"]["route"]
    assert set(route["enum"]) == {"refine", "ocr_then_refine", "halt"}
    kinds = server.requests[2]["response_format"]["json_schema"]["schema"]["$defs"][
        "ProposalAnswer"
    ]
    assert kinds["properties"]["kind"]["enum"] == ["ocr"]


def test_routes_the_data_rules_out_are_not_offered() -> None:
    with fake_chat_server(Reply(TRIAGE)) as server:
        no_scans = Features(source_format="text", bytes=10, samples=3, measured=3)
        with pytest.raises(ModelError, match="not possible here"):
            model(server.url, retries=0).triage(no_scans)
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["route"]["enum"] == ["refine", "halt"]


@pytest.mark.parametrize("dialect", ["json_object", "json"])
def test_schema_dialects_of_other_servers(dialect: str) -> None:
    """llama-cpp-python's server (json_object) and older trtllm-serve (json) take the schema
    beside the type."""
    with fake_chat_server(Reply(SCORE)) as server:
        model(server.url, response_format=dialect).score(FEATURES, Triage("refine", ["x"]))
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == dialect
    assert fmt["schema"]["required"] == ["complexity", "quality", "rationale"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (Reply('{"route": "refine", "reasons": ["ok"'), "answer is not JSON"),
        (Reply(json.dumps({"route": "refine"})), "reasons: Field required"),
        (
            Reply(json.dumps({"route": "skip", "reasons": ["x"]})),
            "answer does not match the schema: route",
        ),
        (Reply(json.dumps({"route": "refine", "reasons": ["  "]})), "blank text"),
        (Reply(TRIAGE, finish_reason="length"), "cut off at max_tokens"),
        (Reply(raw="<html>bad gateway</html>"), "not a chat.completion"),
        (Reply(status=500), "HTTP 500"),
        (Reply(status=429), "HTTP 429"),
    ],
)
def test_malformed_answers_are_retried_then_succeed(bad: Reply, reason: str) -> None:
    with fake_chat_server(bad, Reply(TRIAGE)) as server:
        triage = model(server.url, retries=1).triage(FEATURES)
    assert triage.route == "ocr_then_refine" and len(server.requests) == 2
    assert server.requests[1]["temperature"] > 0  # a retry may differ from a greedy answer
    with fake_chat_server(bad) as server, pytest.raises(ModelError) as failure:
        model(server.url, retries=2).triage(FEATURES)
    assert len(server.requests) == 3
    assert reason in failure.value.reason and failure.value.attempts == 3
    assert failure.value.task == "triage" and "after 3 attempts" in str(failure.value)


def test_late_answers_time_out_and_are_retried() -> None:
    with fake_chat_server(Reply(TRIAGE, delay_s=1.5), Reply(TRIAGE)) as server:
        started = time.monotonic()
        triage = model(server.url, timeout_s=0.5, retries=1).triage(FEATURES)
        assert time.monotonic() - started < 1.4  # did not wait for the late answer
    assert triage.route == "ocr_then_refine" and len(server.requests) == 2
    with (
        fake_chat_server(Reply(TRIAGE, delay_s=1.5)) as server,
        pytest.raises(ModelError, match=r"no answer within 0.5 s"),
    ):
        model(server.url, timeout_s=0.5, retries=1).score(FEATURES, Triage("refine", ["x"]))


def test_backoff_doubles_between_attempts() -> None:
    with fake_chat_server(Reply(status=503)) as server, pytest.raises(ModelError):
        model(server.url, retries=3, backoff_s=0.2).triage(FEATURES)
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    assert all(lo <= g < lo + 0.3 for g, lo in zip(gaps, (0.2, 0.4, 0.8), strict=True))


def test_client_errors_are_not_retried() -> None:
    with fake_chat_server(Reply(status=400)) as server, pytest.raises(ModelError, match="HTTP 400"):
        model(server.url, retries=3).triage(FEATURES)
    assert len(server.requests) == 1


def test_unreachable_server_is_a_model_error() -> None:
    from tests.utils.server import free_port

    with pytest.raises(ModelError, match="cannot reach"):
        model(f"http://127.0.0.1:{free_port()}/v1", retries=1).triage(FEATURES)


def test_proposals_beyond_the_need_are_rejected() -> None:
    too_many = {"proposals": [{"kind": "ocr", "units": 9, "rationale": "all pages"}]}
    job = JobView("j", prices={"ocr": Decimal("0.05")})
    with (
        fake_chat_server(Reply(json.dumps(too_many))) as server,
        pytest.raises(ModelError, match="exceed the need"),
    ):
        model(server.url, retries=1).propose(FEATURES, SCORED, job)
    # Nothing priced or needed: the model is not asked at all.
    with fake_chat_server(Reply(json.dumps(too_many))) as server:
        assert model(server.url).propose(FEATURES, SCORED, JobView("j")) == []
    assert server.requests == []
