"""What a certificate says: the AAR record of one job, read from the database.

Field names follow the product document (`cert_id`, `job_id`, `issued_at`, `ledger`,
`decisions`, `dataset`) plus the AAR record (`subject`, `principal`, `task`, `verdict`,
`checks`), the audit-chain head and the model backend. Amounts are decimal strings and
every number an integer or a plain float, so any JCS implementation hashes them alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core.audit.chain import HEAD_ID
from aegis_core.audit.redaction import scrub_text
from aegis_core.db.models import (
    AuditHead,
    AuditLog,
    GovernanceDecision,
    Job,
    Payment,
    SpendTicket,
    StripeEvent,
)
from aegis_core.payments import CURRENCY

VC_CONTEXT = ["https://www.w3.org/ns/credentials/v2"]
CREDENTIAL_TYPE = "AegisAuditCertificate"
AUTHORIZED = ("approved", "executing", "executed")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check's result, as the certificate records it."""

    name: str
    passed: bool
    asset: str | None = None
    blocking: bool = False
    severity: str = "ERROR"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "asset": self.asset,
            "passed": bool(self.passed),
            "blocking": bool(self.blocking),
            "severity": self.severity,
            "metadata": dict(self.metadata),
        }


def checks_of(checks: Iterable[CheckOutcome | Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for check in checks:
        item = check if isinstance(check, CheckOutcome) else CheckOutcome(**dict(check))
        out.append(item.as_dict())
    return out


def verdict(checks: Sequence[Mapping[str, Any]]) -> str:
    """`fail` if an error-severity check failed, `pass_with_warnings` if only warnings did."""
    failed = [c for c in checks if not c["passed"]]
    if any(c["blocking"] or c["severity"] == "ERROR" for c in failed):
        return "fail"
    return "pass_with_warnings" if failed else "pass"


def money(value: Any) -> str | None:
    """A dollar amount as a two-decimal string (`None` when it is not a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return str(amount.quantize(CENT)) if amount.is_finite() else None


def _cents(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(CENT))


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def public_source(url: str) -> str:
    """The source URL without credentials, query or fragment (they may hold secrets)."""
    try:
        parts = urlsplit(scrub_text(url))
    except ValueError:
        return "[unparsable URL]"
    return urlunsplit(parts._replace(query="", fragment=""))


def _entry_amount(details: Mapping[str, Any]) -> str | None:
    if "amount" in details:
        return money(details["amount"])
    cents = details.get("amount_cents")
    return _cents(cents) if isinstance(cents, int) and not isinstance(cents, bool) else None


def decisions(entries: Sequence[AuditLog]) -> list[dict[str, Any]]:
    """Every audit entry of the job: what was done, by whom, for how much."""
    out = []
    for row in entries:
        details = row.details or {}
        item: dict[str, Any] = {
            "seq": row.seq,
            "at": row.created_at,
            "action": row.action,
            "actor": row.actor,
            "amount": _entry_amount(details),
            "entry_hash": row.entry_hash,
        }
        for key in ("ticket_id", "from_status", "to_status"):
            item[key] = details[key] if isinstance(details.get(key), str) else None
        out.append(item)
    return out


def ledger(session: Session, job_id: str) -> dict[str, Any]:
    """Revenue received, spend authorized (test mode), and each approval."""
    payments = list(
        session.scalars(
            select(Payment).where(Payment.job_id == job_id).order_by(Payment.created_at)
        )
    )
    live = {
        event_id
        for (event_id,) in session.execute(
            select(StripeEvent.event_id).where(
                StripeEvent.event_id.in_([p.stripe_event_id for p in payments]),
                StripeEvent.livemode.is_(True),
            )
        )
    }
    tickets = list(
        session.scalars(
            select(SpendTicket)
            .where(SpendTicket.job_id == job_id)
            .order_by(SpendTicket.created_at, SpendTicket.id)
        )
    )
    authorized = [t for t in tickets if t.status in AUTHORIZED]
    return {
        "currency": payments[0].currency if payments else CURRENCY,
        "revenue": {
            "amount": _cents(sum(p.amount_cents for p in payments)),
            "mode": "live" if live else "test",
            "payments": [
                {
                    "amount": _cents(p.amount_cents),
                    "currency": p.currency,
                    "checkout_session_id": p.checkout_session_id,
                    "payment_intent_id": p.payment_intent_id,
                    "received_at": _iso(p.created_at),
                }
                for p in payments
            ],
        },
        "spend_authorized": {
            "amount": money(sum((Decimal(t.amount) for t in authorized), Decimal(0))),
            "mode": "test",
            "tickets": len(authorized),
        },
        "approvals": [
            {
                "ticket_id": t.id,
                "kind": t.kind,
                "amount": money(t.amount),
                "status": t.status,
                "decided_by": t.decided_by,
                "decided_at": _iso(t.decided_at),
                "stripe_pi_id": t.stripe_pi_id,
            }
            for t in tickets
            if t.decided_by is not None or t.status in AUTHORIZED
        ],
    }


def governance(session: Session, job_id: str) -> list[dict[str, Any]]:
    """The governance decisions stored for this job (the loop's scoring)."""
    rows = session.scalars(
        select(GovernanceDecision)
        .where(GovernanceDecision.job_id == job_id)
        .order_by(GovernanceDecision.timestamp, GovernanceDecision.id)
    )
    return [
        {
            "decision_id": d.id,
            "status": d.status,
            "confidence": d.confidence,
            "estimated_impact": d.estimated_impact,
            "proposal_summary": scrub_text(d.proposal_summary),
            "gates_passed": d.gates_passed,
            "gates_failed": d.gates_failed,
            "audit_hash": d.audit_hash,
            "timestamp": _iso(d.timestamp),
        }
        for d in rows
    ]


def model(job: Job, entries: Sequence[AuditLog]) -> dict[str, Any]:
    """The model backend that scored the job: the job's record, else its `scored` entry."""
    backend, name = job.model_backend, job.model_name
    if backend is None:
        for row in reversed(entries):
            details = row.details or {}
            if isinstance(details.get("model_backend"), str):
                backend, name = details["model_backend"], details.get("model_name")
                break
    return {"backend": backend, "name": name if isinstance(name, str) else None}


def job_entries(session: Session, job_id: str) -> list[AuditLog]:
    return list(
        session.scalars(select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.seq))
    )


def chain_head(session: Session, entries: Sequence[AuditLog]) -> dict[str, Any]:
    """The chain's head, read after the job's entries so that it covers every one of them."""
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    return {
        "algorithm": "sha256-jcs-chain",
        "head_seq": head.seq if head else None,
        "head_hash": head.entry_hash if head else None,
        "job_entries": len(entries),
        "job_last_seq": entries[-1].seq if entries else None,
        "job_last_hash": entries[-1].entry_hash if entries else None,
    }


def _source_sha256(entries: Sequence[AuditLog]) -> str | None:
    for row in reversed(entries):
        if row.action == "source_fetched" and isinstance(row.details.get("sha256"), str):
            return row.details["sha256"]
    return None


def aar(job: Job, entries: Sequence[AuditLog], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "subject": f"urn:aegis:job:{job.id}",
        "principal": {
            "customer_id": job.customer_id,
            "user_id": job.user_id,
        },
        "task": {
            "description": scrub_text(job.description),
            "format": job.output_format,
            "source": public_source(job.input_path),
            "source_sha256": _source_sha256(entries),
            "auto_approve_threshold": money(job.auto_approve_threshold),
            "complexity_score": job.complexity_score,
            "estimated_cost": money(job.estimated_cost),
        },
        "verdict": verdict(checks),
        "checks": checks,
    }


def credential(
    subject: dict[str, Any], *, cert_id: str, issuer: str, issued_at: str
) -> dict[str, Any]:
    """The unsigned Verifiable Credential (VC Data Model 2.0) around the AAR subject."""
    return {
        "@context": VC_CONTEXT,
        "id": f"urn:aegis:certificate:{cert_id}",
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "name": "Aegis Refine audit certificate",
        "description": "The signed after-action record of one dataset refinement job.",
        "issuer": issuer,
        "validFrom": issued_at,
        "credentialSubject": subject,
    }
