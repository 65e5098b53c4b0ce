"""Every worked example of governance-gates.md, with the figures it prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Decide = Callable[..., dict[str, Any]]

GATE_VALUES = {
    "risk": (0.000042, 0.95, True, 0.999958),
    "profit": (0.001179, 0.95, True, 0.998821),
    "novelty": (0.924142, 0.8, True, None),
    "complexity": (0.4, 0.5, False, None),
    "quality": (0.85, 0.7, True, None),
    "utility": (-0.640297, -3.0, True, None),
}


def test_document_example_gate_by_gate(decide: Decide, doc_example: dict) -> None:
    result = decide(doc_example)
    assert list(result["gates"]) == list(GATE_VALUES)
    for name, (value, threshold, passed, confidence) in GATE_VALUES.items():
        gate = result["gates"][name]
        assert (gate["value"], gate["threshold"], gate["passed"]) == (value, threshold, passed)
        assert gate["confidence"] == confidence, name
        assert isinstance(gate["message"], str)


def test_document_example_halts_on_complexity(decide: Decide, doc_example: dict) -> None:
    result = decide(doc_example)
    assert result["status"] == "halt"
    assert result["failing_gates"] == ["complexity"]
    assert (result["gates_passed"], result["gates_failed"]) == (5, 1)
    assert result["override_eligible"] is False and result["override_requires"] == []
    assert result["confidence"] == 0.998821
    assert "complexity floor not met (0.4 < 0.5)" in result["constraints"]
    assert "complexity" in result["rationale"] and "cannot be overridden" in result["rationale"]
    assert "drift" not in result and "shadow_result" not in result


def test_document_example_with_complexity_06_proceeds(decide: Decide, doc_example: dict) -> None:
    result = decide({**doc_example, "complexity_score": 0.6})
    assert result["status"] == "proceed"
    assert result["failing_gates"] == [] and result["gates_passed"] == 6
    assert result["confidence"] == 0.998821
    assert result["override_eligible"] is False and result["constraints"] == []


def test_document_example_with_high_impact_escalates(decide: Decide, doc_example: dict) -> None:
    result = decide({**doc_example, "complexity_score": 0.6, "estimated_impact": "high"})
    assert result["status"] == "escalate"
    assert result["override_eligible"] is True
    assert result["override_requires"] == ["risk_lead", "security_lead"]


def test_empty_body_proceeds(decide: Decide) -> None:
    result = decide({})
    assert result["status"] == "proceed"
    assert result["gates_passed"] == 6 and result["confidence"] == 0.999996


def test_developers_page_example_proceeds(decide: Decide) -> None:
    result = decide({"risk_proposed": 0.15, "complexity_score": 0.7})
    assert result["status"] == "proceed" and result["confidence"] == 0.963181


def test_risk_010_to_045_pauses(decide: Decide) -> None:
    result = decide({"risk_baseline": 0.1, "risk_proposed": 0.45})
    risk = result["gates"]["risk"]
    assert risk["passed"] is False
    assert risk["value"] == pytest.approx(0.9632, abs=5e-5)
    assert risk["confidence"] == risk["value"]  # the probability that "fail" is right
    # The utility LCB (-2.8 - z * 0.632456 = -3.84) fails alongside it, as the spec notes.
    assert result["failing_gates"] == ["risk", "utility"]
    assert result["status"] == "pause" and result["override_eligible"] is True
    assert "risk gate failed" in result["rationale"]


def test_drift_warning(decide: Decide, doc_example: dict, drift_baseline: list) -> None:
    # O = [0.08 - 0.05, 0.18 - 0.10] = [0.03, 0.08]
    body = {**doc_example, "complexity_score": 0.6, "drift_baseline_data": drift_baseline}
    result = decide(body)
    assert result["drift"]["status"] == "warning"
    assert result["drift"]["action"] == "alert_and_continue"
    assert result["drift"]["kl_divergence"] == pytest.approx(1.20, abs=0.005)
    assert result["status"] == "proceed"  # a warning alerts, it does not stop
    assert any(c.startswith("drift warning") for c in result["constraints"])
    assert "drift baseline below recommended 30 values" not in result["constraints"]


def test_drift_critical_halts(decide: Decide, drift_baseline: list) -> None:
    body = {
        "risk_baseline": 0.05,
        "risk_proposed": 0.10,
        "profit_baseline": 0.10,
        "profit_proposed": 0.20,
        "complexity_score": 0.6,
        "drift_baseline_data": drift_baseline,
    }
    result = decide(body)
    assert result["drift"]["status"] == "critical"
    assert result["drift"]["action"] == "halt_and_recalibrate"
    assert result["drift"]["kl_divergence"] == pytest.approx(4.39, abs=0.005)
    assert result["status"] == "halt" and result["failing_gates"] == []
    assert result["override_eligible"] is False and result["override_requires"] == []
    assert "critical drift" in result["rationale"]
