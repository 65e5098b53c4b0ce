"""The seven status rules, overrides, change types, shadow mode and drift bookkeeping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from aegis_core.governance import GATE_ORDER

Decide = Callable[..., dict[str, Any]]
PASSING = {"complexity_score": 0.6}  # every gate passes with the other defaults
FAILING = {"complexity_score": 0.6, "quality_score": 0.5}  # only the quality gate fails


def test_rule_1_complexity_failure_halts_before_anything_else(
    decide: Decide, drift_baseline: list
) -> None:
    body = {
        "complexity_score": 0.2,
        "quality_score": 0.1,
        "estimated_impact": "critical",
        "requires_human_approval": True,
        "risk_baseline": 0.05,
        "risk_proposed": 0.10,
        "profit_baseline": 0.10,
        "profit_proposed": 0.20,
        "drift_baseline_data": drift_baseline,
    }
    result = decide(body)
    assert result["status"] == "halt"
    assert result["failing_gates"] == ["complexity", "quality"]
    assert result["override_eligible"] is False and result["override_requires"] == []


def test_rule_2_critical_drift_halts_when_gates_pass(decide: Decide, drift_baseline: list) -> None:
    body = {**PASSING, "estimated_impact": "high", "drift_baseline_data": drift_baseline}
    result = decide({**body, "risk_proposed": 0.05, "profit_proposed": 0.10})
    assert result["failing_gates"] == [] and result["status"] == "halt"
    assert result["drift"]["status"] == "critical" and result["override_eligible"] is False


@pytest.mark.parametrize("impact", ["high", "critical"])
def test_rule_3_all_pass_high_impact_escalates(decide: Decide, impact: str) -> None:
    result = decide({**PASSING, "estimated_impact": impact, "requires_human_approval": True})
    assert result["status"] == "escalate"
    assert f"{impact} impact requires human approval" in result["constraints"]
    assert result["override_requires"] == ["risk_lead", "security_lead"]


@pytest.mark.parametrize(
    ("flags", "constraint"),
    [
        ({"requires_human_approval": True}, "human approval was requested"),
        ({"reversible": False}, "an irreversible change requires human approval"),
    ],
)
def test_rule_4_all_pass_human_approval_pauses(
    decide: Decide, flags: dict, constraint: str
) -> None:
    result = decide({**PASSING, **flags})
    assert result["status"] == "pause" and result["failing_gates"] == []
    assert constraint in result["constraints"] and constraint in result["rationale"]
    assert result["override_eligible"] is True


@pytest.mark.parametrize("impact", ["low", "medium"])
def test_rule_5_all_pass_proceeds(decide: Decide, impact: str) -> None:
    result = decide({**PASSING, "estimated_impact": impact, "time_sensitive": True})
    assert result["status"] == "proceed"
    assert result["override_eligible"] is False and result["override_requires"] == []


@pytest.mark.parametrize("impact", ["high", "critical"])
def test_rule_6_gate_failure_with_high_impact_escalates(decide: Decide, impact: str) -> None:
    result = decide({**FAILING, "estimated_impact": impact})
    assert result["status"] == "escalate" and result["failing_gates"] == ["quality"]
    assert "quality gate failed" in result["rationale"]


@pytest.mark.parametrize("flags", [{}, {"requires_human_approval": True}, {"reversible": False}])
def test_rule_7_gate_failure_pauses(decide: Decide, flags: dict) -> None:
    result = decide({**FAILING, **flags})
    assert result["status"] == "pause" and result["override_eligible"] is True
    assert result["override_requires"] == ["risk_lead", "security_lead"]
    assert "quality below threshold (0.5 < 0.7)" in result["rationale"]


def test_counts_and_failing_gates_agree(decide: Decide) -> None:
    result = decide({"novelty_score": 0.1, "quality_subscores": [0.9, 0.0]})
    assert result["failing_gates"] == ["novelty", "quality"]
    assert (result["gates_passed"], result["gates_failed"]) == (4, 2)
    assert list(result["gates"]) == list(GATE_ORDER)


@pytest.mark.parametrize("change_type", ["refactor", "bugfix", "config"])
def test_non_feature_change_types_skip_novelty_and_profit(decide: Decide, change_type: str) -> None:
    # Novelty 0.1 and a tenfold profit jump would both fail for a feature.
    body = {"novelty_score": 0.1, "profit_baseline": 0.1, "profit_proposed": 1.0}
    feature = decide(body)
    assert feature["failing_gates"] == ["profit", "novelty"]
    result = decide({**body, "change_type": change_type})
    assert result["status"] == "proceed" and result["gates_passed"] == 6
    for name in ("novelty", "profit"):
        gate = result["gates"][name]
        assert gate["passed"] is True
        assert gate["message"] == f"skipped for change_type {change_type}"
        assert gate["value"] == feature["gates"][name]["value"]  # still computed
        assert gate["confidence"] is None
    # Confidence comes from the risk gate alone; utility ignores profit: U = -mu_risk.
    assert result["confidence"] == result["gates"]["risk"]["confidence"] == 0.999996
    assert result["gates"]["utility"]["value"] == pytest.approx(-1.6448536 * 0.4472136, abs=1e-6)


def test_confidence_is_the_smaller_bayesian_confidence(decide: Decide, doc_example: dict) -> None:
    result = decide(doc_example)
    gates = result["gates"]
    assert result["confidence"] == min(gates["risk"]["confidence"], gates["profit"]["confidence"])


def test_shadow_mode_records_critical_drift_without_halting(
    decide: Decide, drift_baseline: list
) -> None:
    body = {
        **PASSING,
        "risk_baseline": 0.05,
        "risk_proposed": 0.10,
        "profit_baseline": 0.10,
        "profit_proposed": 0.20,
        "drift_baseline_data": drift_baseline,
        "shadow_mode": True,
    }
    result = decide(body)
    assert result["status"] == "proceed" and "drift" not in result
    shadow = result["shadow_result"]
    assert shadow["shadow_only"] is True
    assert shadow["observation_values"] == [0.05, 0.1]
    assert shadow["drift"]["status"] == "critical"
    assert shadow["drift"]["action"] == "halt_and_recalibrate"
    expected = hashlib.sha256(json.dumps(drift_baseline, separators=(",", ":")).encode())
    assert shadow["baseline_hash"] == expected.hexdigest()
    assert "shadow mode: decision not enforced" in result["constraints"]
    assert "calibration" in result["rationale"]


def test_shadow_mode_without_baseline(decide: Decide) -> None:
    shadow = decide({"shadow_mode": True, "risk_proposed": 0.02})["shadow_result"]
    assert shadow == {
        "shadow_only": True,
        "observation_values": [0.02, 0.0],
        "baseline_hash": None,
        "drift": None,
    }


def test_shadow_mode_still_halts_on_complexity(decide: Decide) -> None:
    result = decide({"shadow_mode": True, "complexity_score": 0.1})
    assert result["status"] == "halt" and result["shadow_result"]["shadow_only"] is True


def test_normal_drift_adds_no_drift_object(decide: Decide, drift_baseline: list) -> None:
    body = {"risk_proposed": 0.03, "profit_proposed": 0.035, "drift_baseline_data": drift_baseline}
    result = decide(body)
    assert "drift" not in result and result["status"] == "proceed"
    shadow = decide({**body, "shadow_mode": True})["shadow_result"]
    assert shadow["drift"]["status"] == "normal" and shadow["drift"]["action"] == "continue"


def test_short_baseline_adds_constraint(decide: Decide) -> None:
    baseline = [0.03, 0.031, 0.035, 0.029, 0.033]
    result = decide({"drift_baseline_data": baseline, "shadow_mode": True})
    assert "drift baseline below recommended 30 values" in result["constraints"]
    assert result["shadow_result"]["drift"] is not None


def test_single_value_baseline_is_not_evaluated(decide: Decide) -> None:
    result = decide({"drift_baseline_data": [None, 5.0, None], "shadow_mode": True})
    assert result["shadow_result"]["drift"] is None
    assert result["shadow_result"]["baseline_hash"] == hashlib.sha256(b"[5.0]").hexdigest()
    assert any("drift not evaluated" in c for c in result["constraints"])


def test_thirty_values_need_no_constraint(decide: Decide, drift_baseline: list) -> None:
    result = decide({"drift_baseline_data": [*drift_baseline[:29], None, drift_baseline[29]]})
    assert not any("baseline" in c for c in result["constraints"])


def test_posterior_predictive_option(decide: Decide, doc_example: dict) -> None:
    result = decide(doc_example, use_posterior_predictive=True)
    assert result["gates"]["risk"]["value"] == pytest.approx(0.00435, abs=1e-5)
    assert result["gates"]["profit"]["value"] == pytest.approx(0.02131, abs=1e-5)
    assert result["status"] == "halt"
    # The wider sd moves the risk trigger from d > 3.4195 to d > 3.8793: 0.1 -> 0.45 passes.
    body = {"risk_baseline": 0.1, "risk_proposed": 0.45}
    assert decide(body)["gates"]["risk"]["passed"] is False
    assert decide(body, use_posterior_predictive=True)["gates"]["risk"]["passed"] is True


@pytest.mark.parametrize(
    ("status_body", "phase_steps"),
    [
        (PASSING, "proceed"),
        (FAILING, "pause"),
        ({**FAILING, "estimated_impact": "high"}, "escalate"),
        ({"complexity_score": 0.3}, "halt"),
    ],
)
def test_next_steps_differ_by_status_and_phase(
    decide: Decide, status_body: dict, phase_steps: str
) -> None:
    by_phase = {p: decide({**status_body, "phase": p}) for p in ("plan", "commit", "work")}
    assert {r["status"] for r in by_phase.values()} == {phase_steps}
    steps = [tuple(r["next_steps"]) for r in by_phase.values()]
    assert len(set(steps)) == 3 and all(steps)


def test_next_steps_name_a_fix_for_each_failing_gate(decide: Decide) -> None:
    steps = decide({"complexity_score": 0.3, "quality_score": 0.2})["next_steps"]
    assert any("complexity_score reaches 0.5" in s for s in steps)
    assert any("quality score" in s for s in steps)
    assert any("cannot be overridden" in s for s in steps)
