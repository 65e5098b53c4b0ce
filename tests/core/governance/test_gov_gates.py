"""Gate mathematics in isolation: posterior, logistic, floors, utility, drift, settings."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from aegis_core.governance import DEFAULT_CONFIG, GateConfig, evaluate_drift, parse_evaluate
from aegis_core.governance.drift import kl_divergence
from aegis_core.governance.gates import (
    complexity_gate,
    logistic,
    normalised_delta,
    novelty_gate,
    phi,
    posterior,
    quality_gate,
)

Decide = Callable[..., dict[str, Any]]
CFG = DEFAULT_CONFIG


def test_phi() -> None:
    assert phi(0) == 0.5
    assert phi(1.6448536) == pytest.approx(0.95, abs=1e-7)
    assert phi(-30) > 0 and phi(-math.inf) == 0.0 and phi(math.inf) == 1.0


def test_normalised_delta_floors_small_baselines() -> None:
    assert normalised_delta(0.05, 0.08, CFG) == pytest.approx(0.3)
    assert normalised_delta(0.0, 0.15, CFG) == pytest.approx(1.5)
    assert normalised_delta(-2.0, -1.0, CFG) == pytest.approx(0.5)


def test_posterior_constants() -> None:
    post = posterior(0.3, CFG)
    assert post.mu == pytest.approx(0.24) and post.sd == pytest.approx(0.4472136, abs=1e-7)
    wide = posterior(0.3, GateConfig(use_posterior_predictive=True))
    assert wide.mu == pytest.approx(0.24) and wide.sd == pytest.approx(0.6708204, abs=1e-7)


def test_risk_trigger_point() -> None:
    # P crosses 0.95 at mu = 2 + 1.6448536 * 0.4472136 = 2.7356, i.e. d = 3.4195.
    assert posterior(3.41, CFG).p_material < 0.95 < posterior(3.43, CFG).p_material


def test_logistic_never_overflows() -> None:
    assert logistic(0) == 0.5
    assert logistic(1e6) == 1.0 and logistic(-1e6) == 0.0
    assert logistic(math.inf) == 1.0 and logistic(-math.inf) == 0.0


@pytest.mark.parametrize(
    ("score", "value", "passed"),
    [
        (0.3, 0.622459, False),
        (0.38, 0.785835, False),
        (0.39, 0.802184, True),
        (0.85, 0.997527, True),
    ],
)
def test_novelty(score: float, value: float, passed: bool) -> None:
    gate = novelty_gate(score, CFG)
    assert (round(gate.value, 6), gate.passed, gate.threshold) == (value, passed, 0.8)
    assert gate.confidence is None


def test_novelty_cut_off() -> None:
    cut = CFG.novelty_n0 + math.log(4) / CFG.novelty_k  # 0.38863
    assert novelty_gate(cut + 1e-9, CFG).passed and not novelty_gate(cut - 1e-9, CFG).passed


@pytest.mark.parametrize(
    ("score", "passed"), [(0.5, True), (0.4999, False), (1.0, True), (0, False)]
)
def test_complexity_floor_is_inclusive(score: float, passed: bool) -> None:
    assert complexity_gate(score, CFG).passed is passed


@pytest.mark.parametrize(
    ("score", "subs", "passed", "reason"),
    [
        (0.7, (0.7, 0.7, 0.7), True, "quality 0.7 >= 0.7"),
        (0.69, (0.9,), False, "quality below threshold (0.69 < 0.7)"),
        (0.9, (), False, "quality_subscores is empty"),
        (0.9, (0.8, 0.0), False, "a quality subscore is zero or below (min 0)"),
        (0.9, (0.8, -0.1), False, "a quality subscore is zero or below (min -0.1)"),
    ],
)
def test_quality(score: float, subs: tuple, passed: bool, reason: str) -> None:
    gate = quality_gate(score, subs, CFG)
    assert (gate.passed, gate.message, gate.value) == (passed, reason, score)


def test_empty_subscores_fail_the_quality_gate(decide: Decide) -> None:
    result = decide({"quality_subscores": [], "quality_score": 0.99})
    assert result["failing_gates"] == ["quality"] and result["status"] == "pause"


def test_utility_threshold(decide: Decide) -> None:
    # No profit: LCB = -0.8 d - z * 0.632456 >= -3 holds up to d = 2.4495.
    ok = decide({"risk_baseline": 0.1, "risk_proposed": 0.1 + 0.1 * 2.44})["gates"]["utility"]
    bad = decide({"risk_baseline": 0.1, "risk_proposed": 0.1 + 0.1 * 2.46})["gates"]["utility"]
    assert ok["passed"] and not bad["passed"] and bad["threshold"] == -3.0
    assert bad["message"].startswith("utility LCB too low")


def test_every_setting_is_used(decide: Decide, doc_example: dict) -> None:
    assert decide(doc_example, complexity_floor=0.3)["status"] == "proceed"
    assert decide(doc_example, complexity_floor=0.3, quality_threshold=0.9)["status"] == "pause"
    strict = decide({**doc_example, "complexity_score": 0.6}, bayes_threshold=0.0001)
    assert strict["failing_gates"] == ["profit"]
    assert decide({}, novelty_n0=0.6)["failing_gates"] == ["novelty"]
    assert decide({}, utility_threshold=0.0)["failing_gates"] == ["utility"]
    assert decide({}, override_roles=("a", "b"), quality_threshold=0.8)["override_requires"] == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    "overrides",
    [{"sigma0": 0}, {"sigma_l": -1}, {"s_min": math.nan}, {"drift_tau_warning": 2.0}],
)
def test_bad_settings_are_refused(overrides: dict) -> None:
    with pytest.raises(ValueError):
        GateConfig(**overrides)


def test_drift_thresholds_are_p90_and_p99_over_2m() -> None:
    assert CFG.drift_tau_warning == pytest.approx(2.7055 / 4)
    assert CFG.drift_tau_critical == pytest.approx(6.6349 / 4)


def test_kl_divergence_formula(drift_baseline: list) -> None:
    assert kl_divergence([0.03, 0.08], drift_baseline, 1e-6) == pytest.approx(
        0.022**2 / (2 * 0.01418**2), rel=1e-9
    )


def test_drift_boundaries() -> None:
    baseline = [-1.0, 1.0]  # mean 0, sd 1: KL = mean(O)^2 / 2
    at = math.sqrt(2 * CFG.drift_tau_warning)
    assert evaluate_drift([at * 0.999] * 2, baseline, CFG).status == "normal"
    assert evaluate_drift([at * 1.001] * 2, baseline, CFG).status == "warning"
    crit = math.sqrt(2 * CFG.drift_tau_critical)
    assert evaluate_drift([crit * 1.001] * 2, baseline, CFG).status == "critical"
    assert evaluate_drift([0.0, 0.0], [1.0], CFG) is None


def test_constant_baseline_uses_the_sd_floor() -> None:
    drift = evaluate_drift([0.1, 0.1], [0.1] * 30, CFG)
    assert drift.status == "normal" and drift.kl_divergence == pytest.approx(0.0, abs=1e-12)
    assert evaluate_drift([0.1, 0.1001], [0.1] * 30, CFG).status == "critical"


def test_extreme_finite_inputs_give_a_decision(decide: Decide) -> None:
    body = {
        "risk_baseline": -1e308,
        "risk_proposed": 1e308,
        "profit_baseline": 1e308,
        "profit_proposed": -1e308,
        "novelty_score": -1e308,
        "complexity_score": 1e308,
        "quality_score": 1e308,
        "quality_subscores": [1e-308, 1e308],
        "drift_baseline_data": [1e308, -1e308, 1.7e308],
        "shadow_mode": True,
    }
    result = decide(body)
    json.dumps(result, allow_nan=False)  # nothing non-finite escapes
    assert result["gates"]["risk"]["passed"] is False
    assert result["gates"]["utility"]["value"] is None
    assert result["shadow_result"]["observation_values"] == [None, None]
    assert result["shadow_result"]["drift"]["status"] == "critical"
    assert result["status"] == "pause"


def test_huge_baseline_drift_is_scaled_not_overflowed() -> None:
    drift = evaluate_drift([1e300, 1e300], [1e300, 1.2e300, 0.8e300], CFG)
    assert drift is not None and math.isfinite(drift.kl_divergence)
    assert drift.status == "normal"


def test_input_is_parsed_then_used_as_floats() -> None:
    inp = parse_evaluate({"risk_baseline": 1, "risk_proposed": 2})
    assert normalised_delta(inp.risk_baseline, inp.risk_proposed, CFG) == 1.0
