"""Every constant of the gate mathematics (`spec/governance-gates.md`), as one setting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateConfig:
    # Normalised delta: d = (p - b) / max(|b|, s_min)
    s_min: float = 0.1
    # Risk and profit: conjugate Normal-Normal posterior of the delta
    prior_mu: float = 0.0
    prior_sigma2: float = 1.0
    likelihood_sigma2: float = 0.25
    delta_min: float = 2.0
    bayes_threshold: float = 0.95
    use_posterior_predictive: bool = False
    # Novelty: logistic G(N) = 1 / (1 + exp(-k (N - N0)))
    novelty_k: float = 10.0
    novelty_n0: float = 0.25
    novelty_threshold: float = 0.8
    # Complexity: hard floor (higher score = simpler)
    complexity_floor: float = 0.5
    # Quality
    quality_threshold: float = 0.7
    default_subscores: tuple[float, ...] = (0.7, 0.7, 0.7)
    # Utility: lower confidence bound
    utility_z: float = 1.6448536
    utility_threshold: float = -3.0
    # Drift: KL divergence against a baseline
    drift_min_values: int = 2
    drift_recommended_values: int = 30
    drift_sd_floor: float = 1e-6
    drift_warning_chi2: float = 2.7055  # P90 of chi-square(1)
    drift_critical_chi2: float = 6.6349  # P99 of chi-square(1)
    # Decisions
    override_roles: tuple[str, ...] = ("risk_lead", "security_lead")
    decimals: int = 6


DEFAULT_CONFIG = GateConfig()
