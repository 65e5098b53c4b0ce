"""Strict request validation for POST /evaluate and POST /risk-check.

The rules are the API document's "Validation Details", each enforced here so the engine
only ever sees well-typed, finite input:

* The body must be a JSON object.
* Numbers are `int` or `float`, never `bool` (Python's `True` is an `int`), and finite:
  Python's `json` accepts the literals `NaN`, `Infinity` and `-Infinity`, so they arrive
  as floats and are refused here, as are integers too large for a float.
* Booleans are real JSON booleans; strings, numbers and null are refused.
* Enumerations (`estimated_impact`, `phase`, `change_type`) are strings from their list.
* `metadata` is an object; `quality_subscores` and `drift_baseline_data` are arrays whose
  elements are finite numbers or null (null elements are dropped).

Decisions on points the document leaves open:

* **Explicit null for a top-level field is refused, for every type**, exactly as the
  document says for booleans and for `estimated_impact` ("non-string types are
  rejected"). A null never silently becomes a default: `"risk_proposed": null` from a
  buggy client must not be evaluated as zero risk. Nulls are only meaningful inside the
  two arrays, where the document says they are filtered.
* **Unknown fields are ignored**, so clients may send more than we read (forward
  compatibility); the HTTP layer still stores the whole body as the input context.
* Strings are taken as given, the empty string included; `session_id` is a fresh uuid4
  only when the field is absent.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from aegis_core.errors import ValidationError
from aegis_core.governance.config import DEFAULT_CONFIG, GateConfig

IMPACTS = ("low", "medium", "high", "critical")
PHASES = ("plan", "commit", "work")
CHANGE_TYPES = ("feature", "refactor", "bugfix", "config")
NUMBER_DEFAULTS = {
    "risk_baseline": 0.0,
    "risk_proposed": 0.0,
    "profit_baseline": 0.0,
    "profit_proposed": 0.0,
    "novelty_score": 0.5,
    "complexity_score": 0.5,
    "quality_score": 0.7,
}


def _new_session_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class EvaluateInput:
    """A validated POST /evaluate request with every default applied.

    `risk_proposed` already includes the `risk_score` alias; `risk_score` keeps what the
    client sent (None when absent). `quality_subscores` is the effective list: nulls
    dropped, absent or all-null replaced by the default, an explicit `[]` kept empty.
    `drift_baseline_data` keeps the client's numbers (ints stay ints, so the baseline hash
    is what the client computes from its own array), nulls dropped.
    """

    proposal_summary: str = "API evaluation"
    estimated_impact: str = "medium"
    agent_id: str = "api-caller"
    session_id: str = field(default_factory=_new_session_id)
    phase: str = "plan"
    risk_baseline: float = 0.0
    risk_proposed: float = 0.0
    risk_score: float | None = None
    profit_baseline: float = 0.0
    profit_proposed: float = 0.0
    novelty_score: float = 0.5
    complexity_score: float = 0.5
    quality_score: float = 0.7
    quality_subscores: tuple[float, ...] = DEFAULT_CONFIG.default_subscores
    requires_human_approval: bool = False
    time_sensitive: bool = False
    reversible: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    shadow_mode: bool = False
    change_type: str = "feature"
    drift_baseline_data: tuple[float, ...] = ()


@dataclass(frozen=True)
class RiskCheckInput:
    """A validated POST /risk-check request; `risk_score` is echoed back as sent."""

    risk_score: float
    threshold: float = 0.5
    agent_id: str = "api-caller"
    action_description: str = "Lambda risk check"


def _finite_number(value: Any, where: str) -> float:
    """The value if it is a finite int/float (not a bool); ValidationError otherwise."""
    if isinstance(value, bool):
        raise ValidationError(f"{where} must be a finite number, not a boolean")
    if value is None:
        raise ValidationError(f"{where} must be a finite number, not null")
    if not isinstance(value, int | float):
        raise ValidationError(f"{where} must be a finite number, not {_json_type(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        finite = False
    if not finite:
        raise ValidationError(f"{where} must be finite (NaN and Infinity are not allowed)")
    return value


def _json_type(value: Any) -> str:
    names = {str: "a string", list: "an array", dict: "an object", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


def _number(body: dict[str, Any], name: str, default: float) -> float:
    if name not in body:
        return default
    return float(_finite_number(body[name], name))


def _boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    if name not in body:
        return default
    value = body[name]
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a boolean (true or false), not {_json_type(value)}")
    return value


def _string(body: dict[str, Any], name: str, default: str, choices: tuple[str, ...] = ()) -> str:
    if name not in body:
        return default
    value = body[name]
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, not {_json_type(value)}")
    if choices and value not in choices:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValidationError(f"{name} must be one of {', '.join(choices)} (got {shown!r})")
    return value


def _number_list(body: dict[str, Any], name: str) -> tuple[list[Any], tuple[float, ...]] | None:
    """(the raw list, its finite numbers with nulls dropped); None when absent."""
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, list):
        raise ValidationError(f"{name} must be an array of numbers, not {_json_type(value)}")
    kept = tuple(
        _finite_number(item, f"{name}[{i}]") for i, item in enumerate(value) if item is not None
    )
    return value, kept


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(f"request body must be a JSON object, not {_json_type(body)}")
    return body


def _subscores(body: dict[str, Any], config: GateConfig) -> tuple[float, ...]:
    parsed = _number_list(body, "quality_subscores")
    if parsed is None:
        return config.default_subscores
    raw, kept = parsed
    if raw and not kept:  # a non-empty list of nothing but nulls
        return config.default_subscores
    return kept  # an explicit [] stays empty (and fails the quality gate)


def parse_evaluate(body: object, *, config: GateConfig = DEFAULT_CONFIG) -> EvaluateInput:
    """Validate a POST /evaluate body and apply the documented defaults."""
    body = _object(body)
    numbers = {name: _number(body, name, default) for name, default in NUMBER_DEFAULTS.items()}
    risk_score = None
    if "risk_score" in body:  # an alias, used only when risk_proposed is absent
        risk_score = float(_finite_number(body["risk_score"], "risk_score"))
    if "risk_proposed" not in body and risk_score is not None:
        numbers["risk_proposed"] = risk_score
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValidationError(f"metadata must be a JSON object, not {_json_type(metadata)}")
    baseline = _number_list(body, "drift_baseline_data")
    return EvaluateInput(
        proposal_summary=_string(body, "proposal_summary", "API evaluation"),
        estimated_impact=_string(body, "estimated_impact", "medium", IMPACTS),
        agent_id=_string(body, "agent_id", "api-caller"),
        session_id=_string(body, "session_id", "") if "session_id" in body else _new_session_id(),
        phase=_string(body, "phase", "plan", PHASES),
        change_type=_string(body, "change_type", "feature", CHANGE_TYPES),
        requires_human_approval=_boolean(body, "requires_human_approval", False),
        time_sensitive=_boolean(body, "time_sensitive", False),
        reversible=_boolean(body, "reversible", True),
        shadow_mode=_boolean(body, "shadow_mode", False),
        metadata=dict(metadata),
        quality_subscores=_subscores(body, config),
        drift_baseline_data=() if baseline is None else baseline[1],
        risk_score=risk_score,
        **numbers,
    )


def parse_risk_check(body: object) -> RiskCheckInput:
    """Validate a POST /risk-check body: `risk_score` is required, the rest defaulted."""
    body = _object(body)
    if "risk_score" not in body:
        raise ValidationError("risk_score is required")
    threshold = body.get("threshold", 0.5)  # a present null is refused below
    return RiskCheckInput(
        risk_score=_finite_number(body["risk_score"], "risk_score"),
        threshold=_finite_number(threshold, "threshold"),
        agent_id=_string(body, "agent_id", "api-caller"),
        action_description=_string(body, "action_description", "Lambda risk check"),
    )
