"""The six gates of `spec/governance-gates.md`. Each returns a `GateResult`; none decides
the overall status (that is `decision.decide_status`), so every gate is testable alone.

Inputs are validated finite numbers, but they may be astronomically large: the maths
here never raises on them (overflow becomes an infinite or NaN value, and a NaN fails its
gate), so a strange request gets a decision instead of a server error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aegis_core.governance.config import GateConfig
from aegis_core.governance.numbers import fmt
from aegis_core.governance.validation import EvaluateInput

GATE_ORDER = ("risk", "profit", "novelty", "complexity", "quality", "utility")
SKIPPED_BY_CHANGE_TYPE = ("novelty", "profit")


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
    """Standard normal CDF via erfc (accurate in both tails)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normalised_delta(baseline: float, proposed: float, cfg: GateConfig) -> float:
    """Relative change, with |baseline| floored at s_min so a zero baseline stays finite."""
    return (proposed - baseline) / max(abs(baseline), cfg.s_min)


def posterior(delta: float, cfg: GateConfig) -> Posterior:
    """Conjugate Normal-Normal update of the prior N(mu0, sigma0^2) by one observation."""
    prior_var, lik_var = cfg.sigma0**2, cfg.sigma_l**2
    var = 1.0 / (1.0 / prior_var + 1.0 / lik_var)
    mu = var * (cfg.prior_mu / prior_var + delta / lik_var)
    sd = math.sqrt(var + lik_var) if cfg.use_posterior_predictive else math.sqrt(var)
    return Posterior(mu, sd, 1.0 - phi((cfg.delta_min - mu) / sd))


def bayes_gate(name: str, post: Posterior, cfg: GateConfig) -> GateResult:
    """Risk or profit: passes unless strong evidence (P > threshold) of a material change
    calls for review. Confidence is the posterior probability that the verdict is right."""
    p, threshold = post.p_material, cfg.bayes_threshold
    passed = p <= threshold
    claim = f"P({name} delta >= {fmt(cfg.delta_min)}) = {fmt(p)}"
    if passed:
        message = f"{name} delta within acceptable bounds ({claim} <= {fmt(threshold)})"
    elif name == "profit":
        message = f"outsized profit jump claimed ({claim} > {fmt(threshold)}); verify it"
    else:
        message = f"material {name} increase likely ({claim} > {fmt(threshold)})"
    return GateResult(passed, p, threshold, 1.0 - p if passed else p, message)


def logistic(x: float) -> float:
    """1 / (1 + e^-x) without overflow for any x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def novelty_gate(score: float, cfg: GateConfig) -> GateResult:
    """G(N) >= threshold; a low score means a trivial proposal, which fails."""
    g, threshold = logistic(cfg.novelty_k * (score - cfg.novelty_n0)), cfg.novelty_threshold
    if g >= threshold:
        return GateResult(True, g, threshold, None, f"novelty G = {fmt(g)} >= {fmt(threshold)}")
    message = f"novelty too low, proposal looks trivial (G = {fmt(g)} < {fmt(threshold)})"
    return GateResult(False, g, threshold, None, message)


def complexity_gate(score: float, cfg: GateConfig) -> GateResult:
    floor = cfg.complexity_floor
    if score >= floor:
        return GateResult(True, score, floor, None, f"complexity {fmt(score)} meets floor")
    return GateResult(
        False, score, floor, None, f"complexity floor not met ({fmt(score)} < {fmt(floor)})"
    )


def quality_gate(score: float, subs: tuple[float, ...], cfg: GateConfig) -> GateResult:
    """Score at or above the threshold, and at least one subscore, none of them zero."""
    threshold = cfg.quality_threshold
    problems = []
    if score < threshold:
        problems.append(f"quality below threshold ({fmt(score)} < {fmt(threshold)})")
    if not subs:
        problems.append("quality_subscores is empty")
    elif min(subs) <= 0:
        problems.append(f"a quality subscore is zero or below (min {fmt(min(subs))})")
    if problems:
        return GateResult(False, score, threshold, None, "; ".join(problems))
    return GateResult(True, score, threshold, None, f"quality {fmt(score)} >= {fmt(threshold)}")


def utility_gate(risk: Posterior, profit: Posterior | None, cfg: GateConfig) -> GateResult:
    """LCB of U = mu_profit - mu_risk; without profit (skipped), U = -mu_risk."""
    if profit is None:
        u, sd_u = -risk.mu, risk.sd
    else:
        u, sd_u = profit.mu - risk.mu, math.hypot(risk.sd, profit.sd)
    lcb = u - cfg.utility_z * sd_u
    threshold = cfg.utility_threshold
    if lcb >= threshold:
        return GateResult(True, lcb, threshold, None, f"utility LCB {fmt(lcb)} >= {fmt(threshold)}")
    if math.isnan(lcb):
        return GateResult(False, lcb, threshold, None, "utility LCB is not a number")
    return GateResult(
        False, lcb, threshold, None, f"utility LCB too low ({fmt(lcb)} < {fmt(threshold)})"
    )


def skipped(gate: GateResult, change_type: str) -> GateResult:
    """Reported as passed with the computed value; no confidence, since nothing was judged."""
    return GateResult(
        True, gate.value, gate.threshold, None, f"skipped for change_type {change_type}"
    )


def evaluate_gates(inp: EvaluateInput, cfg: GateConfig) -> dict[str, GateResult]:
    """All six gates in `GATE_ORDER`; change types other than `feature` skip novelty and
    profit (and utility then ignores profit)."""
    risk = posterior(normalised_delta(inp.risk_baseline, inp.risk_proposed, cfg), cfg)
    profit = posterior(normalised_delta(inp.profit_baseline, inp.profit_proposed, cfg), cfg)
    skip = inp.change_type != "feature"
    gates = {
        "risk": bayes_gate("risk", risk, cfg),
        "profit": bayes_gate("profit", profit, cfg),
        "novelty": novelty_gate(inp.novelty_score, cfg),
        "complexity": complexity_gate(inp.complexity_score, cfg),
        "quality": quality_gate(inp.quality_score, inp.quality_subscores, cfg),
        "utility": utility_gate(risk, None if skip else profit, cfg),
    }
    if skip:
        for name in SKIPPED_BY_CHANGE_TYPE:
            gates[name] = skipped(gates[name], inp.change_type)
    return gates
