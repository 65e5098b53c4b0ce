"""The job status state machine. Every status change goes through `transition`.

`awaiting_payment` is the one status beyond the product document: a job exists from
`POST /jobs/` (so the checkout can reference it) but nothing runs until Stripe confirms
payment, which moves it to `triage`.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import Job
from aegis_core.errors import IllegalTransition


class JobStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    TRIAGE = "triage"
    REFINING = "refining"
    AWAITING_GATE = "awaiting_gate"
    COMPLETE = "complete"
    HALTED = "halted"


S = JobStatus
# In the works: a run (or an open gate) is expected to move the job on.
ACTIVE = frozenset({JobStatus.TRIAGE, JobStatus.REFINING, JobStatus.AWAITING_GATE})
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.AWAITING_PAYMENT: frozenset({S.TRIAGE, S.HALTED}),
    S.TRIAGE: frozenset({S.REFINING, S.AWAITING_GATE, S.HALTED}),
    S.AWAITING_GATE: frozenset({S.REFINING, S.HALTED}),
    S.REFINING: frozenset({S.AWAITING_GATE, S.COMPLETE, S.HALTED}),
    # An operator may re-run a finished or halted job from the start.
    S.COMPLETE: frozenset({S.TRIAGE}),
    S.HALTED: frozenset({S.TRIAGE}),
}


def can_transition(current: str, target: str) -> bool:
    try:
        return JobStatus(target) in TRANSITIONS[JobStatus(current)]
    except ValueError:
        return False


def transition(
    session: Session, job: Job, target: JobStatus | str, *, actor: str, reason: str | None = None
) -> Job:
    """Move `job` to `target`, or raise `IllegalTransition`; the change is audited."""
    target = JobStatus(target) if target in JobStatus._value2member_map_ else target
    if not can_transition(job.status, target):
        raise IllegalTransition(f"job {job.id}: {job.status} -> {target} is not allowed")
    previous = job.status
    job.status = str(target)
    if target == JobStatus.HALTED:
        job.halt_reason = reason or "halted"
    elif target == JobStatus.TRIAGE:
        job.halt_reason = None
    details = {"from_status": previous, "to_status": str(target)}
    if reason:
        details["reason"] = reason
    session.flush()
    audit.append(session, job.id, "status_change", actor, details)
    return job


def create_job(
    session: Session,
    *,
    source_url: str,
    description: str,
    output_format: str,
    auto_approve_threshold: object,
    actor: str,
    customer_id: str | None = None,
    access_token_hash: str | None = None,
    job_id: str | None = None,
) -> Job:
    """A new job awaiting payment; its creation is the first audit entry of its chain."""
    job = Job(
        status=str(JobStatus.AWAITING_PAYMENT),
        input_path=source_url,
        description=description,
        output_format=output_format,
        auto_approve_threshold=auto_approve_threshold,
        customer_id=customer_id,
        access_token_hash=access_token_hash,
    )
    if job_id:
        job.id = job_id
    session.add(job)
    session.flush()
    audit.append(
        session,
        job.id,
        "job_created",
        actor,
        {
            "source_url": source_url,
            "output_format": output_format,
            "auto_approve_threshold": auto_approve_threshold,
            "status": job.status,
        },
    )
    return job
