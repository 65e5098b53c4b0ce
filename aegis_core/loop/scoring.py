"""The loop's autonomous half for one job: triage -> score -> route -> propose, governed.

`score_job` measures the job's features, asks the model to triage, score and propose
(priced at the job's prices, so an amount is always units x price), runs the governance
engine on the job's proposal, and records it all in one transaction:
- the job row: `complexity_score`, `estimated_cost` (the flat fee plus the projected
  spend), the model backend and model id;
- the governance decision, stored for the job (and for its owning customer, so it lists
  in that customer's `/customer/decisions`), audited like every decision;
- a `scored` audit entry on the job with the features, the model's answers and the decision;
- the spend tickets under POLICY-DATA-REFINE-01 (`tickets.propose`).
The job halts (no ticket proposed) when the route is `halt` or the decision is `halt`;
`Scored.halt_reason` says why and the caller halts the job with it.

The proposal as the engine sees it (`evaluation_body`): the engine's complexity is a
simplicity (higher = simpler, floor 0.5), so it gets 1 - complexity_score; quality is the
model's; the impact is `low` without spend, `medium` when every ticket is within the job's
auto-approve threshold, `high` when a person must approve one (which is also
`requires_human_approval`). Risk and profit deltas are not measured for a refinery job:
they stay at the engine's defaults.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from aegis_core import audit, decisions
from aegis_core.db.models import GovernanceDecision, Job
from aegis_core.db.session import Database
from aegis_core.errors import AegisError, NotFound
from aegis_core.governance import evaluate, parse_evaluate
from aegis_core.loop import tickets
from aegis_core.loop.features import Features, measure
from aegis_core.loop.model import AegisModel, JobView, Proposal, Score, Triage
from aegis_core.payments import FLAT_FEE_CENTS
from aegis_core.refine.service import JobFiles

FLAT_FEE = Decimal(FLAT_FEE_CENTS) / 100
AGENT = "agent"


class JobHalted(AegisError):
    """The loop decided the job cannot go on; the message is the rationale."""


@dataclass(frozen=True)
class Scored:
    features: Features
    triage: Triage
    score: Score
    proposals: list[Proposal]
    decision: dict[str, Any]
    estimated_cost: Decimal
    tickets: list[dict[str, Any]]
    halt_reason: str | None

    @property
    def projected_spend(self) -> Decimal:
        return sum((p.amount for p in self.proposals), Decimal("0.00"))


def prices(settings: Any) -> dict[str, Decimal]:
    """USD per unit of each spend kind the loop may propose."""
    return {"ocr": Decimal(settings.ocr_price_per_page)}


def job_view(job: Job, settings: Any) -> JobView:
    return JobView(
        job_id=job.id,
        description=job.description,
        auto_approve_threshold=Decimal(job.auto_approve_threshold),
        prices=prices(settings),
    )


def _summary(job: Job, features: Features, triage: Triage, proposals: Sequence[Proposal]) -> str:
    spend = "; ".join(f"{p.kind} {p.units} {p.unit}s ${p.amount}" for p in proposals) or "none"
    return (
        f"Refine job {job.id}: {features.samples} {features.source_format} samples to "
        f"{job.output_format}, route {triage.route}, external spend: {spend}"
    )


def evaluation_body(
    job: Job,
    features: Features,
    triage: Triage,
    score: Score,
    proposals: Sequence[Proposal],
) -> dict[str, Any]:
    """The job's proposal as a POST /evaluate body (see the module docstring)."""
    threshold = Decimal(job.auto_approve_threshold)
    spend = sum((p.amount for p in proposals), Decimal("0.00"))
    human = any(p.amount > threshold for p in proposals)
    return {
        "proposal_summary": _summary(job, features, triage, proposals),
        "estimated_impact": "high" if human else "medium" if proposals else "low",
        "agent_id": f"aegis-refine:{score.backend or triage.backend}",
        "session_id": job.id,
        "phase": "plan",
        "complexity_score": round(1.0 - score.complexity_score, 6),
        "quality_score": score.quality,
        "requires_human_approval": human,
        "reversible": True,
        "change_type": "feature",
        "metadata": {
            "job_id": job.id,
            "route": triage.route,
            "model_backend": score.backend,
            "model_name": score.model_id,
            "projected_spend": str(spend),
            "auto_approve_threshold": str(threshold),
        },
    }


def _now_iso(now: datetime) -> str:
    return now.isoformat(timespec="microseconds").replace("+00:00", "Z")


def halt_reason(triage: Triage, decision: Mapping[str, Any]) -> str | None:
    if triage.route == "halt":
        return "triage: " + "; ".join(triage.reasons)
    if decision["status"] == "halt":
        return f"governance halt ({', '.join(decision['failing_gates'])}): {decision['rationale']}"
    return None


def score_job(
    db: Database, job_id: str, files: JobFiles, model: AegisModel, settings: Any
) -> Scored:
    """Score the job (see the module docstring); raises `ModelError` when the model gives no
    valid answer, touching nothing."""
    features = measure(files)
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        view = job_view(job, settings)
    triage = model.triage(features)
    score = model.score(features, triage)
    proposals = model.propose(features, score, view) if triage.route != "halt" else []
    body = evaluation_body(job, features, triage, score, proposals)
    decision = evaluate(
        parse_evaluate(body), decision_id=str(uuid.uuid4()), timestamp=_now_iso(datetime.now(UTC))
    )
    halt = halt_reason(triage, decision)
    cost = FLAT_FEE + sum((p.amount for p in proposals), Decimal("0.00"))
    with db.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        job.complexity_score = score.complexity_score
        job.estimated_cost = cost
        job.model_backend = score.backend or model.name
        job.model_name = score.model_id or model.model_id
        (digest,) = decisions.store_many(
            session,
            [
                decisions.NewDecision(
                    decision=decision,
                    customer_id=job.customer_id,
                    agent_id=body["agent_id"],
                    session_id=job.id,
                    proposal_summary=body["proposal_summary"],
                    estimated_impact=body["estimated_impact"],
                    input_context=body,
                )
            ],
        )
        session.execute(
            update(GovernanceDecision)
            .where(GovernanceDecision.id == decision["decision_id"])
            .values(job_id=job.id)
            .execution_options(synchronize_session=False)
        )
        audit.append(
            session,
            job.id,
            "scored",
            AGENT,
            {
                "model_backend": job.model_backend,
                "model_name": job.model_name,
                "features": features.as_dict(),
                "route": triage.route,
                "reasons": triage.reasons,
                "complexity_score": score.complexity_score,
                "quality": score.quality,
                "rationale": score.rationale,
                "estimated_cost": str(cost),
                "spend": [p.as_dict() for p in proposals],
                "decision_id": decision["decision_id"],
                "status": decision["status"],
                "failing_gates": decision["failing_gates"],
                "audit_hash": digest,
                "outcome": "halt" if halt else "proceed",
            },
        )
        proposed = [] if halt else tickets.propose(session, job, proposals, actor=AGENT)
        views = [tickets.ticket_view(t) for t in proposed]
    return Scored(features, triage, score, proposals, decision, cost, views, halt)
