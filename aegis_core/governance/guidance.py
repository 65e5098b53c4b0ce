"""The words of a decision: rationale, next steps and constraints.

Kept apart from the rules (`decision.py`) because wording changes often and rules must
not. Everything here is a pure function of the gate results, so text is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping

from aegis_core.governance.config import GateConfig
from aegis_core.governance.drift import DriftResult
from aegis_core.governance.gates import GateResult
from aegis_core.governance.numbers import fmt
from aegis_core.governance.validation import EvaluateInput

HIGH_IMPACT = ("high", "critical")

# By status, then PCW phase: what to do next at that point of the lifecycle.
PHASE_STEPS: dict[str, dict[str, tuple[str, ...]]] = {
    "proceed": {
        "plan": (
            "Move the proposal to the commit phase.",
            "Record this decision_id with the change for the audit trail.",
        ),
        "commit": (
            "Commit the change and reference this decision_id in its description.",
            "Put risk and profit monitoring in place before the work phase starts.",
        ),
        "work": (
            "Continue the rollout while monitoring risk and profit against the baseline.",
            "Re-evaluate if observations move away from the drift baseline.",
        ),
    },
    "pause": {
        "plan": (
            "Revise the plan to address the reasons in the rationale, then re-evaluate.",
            "Or ask a risk lead and a security lead (two distinct people) for an override.",
        ),
        "commit": (
            "Hold the commit until those reasons are resolved or a two-key override is approved.",
            "Document the mitigation for each issue in the commit description.",
        ),
        "work": (
            "Pause further rollout and keep the current state stable.",
            "Resume only after human approval or a two-key override.",
        ),
    },
    "escalate": {
        "plan": (
            "Escalate the plan to a risk lead and a security lead before committing.",
            "Attach the gate results, this rationale and a rollback plan to the escalation.",
        ),
        "commit": (
            "Do not commit until both the risk lead and the security lead approve.",
            "Prepare and test a rollback plan for the reviewers.",
        ),
        "work": (
            "Stop expanding the rollout until the escalation is resolved.",
            "Keep the rollback path ready while the reviewers decide.",
        ),
    },
    "halt": {
        "plan": ("Stop: this decision cannot be overridden; rework the proposal first.",),
        "commit": ("Do not commit this change; this decision cannot be overridden.",),
        "work": (
            "Halt the work and roll back to the last known good state; "
            "this decision cannot be overridden.",
        ),
    },
}


def _gate_fix(name: str, cfg: GateConfig) -> str:
    return {
        "risk": "Reduce the projected risk increase, or split the change into smaller steps.",
        "profit": "Substantiate the projected profit jump with evidence before relying on it.",
        "novelty": (
            "Confirm the change is worth making, or set change_type if it is a refactor, "
            "bugfix or config change."
        ),
        "complexity": (
            "Simplify or split the change until complexity_score reaches "
            f"{fmt(cfg.complexity_floor)}."
        ),
        "quality": (
            f"Raise the quality score to at least {fmt(cfg.quality_threshold)} "
            "and fix every missing or zero subscore."
        ),
        "utility": "Improve the expected profit-to-risk balance of the change.",
    }[name]


def _approval_reasons(inp: EvaluateInput) -> list[str]:
    reasons = []
    if inp.estimated_impact in HIGH_IMPACT:
        reasons.append(f"{inp.estimated_impact} impact requires human approval")
    if inp.requires_human_approval:
        reasons.append("human approval was requested")
    if not inp.reversible:
        reasons.append("an irreversible change requires human approval")
    return reasons


def rationale(
    status: str,
    gates: Mapping[str, GateResult],
    failing: list[str],
    drift: DriftResult | None,
    inp: EvaluateInput,
) -> str:
    """One or two sentences: the verdict, the failing gates and why."""
    total = len(gates)
    tally = f"{total - len(failing)} of {total} gates passed"
    why = "; ".join(f"the {name} gate failed: {gates[name].message}" for name in failing)
    reasons = _approval_reasons(inp)
    if status == "halt" and "complexity" in failing:
        text = f"Halted: {why}. A complexity floor failure cannot be overridden ({tally})."
    elif status == "halt":
        kl = drift.message if drift is not None else "drift status critical"
        text = f"Halted: critical drift ({kl}); recalibrate before continuing"
        text += f" ({tally}{'; ' + why if why else ''})."
    elif status == "proceed":
        text = f"Proceed: all {total} gates passed and no human approval is required."
    elif not failing:
        verb = "Escalated" if status == "escalate" else "Paused"
        text = f"{verb}: all {total} gates passed, but {' and '.join(reasons)}."
    else:
        verb = "Escalated" if status == "escalate" else "Paused"
        text = f"{verb} for human review ({tally}): {why}."
        if reasons:
            text += f" Also, {' and '.join(reasons)}."
    if drift is not None and drift.status == "warning" and not inp.shadow_mode:
        text += f" Drift warning: {drift.message}."
    if inp.shadow_mode:
        text += " Shadow mode: this decision is recorded for calibration and not enforced."
    return text


def next_steps(
    status: str,
    failing: list[str],
    drift: DriftResult | None,
    inp: EvaluateInput,
    cfg: GateConfig,
) -> list[str]:
    """Phase guidance for the status, then one concrete fix per failing gate."""
    steps = list(PHASE_STEPS[status][inp.phase])
    steps += [_gate_fix(name, cfg) for name in failing]
    if drift is not None and drift.status != "normal" and not inp.shadow_mode:
        if drift.status == "critical":
            steps.append("Investigate the shift and recalibrate the drift baseline.")
        else:
            steps.append("Investigate the drift warning before the next evaluation.")
    if inp.shadow_mode:
        steps.append("Compare this shadow decision with the real outcome to calibrate.")
    return steps


def constraints(
    gates: Mapping[str, GateResult],
    drift: DriftResult | None,
    inp: EvaluateInput,
    cfg: GateConfig,
) -> list[str]:
    """Active constraints: the hard floor, approval requirements, drift and its baseline."""
    out = []
    if not gates["complexity"].passed:
        floor, score = fmt(cfg.complexity_floor), fmt(inp.complexity_score)
        out.append(f"complexity floor not met ({score} < {floor})")
    out += _approval_reasons(inp)
    n = len(inp.drift_baseline_data)
    if 0 < n < cfg.drift_recommended_values:
        out.append(f"drift baseline below recommended {cfg.drift_recommended_values} values")
    if 0 < n < cfg.drift_min_values:
        out.append(f"drift not evaluated: baseline has fewer than {cfg.drift_min_values} values")
    if drift is not None and drift.status != "normal":
        where = " (shadow mode: recorded for calibration only)" if inp.shadow_mode else ""
        out.append(f"drift {drift.status}: {drift.message}{where}")
    if inp.shadow_mode:
        out.append("shadow mode: decision not enforced")
    return out
