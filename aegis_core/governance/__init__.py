"""The AEGIS governance engine: six gates, drift, and the decision rules.

Pure domain code: the API (`api/routes/governance.py`) and the refinery's score step
both call `evaluate`; every constant lives in `GateConfig`.
"""

from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig
from aegis_core.governance.decision import audit_hash, evaluate, health_check, risk_check
from aegis_core.governance.validation import (
    EvaluateInput,
    RiskCheckInput,
    parse_evaluate,
    parse_risk_check,
)

__all__ = [
    "DEFAULT_CONFIG",
    "EvaluateInput",
    "GateConfig",
    "RiskCheckInput",
    "audit_hash",
    "evaluate",
    "health_check",
    "parse_evaluate",
    "parse_risk_check",
    "risk_check",
]
