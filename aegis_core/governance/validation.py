"""Strict request validation for POST /evaluate and POST /risk-check.

Rules from the API document's "Validation Details": booleans are never numbers, numbers
are never booleans, numbers must be finite (the JSON literals NaN and Infinity parse in
Python, so they are refused here), lists and objects must have their documented type.
An explicit `null` counts as present and is refused like any wrong type (elements of
`quality_subscores` and `drift_baseline_data` excepted: there null means "no value" and is
filtered). Unknown fields are ignored, so clients may send more than we read.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from aegis_core.errors import ValidationError

IMPACTS = ("low", "medium", "high", "critical")
PHASES = ("plan", "commit", "work")
CHANGE_TYPES = ("feature", "refactor", "bugfix", "config")


@dataclass(frozen=True)
class EvaluateInput:
    proposal_summary: str = "API evaluation"
    estimated_impact: str = "medium"
    agent_id: str = "api-caller"
    session_id: str = ""
    phase: str = "plan"
    risk_baseline: float = 0.0
    risk_proposed: float = 0.0
    profit_baseline: float = 0.0
    profit_proposed: float = 0.0
    novelty_score: float = 0.5
    complexity_score: float = 0.5
    quality_score: float = 0.7
    quality_subscores: tuple[float, ...] | None = None  # None: absent or all null
    requires_human_approval: bool = False
    time_sensitive: bool = False
    reversible: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    shadow_mode: bool = False
    change_type: str = "feature"
    drift_baseline_data: tuple[float, ...] = ()


@dataclass(frozen=True)
class RiskCheckInput:
    risk_score: float
    threshold: float = 0.5
    agent_id: str = "api-caller"
    action_description: str = "Lambda risk check"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(body: dict[str, Any], name: str) -> float | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a number, not a boolean")
    if not _is_number(value):
        raise ValidationError(f"{name} must be a number")
    if not math.isfinite(value):
        raise ValidationError(f"{name} must be finite (NaN and Infinity are not allowed)")
    return float(value)


def _boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    if name not in body:
        return default
    value = body[name]
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a boolean (true or false)")
    return value


def _string(body: dict[str, Any], name: str, default: str, choices: tuple[str, ...] = ()) -> str:
    if name not in body:
        return default
    value = body[name]
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string")
    if choices and value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}")
    return value


def _number_list(body: dict[str, Any], name: str) -> tuple[float, ...] | None:
    """Finite numbers with nulls filtered; None when the field is absent."""
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, list):
        raise ValidationError(f"{name} must be an array of numbers")
    out = []
    for i, item in enumerate(value):
        if item is None:
            continue
        if isinstance(item, bool) or not _is_number(item):
            raise ValidationError(f"{name}[{i}] must be a finite number (not a boolean)")
        if not math.isfinite(item):
            raise ValidationError(f"{name}[{i}] must be finite (NaN and Infinity are not allowed)")
        out.append(float(item))
    return tuple(out)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def parse_evaluate(body: Any) -> EvaluateInput:
    """Validate a POST /evaluate body and apply the documented defaults."""
    body = _require_object(body)
    numbers = {
        name: value
        for name in (
            "risk_baseline",
            "risk_proposed",
            "profit_baseline",
            "profit_proposed",
            "novelty_score",
            "complexity_score",
            "quality_score",
        )
        if (value := _number(body, name)) is not None
    }
    risk_score = _number(body, "risk_score")
    if "risk_proposed" not in numbers and risk_score is not None:
        numbers["risk_proposed"] = risk_score
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValidationError("metadata must be a JSON object")
    subscores = _number_list(body, "quality_subscores")
    raw_subscores = body.get("quality_subscores")
    if subscores == () and raw_subscores:  # a list of nothing but nulls
        subscores = None
    return EvaluateInput(
        proposal_summary=_string(body, "proposal_summary", "API evaluation"),
        estimated_impact=_string(body, "estimated_impact", "medium", IMPACTS),
        agent_id=_string(body, "agent_id", "api-caller"),
        session_id=_string(body, "session_id", "") or str(uuid.uuid4()),
        phase=_string(body, "phase", "plan", PHASES),
        change_type=_string(body, "change_type", "feature", CHANGE_TYPES),
        requires_human_approval=_boolean(body, "requires_human_approval", False),
        time_sensitive=_boolean(body, "time_sensitive", False),
        reversible=_boolean(body, "reversible", True),
        shadow_mode=_boolean(body, "shadow_mode", False),
        metadata=metadata,
        quality_subscores=subscores,
        drift_baseline_data=_number_list(body, "drift_baseline_data") or (),
        **numbers,
    )


def parse_risk_check(body: Any) -> RiskCheckInput:
    """Validate a POST /risk-check body: `risk_score` is required."""
    body = _require_object(body)
    risk_score = _number(body, "risk_score")
    if risk_score is None:
        raise ValidationError("risk_score is required")
    threshold = _number(body, "threshold")
    return RiskCheckInput(
        risk_score=risk_score,
        threshold=0.5 if threshold is None else threshold,
        agent_id=_string(body, "agent_id", "api-caller"),
        action_description=_string(body, "action_description", "Lambda risk check"),
    )
