"""Shared helpers for the governance engine tests: one call from request body to decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aegis_core.governance import GateConfig, evaluate, parse_evaluate

DECISION_ID = "00000000-0000-4000-8000-000000000000"
TIMESTAMP = "2026-03-01T12:00:00.000000Z"

Decide = Callable[..., dict[str, Any]]


@pytest.fixture
def decide() -> Decide:
    """`decide(body, **config_overrides)`: validate, then evaluate with a fixed id and time."""

    def run(body: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        config = GateConfig(**overrides)
        inp = parse_evaluate(body, config=config)
        return evaluate(inp, decision_id=DECISION_ID, timestamp=TIMESTAMP, config=config)

    return run


@pytest.fixture
def doc_example() -> dict[str, Any]:
    """The API document's example request."""
    return {
        "proposal_summary": "Add caching layer to reduce API latency",
        "estimated_impact": "medium",
        "risk_baseline": 0.05,
        "risk_proposed": 0.08,
        "profit_baseline": 0.10,
        "profit_proposed": 0.18,
        "complexity_score": 0.4,
        "quality_score": 0.85,
    }


@pytest.fixture
def drift_baseline() -> list[float]:
    """30 values with mean 0.033 and population sd 0.01418 (governance-gates.md)."""
    return [0.033 + 0.01418 * (1 if i % 2 else -1) for i in range(30)]
