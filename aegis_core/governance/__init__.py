"""The AEGIS governance engine: six gates, drift, and the decision rules.

Pure domain code (no web framework, database or orchestrator imports): the API and the
refinery's score step both call `parse_evaluate` then `evaluate`; every constant lives in
`GateConfig`; the maths is `spec/governance-gates.md`.
"""

from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig
from aegis_core.governance.decision import decide_status, evaluate, risk_check
from aegis_core.governance.drift import DriftResult, baseline_hash, evaluate_drift
from aegis_core.governance.gates import GATE_ORDER, GateResult, evaluate_gates
from aegis_core.governance.health import health_check
from aegis_core.governance.record import audit_hash, canonical_record
from aegis_core.governance.validation import (
    EvaluateInput,
    RiskCheckInput,
    parse_evaluate,
    parse_risk_check,
)

__all__ = [
    "DEFAULT_CONFIG",
    "GATE_ORDER",
    "DriftResult",
    "EvaluateInput",
    "GateConfig",
    "GateResult",
    "RiskCheckInput",
    "audit_hash",
    "baseline_hash",
    "canonical_record",
    "decide_status",
    "evaluate",
    "evaluate_drift",
    "evaluate_gates",
    "health_check",
    "parse_evaluate",
    "parse_risk_check",
    "risk_check",
]
