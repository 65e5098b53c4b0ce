"""Drift of the current observations against a client-supplied baseline, by KL divergence.

The current distribution is N(mean(O), s_B^2) against the baseline N(mu_B, s_B^2), so
KL = (mean(O) - mu_B)^2 / (2 s_B^2). No histogram: with only two current observations a
binned KL is degenerate. Under no drift 2m * KL ~ chi-square(1), which is where the P90
(warning) and P99 (critical) thresholds in `GateConfig` come from.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from aegis_core.governance.config import GateConfig
from aegis_core.governance.numbers import fmt

ACTIONS = {
    "normal": "continue",
    "warning": "alert_and_continue",
    "critical": "halt_and_recalibrate",
}


@dataclass(frozen=True)
class DriftResult:
    status: str  # normal | warning | critical
    kl_divergence: float
    action: str
    message: str


def baseline_hash(values: Sequence[float]) -> str | None:
    """SHA-256 hex of the baseline (nulls removed) as a compact JSON array; None if empty.

    Values are hashed as the client sent them, so a client can recompute the hash with
    `json.dumps(values, separators=(",", ":"))` on its own list.
    """
    if not values:
        return None
    return hashlib.sha256(json.dumps(list(values), separators=(",", ":")).encode()).hexdigest()


def kl_divergence(
    observations: Sequence[float], baseline: Sequence[float], sd_floor: float
) -> float:
    """(mean(O) - mu_B)^2 / (2 s_B^2), s_B the population sd floored at `sd_floor`;
    both sequences non-empty.

    Everything is divided by one common scale first (KL is scale-free), so baselines of
    huge finite numbers cannot overflow; an infinite observation is infinitely far away.
    """
    if not all(math.isfinite(o) for o in observations):
        return math.inf
    largest = max(abs(v) for v in [*baseline, *observations])
    scale = largest if largest > 1e150 else 1.0
    b = [v / scale for v in baseline]
    mu_b = math.fsum(b) / len(b)
    s_b = max(math.sqrt(math.fsum((v - mu_b) * (v - mu_b) for v in b) / len(b)), sd_floor / scale)
    mean_o = math.fsum(o / scale for o in observations) / len(observations)
    z = (mean_o - mu_b) / s_b
    return z * z / 2.0


def evaluate_drift(
    observations: Sequence[float], baseline: Sequence[float], cfg: GateConfig
) -> DriftResult | None:
    """None when the baseline has fewer than `drift_min_values` values (not evaluated)."""
    if len(baseline) < cfg.drift_min_values:
        return None
    kl = kl_divergence(observations, baseline, cfg.drift_sd_floor)
    warning, critical = cfg.drift_tau_warning, cfg.drift_tau_critical
    if kl >= critical:
        status, message = "critical", f"KL divergence {fmt(kl)} >= critical {fmt(critical)}"
    elif kl >= warning:
        status, message = "warning", f"KL divergence {fmt(kl)} >= warning {fmt(warning)}"
    else:
        status, message = "normal", f"KL divergence {fmt(kl)} < warning {fmt(warning)}"
    return DriftResult(status, kl, ACTIONS[status], message)
