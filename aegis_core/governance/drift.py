"""Drift of the current observations against a baseline, by KL divergence.

The current distribution is N(mean(O), s_B^2) against the baseline N(mu_B, s_B^2), so
KL = (mean(O) - mu_B)^2 / (2 s_B^2); 2m * KL is chi-square(1) under no drift, which
gives the P90 (warning) and P99 (critical) thresholds.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import dataclass

from aegis_core.governance.config import GateConfig

ACTIONS = {
    "normal": "continue",
    "warning": "alert_and_continue",
    "critical": "halt_and_recalibrate",
}


@dataclass(frozen=True)
class DriftResult:
    status: str
    kl_divergence: float
    action: str
    message: str


def baseline_hash(values: tuple[float, ...] | list[float]) -> str | None:
    if not values:
        return None
    return hashlib.sha256(json.dumps(list(values), separators=(",", ":")).encode()).hexdigest()


def evaluate_drift(
    observations: list[float], baseline: tuple[float, ...], cfg: GateConfig
) -> DriftResult | None:
    """None when the baseline is too short to judge."""
    if len(baseline) < cfg.drift_min_values:
        return None
    m = len(observations)
    mu_b = statistics.fmean(baseline)
    s_b = max(statistics.pstdev(baseline), cfg.drift_sd_floor)
    kl = (statistics.fmean(observations) - mu_b) ** 2 / (2 * s_b**2)
    warning, critical = cfg.drift_warning_chi2 / (2 * m), cfg.drift_critical_chi2 / (2 * m)
    if kl >= critical:
        status, message = "critical", f"KL divergence {kl:.6f} >= critical threshold {critical:g}"
    elif kl >= warning:
        status, message = "warning", f"KL divergence {kl:.6f} >= warning threshold {warning:g}"
    else:
        status, message = "normal", f"KL divergence {kl:.6f} below warning threshold {warning:g}"
    return DriftResult(status, kl, ACTIONS[status], message)
