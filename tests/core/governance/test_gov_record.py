"""Determinism, the audit hash and canonical record, the health probe, and purity."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from aegis_core.governance import (
    DEFAULT_CONFIG,
    GateConfig,
    audit_hash,
    canonical_record,
    evaluate,
    health_check,
    parse_evaluate,
)

Decide = Callable[..., dict[str, Any]]
REPO = Path(__file__).resolve().parents[3]


def _record(decision: dict, body: dict) -> dict:
    return canonical_record(
        decision,
        customer_id="cust_a1b2c3d4e5f6",
        proposal_summary=body.get("proposal_summary", "API evaluation"),
        estimated_impact=body.get("estimated_impact", "medium"),
        input_context=body,
    )


def test_same_input_same_output(decide: Decide, doc_example: dict, drift_baseline: list) -> None:
    body = {**doc_example, "drift_baseline_data": drift_baseline, "shadow_mode": True}
    first, second = decide(body), decide(copy.deepcopy(body))
    assert first == second
    assert json.dumps(first) == json.dumps(second)  # same key order too


def test_session_id_does_not_change_the_decision(doc_example: dict) -> None:
    a, b = parse_evaluate(doc_example), parse_evaluate(doc_example)
    assert a.session_id != b.session_id
    kw = {"decision_id": "d", "timestamp": "t"}
    assert evaluate(a, **kw) == evaluate(b, **kw)


def test_id_and_timestamp_are_passed_through(doc_example: dict) -> None:
    result = evaluate(
        parse_evaluate(doc_example), decision_id="abc", timestamp="2026-01-01T00:00:00Z"
    )
    assert (result["decision_id"], result["timestamp"]) == ("abc", "2026-01-01T00:00:00Z")


def test_response_fields(decide: Decide, doc_example: dict) -> None:
    result = decide(doc_example)
    assert list(result) == [
        "status",
        "confidence",
        "gates_passed",
        "gates_failed",
        "failing_gates",
        "rationale",
        "next_steps",
        "constraints",
        "decision_id",
        "timestamp",
        "override_eligible",
        "override_requires",
        "gates",
    ]
    assert not any(key.startswith("_") for key in result)
    for gate in result["gates"].values():
        assert list(gate) == ["passed", "value", "threshold", "confidence", "message"]


def test_audit_hash_is_sha256_of_rfc8785(decide: Decide, doc_example: dict) -> None:
    record = _record(decide(doc_example), doc_example)
    assert audit_hash(record) == hashlib.sha256(rfc8785.dumps(record)).hexdigest()


def test_audit_hash_is_stable(decide: Decide, doc_example: dict, drift_baseline: list) -> None:
    body = {**doc_example, "drift_baseline_data": drift_baseline, "metadata": {"b": 1, "a": 2}}
    record = _record(decide(body), body)
    reordered = json.loads(json.dumps(record, sort_keys=True))
    assert audit_hash(record) == audit_hash(reordered) == audit_hash(copy.deepcopy(record))
    assert len(audit_hash(record)) == 64
    again = _record(decide(copy.deepcopy(body)), body)
    assert audit_hash(again) == audit_hash(record)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(status="proceed"),
        lambda r: r.update(confidence=0.998822),
        lambda r: r["gates"]["risk"].update(value=0.000043),
        lambda r: r["failing_gates"].append("quality"),
        lambda r: r["input_context"].update(complexity_score=0.41),
        lambda r: r.update(customer_id="cust_other"),
        lambda r: r.update(timestamp="2026-03-01T12:00:00.000001Z"),
    ],
)
def test_audit_hash_changes_when_a_field_changes(
    decide: Decide, doc_example: dict, tamper: Callable[[dict], None]
) -> None:
    record = _record(decide(doc_example), doc_example)
    changed = copy.deepcopy(record)
    tamper(changed)
    assert audit_hash(changed) != audit_hash(record)


def test_audit_hash_refuses_non_finite_numbers() -> None:
    with pytest.raises(ValueError):
        audit_hash({"x": float("nan")})


def test_canonical_record_drops_identity_fields(decide: Decide, doc_example: dict) -> None:
    decision = {**decide(doc_example), "_tenant_id": "t", "_request_id": "r", "_tier": "pro"}
    record = _record(decision, doc_example)
    assert not any(key.startswith("_") for key in record)
    assert record["input_context"] == doc_example and record["customer_id"] == "cust_a1b2c3d4e5f6"
    assert record["gates"] == decision["gates"]


def test_health_check_passes_with_the_spec_defaults() -> None:
    assert health_check() is True
    assert health_check(DEFAULT_CONFIG) is True


def test_health_check_on_other_settings_checks_shape_only() -> None:
    assert health_check(GateConfig(use_posterior_predictive=True)) is True


def test_health_check_catches_a_broken_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aegis_core.governance.gates.phi", lambda x: 0.5)
    assert health_check() is False


def test_health_check_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("engine down")

    monkeypatch.setattr("aegis_core.governance.health.evaluate", boom)
    assert health_check() is False


def test_engine_imports_no_framework() -> None:
    """Pure domain: importing the engine loads neither dagster, fastapi nor sqlalchemy."""
    code = (
        "import sys, aegis_core.governance\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} "
        "& {'dagster', 'fastapi', 'starlette', 'sqlalchemy', 'pydantic'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
