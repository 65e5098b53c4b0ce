"""From gate results to a decision: status, confidence, override, rationale, next steps.

Deterministic: the same input, id and timestamp always give the same decision.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from aegis_core.canonical import canonical_bytes
from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig
from aegis_core.governance.drift import DriftResult, baseline_hash, evaluate_drift
from aegis_core.governance.gates import GATE_ORDER, GateResult, evaluate_gates
from aegis_core.governance.validation import EvaluateInput, RiskCheckInput

HIGH_IMPACT = ("high", "critical")

NEXT_STEPS: dict[str, dict[str, list[str]]] = {
    "proceed": {
        "plan": [
            "Move the proposal to the commit phase.",
            "Record this decision_id with the change for the audit trail.",
        ],
        "commit": [
            "Commit the change with this decision_id in its description.",
            "Start the work phase with monitoring in place.",
        ],
        "work": [
            "Continue the rollout and monitor risk and profit against the baseline.",
            "Re-evaluate if observations drift from the baseline.",
        ],
    },
    "pause": {
        "plan": [
            "Revise the plan to address the failing gates, then re-evaluate.",
            "Or request a two-key override from a risk lead and a security lead.",
        ],
        "commit": [
            "Hold the commit until the failing gates pass or an override is approved.",
            "Document the mitigation for each failing gate.",
        ],
        "work": [
            "Pause further rollout and keep the current state stable.",
            "Obtain human approval (or a two-key override) before continuing.",
        ],
    },
    "escalate": {
        "plan": [
            "Escalate the plan to a risk lead and a security lead for review.",
            "Attach the gate results and rationale to the escalation.",
        ],
        "commit": [
            "Do not commit until the escalation is approved by both roles.",
            "Prepare a rollback plan for the reviewers.",
        ],
        "work": [
            "Stop expanding the rollout until the escalation is resolved.",
            "Keep the rollback path ready while reviewers decide.",
        ],
    },
    "halt": {
        "plan": [
            "Stop: rework the proposal; this decision cannot be overridden.",
            "Simplify the change (complexity floor) or recalibrate the drift baseline.",
        ],
        "commit": [
            "Do not commit this change; it cannot be overridden.",
            "Split or simplify the change, or recalibrate the baseline, then re-evaluate.",
        ],
        "work": [
            "Halt the work and roll back to the last known good state.",
            "Recalibrate against a fresh baseline before re-evaluating.",
        ],
    },
}


def rounded(value: float | None, decimals: int = DEFAULT_CONFIG.decimals) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, decimals)


def _gate_json(gate: GateResult, decimals: int) -> dict[str, Any]:
    return {
        "passed": gate.passed,
        "value": rounded(gate.value, decimals),
        "threshold": rounded(gate.threshold, decimals),
        "confidence": rounded(gate.confidence, decimals),
        "message": gate.message,
    }


def _drift_json(drift: DriftResult, decimals: int) -> dict[str, Any]:
    return {
        "status": drift.status,
        "kl_divergence": rounded(drift.kl_divergence, decimals),
        "action": drift.action,
        "message": drift.message,
    }


def decide_status(
    gates: dict[str, GateResult], drift: DriftResult | None, inp: EvaluateInput
) -> str:
    """The seven rules of governance-gates.md, first match wins."""
    all_passed = all(g.passed for g in gates.values())
    high = inp.estimated_impact in HIGH_IMPACT
    human = inp.requires_human_approval or not inp.reversible
    if not gates["complexity"].passed:
        return "halt"
    if drift is not None and drift.status == "critical" and not inp.shadow_mode:
        return "halt"
    if all_passed:
        return "escalate" if high else "pause" if human else "proceed"
    return "escalate" if high else "pause"


def _constraints(
    gates: dict[str, GateResult], drift: DriftResult | None, inp: EvaluateInput, cfg: GateConfig
) -> list[str]:
    out = [g.message for name in ("complexity", "quality") if (g := gates[name]).message]
    if inp.estimated_impact in HIGH_IMPACT:
        out.append(f"{inp.estimated_impact} impact requires human approval")
    if inp.requires_human_approval:
        out.append("human approval requested")
    if not inp.reversible:
        out.append("irreversible change requires human approval")
    baseline = inp.drift_baseline_data
    if baseline and len(baseline) < cfg.drift_min_values:
        out.append(
            f"drift baseline has fewer than {cfg.drift_min_values} values; drift not evaluated"
        )
    elif baseline and len(baseline) < cfg.drift_recommended_values:
        out.append(f"drift baseline below recommended {cfg.drift_recommended_values} values")
    if drift is not None and drift.status != "normal":
        prefix = "shadow mode: " if inp.shadow_mode else ""
        out.append(f"{prefix}drift {drift.status}: {drift.message}")
    if inp.shadow_mode:
        out.append("shadow mode: drift recorded for calibration only")
    return out


def _rationale(
    status: str,
    gates: dict[str, GateResult],
    failing: list[str],
    drift: DriftResult | None,
    inp: EvaluateInput,
) -> str:
    passed = len(gates) - len(failing)
    tally = f"{passed} of {len(gates)} gates passed"
    if failing:
        tally += f"; failing: {', '.join(failing)}"
    if status == "halt" and not gates["complexity"].passed:
        return (
            f"Halted: {gates['complexity'].message}. The complexity floor is not "
            f"overridable. {tally}."
        )
    if status == "halt":
        return (
            f"Halted: critical drift ({drift.message if drift else ''}); recalibrate "
            f"before continuing. {tally}."
        )
    if status == "proceed":
        return f"Proceed: all gates passed and no human approval is required. {tally}."
    reasons = []
    if failing:
        reasons.append("gates failed")
    if inp.estimated_impact in HIGH_IMPACT:
        reasons.append(f"impact is {inp.estimated_impact}")
    if inp.requires_human_approval:
        reasons.append("human approval was requested")
    if not inp.reversible:
        reasons.append("the change is irreversible")
    verb = "Escalated" if status == "escalate" else "Paused"
    return f"{verb}: {', '.join(reasons)}; human review required. {tally}."


def evaluate(
    inp: EvaluateInput, *, decision_id: str, timestamp: str, config: GateConfig = DEFAULT_CONFIG
) -> dict[str, Any]:
    """The POST /evaluate decision body (without the caller's identity fields)."""
    gates = evaluate_gates(inp, config)
    observations = [
        inp.risk_proposed - inp.risk_baseline,
        inp.profit_proposed - inp.profit_baseline,
    ]
    drift = evaluate_drift(observations, inp.drift_baseline_data, config)
    status = decide_status(gates, drift, inp)
    failing = [name for name in GATE_ORDER if not gates[name].passed]
    skip_profit = inp.change_type != "feature"
    confidences = [gates["risk"].confidence]
    if not skip_profit:
        confidences.append(gates["profit"].confidence)
    confidence = min(c for c in confidences if c is not None)
    eligible = status in ("pause", "escalate")
    d = config.decimals
    body: dict[str, Any] = {
        "status": status,
        "confidence": rounded(confidence, d),
        "gates_passed": len(GATE_ORDER) - len(failing),
        "gates_failed": len(failing),
        "failing_gates": failing,
        "rationale": _rationale(status, gates, failing, drift, inp),
        "next_steps": list(NEXT_STEPS[status][inp.phase]),
        "constraints": _constraints(gates, drift, inp, config),
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
            "observation_values": [rounded(v, d) for v in observations],
            "baseline_hash": baseline_hash(inp.drift_baseline_data),
            "drift": _drift_json(drift, d) if drift is not None else None,
        }
    return body


def risk_check(inp: RiskCheckInput) -> dict[str, Any]:
    """POST /risk-check: `safe` when risk_score < threshold; nothing else is computed."""
    return {
        "safe": inp.risk_score < inp.threshold,
        "risk_score": inp.risk_score,
        "threshold": inp.threshold,
        "agent_id": inp.agent_id,
    }


def audit_hash(record: dict[str, Any]) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of a decision record."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


HEALTH_INPUT = EvaluateInput(
    risk_baseline=0.05,
    risk_proposed=0.08,
    profit_baseline=0.10,
    profit_proposed=0.18,
    complexity_score=0.4,
    quality_score=0.85,
    session_id="health",
)


def health_check(config: GateConfig = DEFAULT_CONFIG) -> bool:
    """Run the API document's example and check the known outcome."""
    result = evaluate(
        HEALTH_INPUT, decision_id="health", timestamp="1970-01-01T00:00:00Z", config=config
    )
    return (
        result["status"] == "halt"
        and result["failing_gates"] == ["complexity"]
        and result["confidence"] == 0.998821
    )
