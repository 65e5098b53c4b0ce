"""The public activity feed: what anyone may see of the audit log, decided here only.

`GET /activity` is public, so it shows a projection of each audit row, never the row:
a whitelist of actions, and for each action a whitelist of detail fields whose values
must also have an expected shape (a job status, a spend kind, a count, a money amount).
Anything else is left out, whatever its key: free text (reasons, rationales, errors),
emails (an operator's actor is shown as the role `operator`), URLs, tokens and keys,
customer, session and payment ids, run ids, hashes, file paths. A job is named by the
first 8 characters of its id (enough to tell the events of one job apart, not an id the
API answers to). The only amounts shown are spend-ticket amounts, as the certificate's
decisions list them; the flat fee and payments are not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aegis_core.db.models import AuditLog
from aegis_core.jobs import JobStatus
from aegis_core.loop.model import ROUTES, SPEND_UNITS
from aegis_core.refine.sniff import FORMATS

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
JOB_REF_LENGTH = 8
SPEND_KINDS = frozenset({*SPEND_UNITS, "enrichment", "external"})
ROLES = frozenset({"system", "agent", "stripe", "operator", "customer", "policy"})

Check = Callable[[Any], Any]  # the public form of a value, or None to leave it out


def _one_of(allowed: Sequence[str] | frozenset[str], other: str | None = None) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        return other

    return check


def _count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    return None


def _total(value: Any) -> int | None:
    """A count, or the sum of a mapping's counts (PII masked per kind): the figure only."""
    if isinstance(value, Mapping):
        counts = [_count(v) for v in value.values()]
        return sum(c for c in counts if c is not None)
    return _count(value)


def _fraction(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return round(float(value), 3) if 0 <= value <= 1 else None
    return None


_MONEY = re.compile(r"^\d{1,7}\.\d{2}$")


def _money(value: Any) -> str | None:
    """A spend amount as the tickets store it ("12.50"), nothing else."""
    if not isinstance(value, str) or not _MONEY.match(value):
        return None
    try:
        return value if Decimal(value) <= Decimal("1000000") else None
    except InvalidOperation:
        return None


_STATUS = _one_of(tuple(JobStatus))
_KIND = _one_of(SPEND_KINDS, other="other")
SPEND = {"kind": _KIND, "amount": _money}

# action -> {detail field: check}. An action not listed here is not in the feed.
PUBLIC_EVENTS: dict[str, dict[str, Check]] = {
    "job_created": {},
    "checkout_created": {},
    "payment_received": {},
    "run_started": {},
    "status_change": {"from_status": _STATUS, "to_status": _STATUS},
    "source_fetched": {"detected_format": _one_of(FORMATS)},
    "source_parsed": {"chunks": _count, "detected_format": _one_of(FORMATS)},
    "scored": {"route": _one_of(ROUTES), "complexity_score": _fraction},
    "propose_spend": {
        **SPEND,
        "units": _count,
        "outcome": _one_of(("auto_approve", "human_required")),
    },
    "auto_approve": {"amount": _money},
    "human_approve": SPEND,
    "human_reject": SPEND,
    "gate_timeout": SPEND,
    "execute": SPEND,
    "execute_failed": {"kind": _KIND},
    "dataset_written": {"rows": _count, "mean_quality": _fraction, "pii_masked": _total},
    "certificate_issued": {},
}
PUBLIC_ACTIONS = tuple(PUBLIC_EVENTS)
EVENT_KEYS = ("seq", "at", "action", "job", "actor", "details")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def role(actor: str) -> str:
    """Who acted, as a role: never an email, a customer id or a run id."""
    if "@" in actor:
        return "operator"  # a person at the gate, named by email in the audit log only
    head = actor.split(":", 1)[0]
    return head if head in ROLES else "system"


def job_ref(job_id: str | None) -> str | None:
    return job_id[:JOB_REF_LENGTH] if job_id and _UUID.match(job_id) else None


def public_event(
    seq: int, created_at: str, action: str, job_id: str | None, actor: str, details: Any
) -> dict[str, Any] | None:
    """The feed's form of one audit row; None when the action is not public."""
    fields = PUBLIC_EVENTS.get(action)
    if fields is None or isinstance(seq, bool) or not isinstance(seq, int):
        return None
    shown: dict[str, Any] = {}
    if isinstance(details, Mapping):
        for name, check in fields.items():
            value = check(details.get(name))
            if value is not None:
                shown[name] = value
    return {
        "seq": seq,
        "at": created_at if isinstance(created_at, str) and _TIMESTAMP.match(created_at) else None,
        "action": action,
        "job": job_ref(job_id if isinstance(job_id, str) else None),
        "actor": role(actor if isinstance(actor, str) else ""),
        "details": shown,
    }


def _of(row: AuditLog) -> dict[str, Any] | None:
    return public_event(row.seq, row.created_at, row.action, row.job_id, row.actor, row.details)


def events_after(
    session: Session, after: int = 0, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict[str, Any]], int]:
    """Public events with `seq > after`, oldest first, and the cursor to ask for next
    (the last seq looked at: rows that are not public are skipped, not re-read)."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.seq > after, AuditLog.action.in_(PUBLIC_ACTIONS))
        .order_by(AuditLog.seq)
        .limit(limit)
    ).all()
    events = [e for e in map(_of, rows) if e is not None]
    return events, rows[-1].seq if rows else after


def recent(session: Session, limit: int = DEFAULT_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The latest `limit` public events, oldest first, and the head to follow on from."""
    limit = max(1, min(limit, MAX_LIMIT))
    head = session.scalar(select(func.max(AuditLog.seq))) or 0  # first: nothing slips past
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.seq <= head, AuditLog.action.in_(PUBLIC_ACTIONS))
        .order_by(AuditLog.seq.desc())
        .limit(limit)
    ).all()
    events = [e for e in map(_of, reversed(rows)) if e is not None]
    return events, head
