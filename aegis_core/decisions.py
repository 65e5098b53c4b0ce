"""Persisted governance decisions: stored per customer, listed by month, exported.

Every stored decision carries `audit_hash`, the SHA-256 of its canonical record, and is
appended to the audit log, so a decision changed after the fact no longer matches
either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import GovernanceDecision
from aegis_core.errors import NotFound, ValidationError
from aegis_core.governance import audit_hash, canonical_record

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
CSV_COLUMNS = (
    "decision_id",
    "status",
    "confidence",
    "proposal_summary",
    "timestamp",
    "gates_passed",
    "gates_failed",
)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str | None, now: datetime | None = None) -> str:
    if value is None or value == "":
        return (now or datetime.now(UTC)).strftime("%Y-%m")
    if not _MONTH.match(value):
        raise ValidationError("month must be in YYYY-MM format")
    return value


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise ValidationError("limit must be an integer between 1 and 200") from None
    if limit < 1:
        raise ValidationError("limit must be an integer between 1 and 200")
    return min(limit, MAX_LIMIT)


@dataclass(frozen=True)
class NewDecision:
    """A decision ready to persist, with the request context it came from."""

    decision: dict[str, Any]
    customer_id: str
    agent_id: str
    session_id: str
    proposal_summary: str
    estimated_impact: str
    input_context: dict[str, Any]


def prepare(item: NewDecision) -> tuple[dict[str, Any], audit.AuditEntry]:
    """A decision's `governance_decisions` row and its audit entry (details unredacted)."""
    d = item.decision
    record = canonical_record(
        d,
        customer_id=item.customer_id,
        proposal_summary=item.proposal_summary,
        estimated_impact=item.estimated_impact,
        input_context=item.input_context,
    )
    digest = audit_hash(record)
    timestamp = datetime.fromisoformat(d["timestamp"].replace("Z", "+00:00"))
    row = {
        "id": d["decision_id"],
        "customer_id": item.customer_id,
        "month": timestamp.strftime("%Y-%m"),
        "status": d["status"],
        "confidence": d["confidence"],
        "proposal_summary": item.proposal_summary,
        "estimated_impact": item.estimated_impact,
        "timestamp": timestamp,
        "gates_passed": d["gates_passed"],
        "gates_failed": d["gates_failed"],
        "record": record,
        "input_context": item.input_context,
        "audit_hash": digest,
    }
    entry = (
        None,
        "governance_decision",
        f"agent:{item.agent_id}",
        {
            "decision_id": d["decision_id"],
            "customer_id": item.customer_id,
            "status": d["status"],
            "failing_gates": d["failing_gates"],
            "audit_hash": digest,
            "agent_id": item.agent_id,
            "session_id": item.session_id,
        },
    )
    return row, entry


def store_many(session: Session, new: Sequence[NewDecision]) -> list[str]:
    """Persist decisions and append them to the audit log; returns their audit hashes."""
    prepared = [prepare(item) for item in new]
    if prepared:
        session.connection().execute(
            insert(GovernanceDecision.__table__), [row for row, _ in prepared]
        )
        audit.append_many(session, [entry for _, entry in prepared])
    return [row["audit_hash"] for row, _ in prepared]


def _summary(row: GovernanceDecision) -> dict[str, Any]:
    return {
        "decision_id": row.id,
        "status": row.status,
        "confidence": row.confidence,
        "proposal_summary": row.proposal_summary,
        "timestamp": _iso(row.timestamp),
        "gates_passed": row.gates_passed,
        "gates_failed": row.gates_failed,
    }


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def list_for_month(
    session: Session, customer_id: str, month: str, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Newest first; `limit=None` returns the whole month (exports)."""
    where = (GovernanceDecision.customer_id == customer_id, GovernanceDecision.month == month)
    total = session.scalar(select(func.count()).select_from(GovernanceDecision).where(*where))
    query = (
        select(GovernanceDecision)
        .where(*where)
        .order_by(GovernanceDecision.timestamp.desc(), GovernanceDecision.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_summary(r) for r in session.scalars(query)], int(total or 0)


def get(session: Session, customer_id: str, decision_id: str) -> dict[str, Any]:
    """The full record; another customer's decision is indistinguishable from a missing one."""
    row = session.scalar(
        select(GovernanceDecision).where(
            GovernanceDecision.id == decision_id, GovernanceDecision.customer_id == customer_id
        )
    )
    if row is None:
        raise NotFound(f"decision {decision_id} not found")
    record = dict(row.record)
    record.pop("customer_id", None)
    record["audit_hash"] = row.audit_hash
    return record


def verify_record(session: Session, customer_id: str, decision_id: str) -> bool:
    """True when the stored record still hashes to its `audit_hash`."""
    row = session.scalar(
        select(GovernanceDecision).where(
            GovernanceDecision.id == decision_id, GovernanceDecision.customer_id == customer_id
        )
    )
    if row is None:
        raise NotFound(f"decision {decision_id} not found")
    return audit_hash(row.record) == row.audit_hash


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
    return buffer.getvalue()
