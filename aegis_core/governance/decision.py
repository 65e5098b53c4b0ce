"""From gate results to a decision: status, confidence, override, and the response body.

Deterministic: the same input, decision id and timestamp always give the same body (no
clock, no randomness, no dict-order surprises), so a stored decision can be re-derived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aegis_core.governance import guidance
from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig
from aegis_core.governance.drift import DriftResult, baseline_hash, evaluate_drift
from aegis_core.governance.gates import GATE_ORDER, GateResult, evaluate_gates
from aegis_core.governance.numbers import rounded
from aegis_core.governance.validation import EvaluateInput, RiskCheckInput

STATUSES = ("proceed", "pause", "escalate", "halt")
OVERRIDABLE = ("pause", "escalate")


def decide_status(
    gates: Mapping[str, GateResult], drift: DriftResult | None, inp: EvaluateInput
) -> str:
    """The seven rules of governance-gates.md, first match wins."""
    all_passed = all(g.passed for g in gates.values())
    high = inp.estimated_impact in guidance.HIGH_IMPACT
    human = inp.requires_human_approval or not inp.reversible
    if not gates["complexity"].passed:
        return "halt"  # 1
    if drift is not None and drift.status == "critical" and not inp.shadow_mode:
        return "halt"  # 2
    if all_passed:
        return "escalate" if high else "pause" if human else "proceed"  # 3, 4, 5
    return "escalate" if high else "pause"  # 6, 7


def decision_confidence(gates: Mapping[str, GateResult], change_type: str) -> float | None:
    """Minimum confidence of the evaluated Bayesian gates (risk, and profit unless skipped)."""
    names = ("risk",) if change_type != "feature" else ("risk", "profit")
    values = [c for n in names if (c := gates[n].confidence) is not None and math.isfinite(c)]
    return min(values) if values else None


def observations(inp: EvaluateInput) -> list[float]:
    """The drift observations O, also reported as `shadow_result.observation_values`."""
    return [inp.risk_proposed - inp.risk_baseline, inp.profit_proposed - inp.profit_baseline]


def _gate_json(gate: GateResult, d: int) -> dict[str, Any]:
    return {
        "passed": gate.passed,
        "value": rounded(gate.value, d),
        "threshold": rounded(gate.threshold, d),
        "confidence": rounded(gate.confidence, d),
        "message": gate.message,
    }


def _drift_json(drift: DriftResult, d: int) -> dict[str, Any]:
    return {
        "status": drift.status,
        "kl_divergence": rounded(drift.kl_divergence, d),
        "action": drift.action,
        "message": drift.message,
    }


def evaluate(
    inp: EvaluateInput,
    *,
    decision_id: str,
    timestamp: str,
    config: GateConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """The POST /evaluate body, minus the identity fields the HTTP layer adds
    (`_tenant_id`, `_customer_id`, `_tier`, `_request_id`)."""
    gates = evaluate_gates(inp, config)
    obs = observations(inp)
    drift = evaluate_drift(obs, inp.drift_baseline_data, config)
    status = decide_status(gates, drift, inp)
    failing = [name for name in GATE_ORDER if not gates[name].passed]
    eligible = status in OVERRIDABLE
    d = config.decimals
    body: dict[str, Any] = {
        "status": status,
        "confidence": rounded(decision_confidence(gates, inp.change_type), d),
        "gates_passed": len(GATE_ORDER) - len(failing),
        "gates_failed": len(failing),
        "failing_gates": failing,
        "rationale": guidance.rationale(status, gates, failing, drift, inp),
        "next_steps": guidance.next_steps(status, failing, drift, inp, config),
        "constraints": guidance.constraints(gates, drift, inp, config),
        "decision_id": decision_id,
        "timestamp": timestamp,
        "override_eligible": eligible,
        "override_requires": list(config.override_roles) if eligible else [],
        "gates": {name: _gate_json(gates[name], d) for name in GATE_ORDER},
    }
    if drift is not None and drift.status != "normal" and not inp.shadow_mode:
        body["drift"] = _drift_json(drift, d)
    if inp.shadow_mode:
        body["shadow_result"] = {
            "shadow_only": True,
            "observation_values": [rounded(v, d) for v in obs],
            "baseline_hash": baseline_hash(inp.drift_baseline_data),
            "drift": None if drift is None else _drift_json(drift, d),
        }
    return body


def risk_check(inp: RiskCheckInput) -> dict[str, Any]:
    """POST /risk-check: `safe` when risk_score < threshold; no gates, no audit trail."""
    return {
        "safe": inp.risk_score < inp.threshold,
        "risk_score": inp.risk_score,
        "threshold": inp.threshold,
        "agent_id": inp.agent_id,
    }
