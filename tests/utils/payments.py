"""Jobs paid the way Stripe pays them: a stored `checkout.session.completed` event."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database
from aegis_core.jobs import create_job
from aegis_core.payments import webhooks
from tests.utils.stripe_events import checkout_completed


def order_and_pay(db: Database, source: Path, fmt: str = "sharegpt") -> tuple[str, str]:
    """A job awaiting payment and its stored, not yet fulfilled, payment: (job id, event id)."""
    with db.session() as s:
        job = create_job(
            s,
            source_url=source.as_uri(),
            description="Support dataset",
            output_format=fmt,
            auto_approve_threshold=Decimal("5"),
            actor="customer",
        )
        job.checkout_session_id = f"cs_test_{job.id}"
    event = checkout_completed(job.id, f"cs_test_{job.id}")
    with db.session() as s:
        webhooks.store(s, event)
    return job.id, event["id"]


def audit_trail(db: Database) -> list[tuple[int, str | None, str]]:
    """Every audit entry as (seq, job id, action): equal before and after means no change."""
    with db.session() as s:
        return [tuple(r) for r in s.execute(select(AuditLog.seq, AuditLog.job_id, AuditLog.action))]
