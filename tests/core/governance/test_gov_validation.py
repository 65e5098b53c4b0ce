"""One test per validation rule of POST /evaluate and POST /risk-check, plus defaults."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest

from aegis_core.errors import ValidationError
from aegis_core.governance import (
    EvaluateInput,
    GateConfig,
    parse_evaluate,
    parse_risk_check,
    risk_check,
)

NUMBER_FIELDS = [
    "risk_baseline",
    "risk_proposed",
    "risk_score",
    "profit_baseline",
    "profit_proposed",
    "novelty_score",
    "complexity_score",
    "quality_score",
]
BOOL_FIELDS = ["requires_human_approval", "time_sensitive", "reversible", "shadow_mode"]
STRING_FIELDS = ["proposal_summary", "agent_id", "session_id"]


def refused(body: Any, field: str) -> str:
    """Parse `body`, expect a ValidationError naming `field`; return its message."""
    with pytest.raises(ValidationError) as info:
        parse_evaluate(body)
    message = str(info.value)
    assert field in message, message
    return message


def test_defaults_for_an_empty_body() -> None:
    inp = parse_evaluate({})
    assert inp.proposal_summary == "API evaluation"
    assert (inp.estimated_impact, inp.agent_id, inp.phase) == ("medium", "api-caller", "plan")
    assert (inp.risk_baseline, inp.risk_proposed, inp.risk_score) == (0.0, 0.0, None)
    assert (inp.profit_baseline, inp.profit_proposed) == (0.0, 0.0)
    assert (inp.novelty_score, inp.complexity_score, inp.quality_score) == (0.5, 0.5, 0.7)
    assert inp.quality_subscores == (0.7, 0.7, 0.7)
    assert (inp.requires_human_approval, inp.time_sensitive) == (False, False)
    assert (inp.reversible, inp.shadow_mode) == (True, False)
    assert inp.metadata == {} and inp.change_type == "feature"
    assert inp.drift_baseline_data == ()
    assert uuid.UUID(inp.session_id).version == 4
    assert parse_evaluate({}).session_id != inp.session_id


def test_all_fields_are_read() -> None:
    body = {
        "proposal_summary": "p",
        "estimated_impact": "low",
        "agent_id": "bot",
        "session_id": "s-1",
        "phase": "work",
        "risk_baseline": 1,
        "risk_proposed": 2,
        "profit_baseline": 0.5,
        "profit_proposed": 0.25,
        "novelty_score": 0.9,
        "complexity_score": 0.8,
        "quality_score": 0.95,
        "quality_subscores": [0.9, None, 1],
        "requires_human_approval": True,
        "time_sensitive": True,
        "reversible": False,
        "metadata": {"ticket": "X-1", "n": [1]},
        "shadow_mode": True,
        "change_type": "bugfix",
        "drift_baseline_data": [0.1, None, 2],
    }
    inp = parse_evaluate(body)
    assert inp == EvaluateInput(
        **{**body, "quality_subscores": (0.9, 1), "drift_baseline_data": (0.1, 2)}
    )
    assert isinstance(inp.risk_baseline, float)  # scalars normalised to float


def test_risk_score_aliases_risk_proposed_only_when_absent() -> None:
    assert parse_evaluate({"risk_score": 0.3}).risk_proposed == 0.3
    both = parse_evaluate({"risk_score": 0.3, "risk_proposed": 0.1})
    assert (both.risk_proposed, both.risk_score) == (0.1, 0.3)


def test_unknown_fields_are_ignored() -> None:
    assert parse_evaluate({"unknown": [1, {"x": None}], "risk_proposed": 0.2}).risk_proposed == 0.2


def test_metadata_is_copied() -> None:
    metadata = {"a": 1}
    inp = parse_evaluate({"metadata": metadata})
    metadata["b"] = 2
    assert inp.metadata == {"a": 1}


@pytest.mark.parametrize("body", [[], [1, 2], "x", 1, 1.5, True, None])
def test_body_must_be_an_object(body: Any) -> None:
    refused(body, "JSON object")


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", [True, False])
def test_boolean_in_numeric_field(field: str, value: bool) -> None:
    assert "boolean" in refused({field: value}, field)


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_number(field: str, value: float) -> None:
    assert "finite" in refused({field: value}, field)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_non_finite_from_python_json(literal: str) -> None:
    # Python's json accepts these literals; what arrives is a float that is not finite.
    refused(json.loads(f'{{"risk_baseline": {literal}}}'), "risk_baseline")


def test_integer_beyond_float_range() -> None:
    assert "finite" in refused({"profit_proposed": 10**400}, "profit_proposed")


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", ["0.5", [0.5], {"v": 0.5}])
def test_non_number_in_numeric_field(field: str, value: Any) -> None:
    refused({field: value}, field)


@pytest.mark.parametrize("field", NUMBER_FIELDS)
def test_null_number_is_refused_not_defaulted(field: str) -> None:
    assert "null" in refused({field: None}, field)


@pytest.mark.parametrize("field", BOOL_FIELDS)
@pytest.mark.parametrize("value", ["true", "false", 1, 0, 1.0, None, [], {}])
def test_boolean_fields_take_only_booleans(field: str, value: Any) -> None:
    assert "boolean" in refused({field: value}, field)


def test_string_in_boolean_field() -> None:
    refused({"requires_human_approval": "true"}, "requires_human_approval")


def test_int_in_boolean_field() -> None:
    refused({"time_sensitive": 1}, "time_sensitive")


def test_null_in_boolean_field() -> None:
    refused({"reversible": None}, "reversible")


@pytest.mark.parametrize("value", [[1, 2], "x", 3, None, True])
def test_metadata_must_be_an_object(value: Any) -> None:
    refused({"metadata": value}, "metadata")


@pytest.mark.parametrize("value", [0.7, "0.7", {"a": 0.7}, None, True])
def test_quality_subscores_must_be_a_list(value: Any) -> None:
    refused({"quality_subscores": value}, "quality_subscores")


@pytest.mark.parametrize(
    "element", [True, False, "0.7", math.nan, math.inf, -math.inf, [0.7], {"x": 1}]
)
def test_quality_subscores_elements(element: Any) -> None:
    refused({"quality_subscores": [0.7, element]}, "quality_subscores[1]")


def test_quality_subscores_nulls_filtered() -> None:
    assert parse_evaluate({"quality_subscores": [None, 0.8, None]}).quality_subscores == (0.8,)


def test_quality_subscores_empty_list_is_preserved() -> None:
    assert parse_evaluate({"quality_subscores": []}).quality_subscores == ()


def test_quality_subscores_all_null_falls_back_to_default() -> None:
    assert parse_evaluate({"quality_subscores": [None, None]}).quality_subscores == (0.7,) * 3
    custom = GateConfig(default_subscores=(0.9,))
    assert parse_evaluate({"quality_subscores": [None]}, config=custom).quality_subscores == (0.9,)


@pytest.mark.parametrize("element", [True, False, "1", math.nan, math.inf, [1]])
def test_drift_baseline_elements(element: Any) -> None:
    refused({"drift_baseline_data": [0.1, 0.2, element]}, "drift_baseline_data[2]")


@pytest.mark.parametrize("value", ["0.1", 0.1, {"a": 1}, None, False])
def test_drift_baseline_must_be_a_list(value: Any) -> None:
    refused({"drift_baseline_data": value}, "drift_baseline_data")


def test_drift_baseline_nulls_filtered_numbers_kept_as_sent() -> None:
    assert parse_evaluate({"drift_baseline_data": [1, None, 0.5]}).drift_baseline_data == (1, 0.5)


@pytest.mark.parametrize("value", [3, 0.5, True, None, ["high"], {"level": "high"}])
def test_estimated_impact_must_be_a_string(value: Any) -> None:
    assert "string" in refused({"estimated_impact": value}, "estimated_impact")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("estimated_impact", "enormous"),
        ("estimated_impact", "HIGH"),
        ("estimated_impact", ""),
        ("phase", "deploy"),
        ("phase", "Plan"),
        ("change_type", "hotfix"),
        ("change_type", "Feature"),
    ],
)
def test_enumerations(field: str, value: str) -> None:
    assert "must be one of" in refused({field: value}, field)


@pytest.mark.parametrize(
    ("field", "choices"),
    [
        ("estimated_impact", ["low", "medium", "high", "critical"]),
        ("phase", ["plan", "commit", "work"]),
        ("change_type", ["feature", "refactor", "bugfix", "config"]),
    ],
)
def test_enumerations_accept_every_documented_value(field: str, choices: list[str]) -> None:
    assert [getattr(parse_evaluate({field: c}), field) for c in choices] == choices


@pytest.mark.parametrize("field", [*STRING_FIELDS, "phase", "change_type"])
@pytest.mark.parametrize("value", [1, True, None, ["x"], {"x": 1}])
def test_string_fields_must_be_strings(field: str, value: Any) -> None:
    assert "string" in refused({field: value}, field)


def test_long_bad_enum_value_is_shortened_in_the_message() -> None:
    assert len(refused({"phase": "x" * 10_000}, "phase")) < 200


# POST /risk-check


def test_risk_check_document_example() -> None:
    body = {
        "risk_score": 0.35,
        "threshold": 0.5,
        "agent_id": "deploy-bot",
        "action_description": "Deploy canary to staging",
    }
    inp = parse_risk_check(body)
    assert inp.action_description == "Deploy canary to staging"
    assert risk_check(inp) == {
        "safe": True,
        "risk_score": 0.35,
        "threshold": 0.5,
        "agent_id": "deploy-bot",
    }


def test_risk_check_defaults_and_strict_comparison() -> None:
    inp = parse_risk_check({"risk_score": 0.5})
    assert (inp.threshold, inp.agent_id, inp.action_description) == (
        0.5,
        "api-caller",
        "Lambda risk check",
    )
    assert risk_check(inp)["safe"] is False  # safe only when risk_score < threshold
    assert risk_check(parse_risk_check({"risk_score": 0.49}))["safe"] is True
    assert risk_check(parse_risk_check({"risk_score": 0.9, "threshold": 1}))["safe"] is True


def test_risk_check_requires_risk_score() -> None:
    with pytest.raises(ValidationError, match="risk_score is required"):
        parse_risk_check({"threshold": 0.5})


@pytest.mark.parametrize("value", [True, False, None, "0.3", math.nan, math.inf, -math.inf])
def test_risk_check_risk_score_must_be_a_finite_number(value: Any) -> None:
    with pytest.raises(ValidationError, match="risk_score"):
        parse_risk_check({"risk_score": value})


@pytest.mark.parametrize("value", [True, None, "0.5", math.nan, math.inf])
def test_risk_check_threshold_must_be_a_finite_number(value: Any) -> None:
    with pytest.raises(ValidationError, match="threshold"):
        parse_risk_check({"risk_score": 0.1, "threshold": value})


@pytest.mark.parametrize(("field", "value"), [("agent_id", 7), ("action_description", None)])
def test_risk_check_strings(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        parse_risk_check({"risk_score": 0.1, field: value})


@pytest.mark.parametrize("body", [[], "x", None, 0.3])
def test_risk_check_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        parse_risk_check(body)
