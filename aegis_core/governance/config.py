"""Every constant of the gate mathematics (`spec/governance-gates.md`) as one setting.

Defaults are the spec's; a different `GateConfig` is how an operator recalibrates without
touching code, and `/health` checks the engine against the defaults' known outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class GateConfig:
    """Frozen so a decision can never be made with settings changed halfway through."""

    # Normalised delta: d = (p - b) / max(|b|, s_min); the floor keeps a zero baseline finite.
    s_min: float = 0.1
    # Risk and profit: conjugate Normal-Normal posterior of the delta.
    prior_mu: float = 0.0  # mu0: "no change expected"
    sigma0: float = 1.0  # prior sd
    sigma_l: float = 0.5  # likelihood (observation) sd
    delta_min: float = 2.0  # a "material" change
    bayes_threshold: float = 0.95  # the gate fails when P(delta >= delta_min) exceeds this
    use_posterior_predictive: bool = False  # sd = sqrt(var + sigma_l^2) instead of sqrt(var)
    # Novelty: logistic G(N) = 1 / (1 + exp(-k (N - N0))), pass iff G >= threshold.
    novelty_k: float = 10.0
    novelty_n0: float = 0.25
    novelty_threshold: float = 0.8
    # Complexity: hard floor, higher score = simpler; failing it halts, never overridable.
    complexity_floor: float = 0.5
    # Quality: score threshold; every subscore must be > 0 and the list non-empty.
    quality_threshold: float = 0.7
    default_subscores: tuple[float, ...] = (0.7, 0.7, 0.7)
    # Utility: LCB = U - z * sd_U (one-sided 95 %), pass iff LCB >= threshold.
    utility_z: float = 1.6448536
    utility_threshold: float = -3.0
    # Drift: KL of N(mean(O), s_B^2) against N(mu_B, s_B^2). With m = 2 observations,
    # 2m * KL ~ chi-square(1) under no drift: warning = P90 (2.7055 / 4), critical = P99
    # (6.6349 / 4).
    drift_min_values: int = 2
    drift_recommended_values: int = 30
    drift_sd_floor: float = 1e-6
    drift_tau_warning: float = 0.676375
    drift_tau_critical: float = 1.658725
    # Decisions.
    override_roles: tuple[str, ...] = ("risk_lead", "security_lead")
    decimals: int = 6

    def __post_init__(self) -> None:
        positive = {
            "s_min": self.s_min,
            "sigma0": self.sigma0,
            "sigma_l": self.sigma_l,
            "drift_sd_floor": self.drift_sd_floor,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"GateConfig.{name} must be a finite number > 0")
        if not 0 <= self.drift_tau_warning <= self.drift_tau_critical:
            raise ValueError("GateConfig drift thresholds need 0 <= warning <= critical")
        if self.drift_min_values < 1:
            raise ValueError("GateConfig.drift_min_values must be at least 1")


DEFAULT_CONFIG = GateConfig()
