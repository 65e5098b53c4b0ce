"""Operator requests (re-process a job, re-issue its certificate) as rows a sensor reads.

The API never launches runs itself: it records the request, audited with the operator
as actor, and `aegis_sensors` turns each row into exactly one run (run_key = row id).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.certificates.issue import certifiable
from aegis_core.db.models import Job, OperatorRequest
from aegis_core.errors import Conflict, NotFound, ValidationError

KINDS = ("process", "complete")


def request(session: Session, job_id: str, kind: str, actor: str) -> OperatorRequest:
    if kind not in KINDS:
        raise ValidationError(f"unknown operator request {kind!r}")
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.status == "awaiting_payment":
        raise Conflict(f"job {job_id} is not paid yet")
    if kind == "complete" and (refusal := certifiable(job)):
        raise Conflict(refusal)
    row = OperatorRequest(job_id=job_id, kind=kind, requested_by=actor)
    session.add(row)
    session.flush()
    audit.append(
        session, job_id, f"operator_{kind}_requested", actor, {"kind": kind, "requested_by": actor}
    )
    return row


def pending(session: Session, after: int, limit: int = 100) -> Sequence[OperatorRequest]:
    return session.scalars(
        select(OperatorRequest)
        .where(OperatorRequest.seq > after)
        .order_by(OperatorRequest.seq)
        .limit(limit)
    ).all()
