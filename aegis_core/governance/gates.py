"""The six gates. Each returns a `GateResult`; none decides the overall status."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aegis_core.governance.config import GateConfig
from aegis_core.governance.validation import EvaluateInput

GATE_ORDER = ("risk", "profit", "novelty", "complexity", "quality", "utility")


@dataclass(frozen=True)
class GateResult:
    passed: bool
    value: float | None
    threshold: float | None
    confidence: float | None = None
    message: str | None = None


@dataclass(frozen=True)
class Posterior:
    """Posterior of a normalised delta and the probability it is material (>= delta_min)."""

    mu: float
    sd: float
    p_material: float


def phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normalised_delta(baseline: float, proposed: float, cfg: GateConfig) -> float:
    return (proposed - baseline) / max(abs(baseline), cfg.s_min)


def posterior(delta: float, cfg: GateConfig) -> Posterior:
    precision = 1.0 / cfg.prior_sigma2 + 1.0 / cfg.likelihood_sigma2
    var = 1.0 / precision
    mu = var * (cfg.prior_mu / cfg.prior_sigma2 + delta / cfg.likelihood_sigma2)
    sd = math.sqrt(var + cfg.likelihood_sigma2) if cfg.use_posterior_predictive else math.sqrt(var)
    return Posterior(mu, sd, 1.0 - phi((cfg.delta_min - mu) / sd))


def bayes_gate(post: Posterior, cfg: GateConfig, message: str | None = None) -> GateResult:
    """Passes unless strong evidence (P > threshold) of a material change calls for review."""
    passed = post.p_material <= cfg.bayes_threshold
    confidence = 1.0 - post.p_material if passed else post.p_material
    return GateResult(passed, post.p_material, cfg.bayes_threshold, confidence, message)


def novelty_gate(score: float, cfg: GateConfig) -> GateResult:
    g = 1.0 / (1.0 + math.exp(-cfg.novelty_k * (score - cfg.novelty_n0)))
    return GateResult(g >= cfg.novelty_threshold, g, cfg.novelty_threshold)


def complexity_gate(score: float, cfg: GateConfig) -> GateResult:
    passed = score >= cfg.complexity_floor
    message = None if passed else f"complexity floor not met ({score:g} < {cfg.complexity_floor:g})"
    return GateResult(passed, score, cfg.complexity_floor, message=message)


def effective_subscores(inp: EvaluateInput, cfg: GateConfig) -> tuple[float, ...]:
    return cfg.default_subscores if inp.quality_subscores is None else inp.quality_subscores


def quality_gate(inp: EvaluateInput, cfg: GateConfig) -> GateResult:
    subs = effective_subscores(inp, cfg)
    message = None
    if not subs:
        message = "quality_subscores is empty"
    elif min(subs) <= 0:
        message = "a quality subscore is zero or below"
    elif inp.quality_score < cfg.quality_threshold:
        message = f"quality below threshold ({inp.quality_score:g} < {cfg.quality_threshold:g})"
    passed = inp.quality_score >= cfg.quality_threshold and bool(subs) and min(subs) > 0
    return GateResult(passed, inp.quality_score, cfg.quality_threshold, message=message)


def utility_gate(risk: Posterior, profit: Posterior | None, cfg: GateConfig) -> GateResult:
    if profit is None:
        u, sd_u = -risk.mu, risk.sd
    else:
        u, sd_u = profit.mu - risk.mu, math.hypot(risk.sd, profit.sd)
    lcb = u - cfg.utility_z * sd_u
    return GateResult(lcb >= cfg.utility_threshold, lcb, cfg.utility_threshold)


def evaluate_gates(inp: EvaluateInput, cfg: GateConfig) -> dict[str, GateResult]:
    """All six gates; change types other than `feature` skip novelty and profit (reported
    as passed with their computed value)."""
    skipping = inp.change_type != "feature"
    skip_note = f"skipped for change_type {inp.change_type}" if skipping else None
    risk = posterior(normalised_delta(inp.risk_baseline, inp.risk_proposed, cfg), cfg)
    profit = posterior(normalised_delta(inp.profit_baseline, inp.profit_proposed, cfg), cfg)
    novelty = novelty_gate(inp.novelty_score, cfg)
    profit_gate = bayes_gate(profit, cfg)
    if skipping:
        profit_gate = GateResult(True, profit_gate.value, profit_gate.threshold, None, skip_note)
        novelty = GateResult(True, novelty.value, novelty.threshold, None, skip_note)
    return {
        "risk": bayes_gate(risk, cfg),
        "profit": profit_gate,
        "novelty": novelty,
        "complexity": complexity_gate(inp.complexity_score, cfg),
        "quality": quality_gate(inp, cfg),
        "utility": utility_gate(risk, None if skipping else profit, cfg),
    }
