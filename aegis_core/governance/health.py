"""The engine's self-test for GET /health (`checks.gates.ok`).

It runs the API document's example through the real engine. Under the spec's default
settings the outcome is known to six decimals (governance-gates.md, "Worked examples"),
so a broken formula, not just a crash, turns the check red. Under other settings only
the shape and determinism of the decision are checked, since the figures depend on them.
"""

from __future__ import annotations

from typing import Any

from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig
from aegis_core.governance.decision import STATUSES, evaluate
from aegis_core.governance.gates import GATE_ORDER
from aegis_core.governance.validation import EvaluateInput

HEALTH_INPUT = EvaluateInput(
    proposal_summary="Add caching layer to reduce API latency",
    session_id="health-check",
    risk_baseline=0.05,
    risk_proposed=0.08,
    profit_baseline=0.10,
    profit_proposed=0.18,
    complexity_score=0.4,
    quality_score=0.85,
)
KNOWN_OUTCOME: dict[str, Any] = {
    "status": "halt",
    "failing_gates": ["complexity"],
    "confidence": 0.998821,
    "override_eligible": False,
}
KNOWN_VALUES = {
    "risk": 0.000042,
    "profit": 0.001179,
    "novelty": 0.924142,
    "complexity": 0.4,
    "quality": 0.85,
    "utility": -0.640297,
}


def _well_formed(result: dict[str, Any]) -> bool:
    gates = result.get("gates", {})
    return (
        result.get("status") in STATUSES
        and tuple(gates) == GATE_ORDER
        and result["gates_passed"] + result["gates_failed"] == len(GATE_ORDER)
        and result["failing_gates"] == [n for n in GATE_ORDER if not gates[n]["passed"]]
    )


def health_check(config: GateConfig = DEFAULT_CONFIG) -> bool:
    """True when a fixed evaluation runs, is deterministic and has the known outcome."""
    try:
        runs = [
            evaluate(
                HEALTH_INPUT, decision_id="health", timestamp="1970-01-01T00:00:00Z", config=config
            )
            for _ in range(2)
        ]
        result = runs[0]
        if runs[0] != runs[1] or not _well_formed(result):
            return False
        if config != DEFAULT_CONFIG:
            return True
        return all(result[k] == v for k, v in KNOWN_OUTCOME.items()) and all(
            result["gates"][k]["value"] == v for k, v in KNOWN_VALUES.items()
        )
    except Exception:  # a probe reports failure, it never raises
        return False
