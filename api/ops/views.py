"""What the console's pages show, read from the database (plain dicts for the templates).

Operators see a job's audit actors (emails) and its source URL, less any credentials,
query or fragment (as the certificate shows it); the audit details are the log's own,
redacted when they were written.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import certificates
from aegis_core.certificates.content import public_source
from aegis_core.db.models import AuditLog, Job
from aegis_core.errors import NotFound
from aegis_core.loop import tickets
from aegis_core.loop.tickets import TicketStatus

JOBS_SHOWN = 50
# The asset whose partition (one per job) the lineage link opens in the Dagster UI.
LINEAGE_ASSET = ("refined_jsonl",)
LINEAGE_VIEW = {"view": "lineage", "lineageScope": "neighbors", "lineageDepth": 5}


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def job_row(session: Session, job: Job) -> dict[str, Any]:
    current = tickets.current_tickets(session, job.id)
    return {
        "id": job.id,
        "status": job.status,
        "gate": tickets.gate_state(current),
        "waiting": sum(t.status == TicketStatus.PROPOSED for t in current),
        "description": job.description,
        "format": job.output_format,
        "estimated_cost": _money(job.estimated_cost),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def overview(session: Session) -> dict[str, Any]:
    """The console's home: tickets waiting for a person, then the latest jobs."""
    jobs = session.scalars(
        select(Job).order_by(Job.created_at.desc(), Job.id).limit(JOBS_SHOWN)
    ).all()
    waiting = tickets.list_tickets(session, str(TicketStatus.PROPOSED), 500)
    return {"proposed": waiting, "jobs": [job_row(session, job) for job in jobs]}


def dagster_links(base_url: str, job_id: str) -> dict[str, str]:
    """Deep links into the Dagster UI for the job's partition of the refinery's assets."""
    path = "/".join(quote(part, safe="") for part in LINEAGE_ASSET)
    base = f"{base_url.rstrip('/')}/assets/{path}"
    return {
        "partition": f"{base}?{urlencode({'view': 'partitions', 'partition': job_id})}",
        "lineage": f"{base}?{urlencode(LINEAGE_VIEW)}",
    }


URL_DETAILS = ("source_url", "final_url")  # shown like the job's source: no query, no secrets


def _details(details: dict[str, Any]) -> str:
    shown = {
        k: public_source(v) if k in URL_DETAILS and isinstance(v, str) else v
        for k, v in details.items()
    }
    return json.dumps(shown, indent=1, sort_keys=True, ensure_ascii=False)


def audit_trail(session: Session, job_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.seq)
    ).all()
    return [
        {
            "seq": row.seq,
            "at": row.created_at,
            "action": row.action,
            "actor": row.actor,
            "details": _details(row.details),
        }
        for row in rows
    ]


def job_page(session: Session, job_id: str, dagster_ui_url: str) -> dict[str, Any]:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    certificate = certificates.latest(session, job_id)
    return {
        "job": {
            **job_row(session, job),
            "halt_reason": job.halt_reason,
            "source_url": public_source(job.input_path),
            "threshold": _money(job.auto_approve_threshold),
            "complexity_score": job.complexity_score,
            "model": " / ".join(p for p in (job.model_backend, job.model_name) if p) or None,
            "customer_id": job.customer_id,
            "dataset": job.dataset or {},
        },
        "tickets": [tickets.ticket_view(t) for t in tickets.job_tickets(session, job_id)],
        "certificate": None
        if certificate is None
        else {"id": certificate.id, "has_pdf": bool(certificate.pdf_path)},
        "dagster": dagster_links(dagster_ui_url, job_id),
        "audit": audit_trail(session, job_id),
    }
