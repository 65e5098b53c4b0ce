"""Helpers for spend-ticket tests: a paid job, proposals, its audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from aegis_core.db.models import AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.jobs import JobStatus, create_job, transition
from aegis_core.loop import tickets


@dataclass(frozen=True)
class Proposal:
    kind: str
    amount: Decimal
    rationale: str
    units: int | None = None


def paid_job(
    db: Database,
    threshold: str = "5.00",
    *,
    customer_id: str | None = None,
    access_token_hash: str | None = None,
) -> str:
    """A job whose payment arrived: status `triage`, as when the refinery starts."""
    with db.session() as session:
        job = create_job(
            session,
            source_url="https://example.com/scans.pdf",
            description="Q/A pairs from scanned manuals",
            output_format="sharegpt",
            auto_approve_threshold=Decimal(threshold),
            actor="test",
            customer_id=customer_id,
            access_token_hash=access_token_hash,
        )
        transition(session, job, JobStatus.TRIAGE, actor="stripe", reason="payment received")
        return job.id


def propose(db: Database, job_id: str, amount: str, kind: str = "ocr", units: int = 3) -> str:
    with db.session() as session:
        job = session.get(Job, job_id)
        proposal = Proposal(kind, Decimal(amount), f"OCR for {units} pages without text", units)
        return tickets.propose(session, job, [proposal])[0].id


def audit_entries(db: Database, job_id: str, action: str | None = None) -> list[AuditLog]:
    with db.session() as session:
        query = select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.seq)
        if action is not None:
            query = query.where(AuditLog.action == action)
        return list(session.scalars(query))


def status_of(db: Database, ticket_id: str) -> str:
    with db.session() as session:
        return tickets.get_ticket(session, ticket_id).status
