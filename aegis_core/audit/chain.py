"""The append-only, hash-chained audit log.

Each row stores the previous row's hash and its own hash over the RFC 8785 (JCS)
encoding of its content, so an edited, deleted, inserted or reordered row breaks the
chain at a nameable place. Appends serialize on the single `audit_head` row: updating
it first takes a row lock on PostgreSQL and the write lock on SQLite, so concurrent
writers (threads or processes) queue instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from aegis_core.audit.redaction import redact_details
from aegis_core.canonical import canonical_bytes
from aegis_core.db.models import AuditHead, AuditLog

GENESIS_HASH = "0" * 64
HEAD_ID = 1
_LOG = AuditLog.__table__
_HEAD = AuditHead.__table__


def entry_hash(
    *,
    seq: int,
    id: str,
    job_id: str | None,
    action: str,
    actor: str,
    details: dict[str, Any],
    created_at: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex of the JCS encoding of one row's content, previous hash included."""
    content = {
        "seq": seq,
        "id": id,
        "job_id": job_id,
        "action": action,
        "actor": actor,
        "details": details,
        "created_at": created_at,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def _row_hash(row: AuditLog) -> str:
    return entry_hash(
        seq=row.seq,
        id=row.id,
        job_id=row.job_id,
        action=row.action,
        actor=row.actor,
        details=row.details,
        created_at=row.created_at,
        prev_hash=row.prev_hash,
    )


AuditEntry = tuple[str | None, str, str, dict[str, Any] | None]  # job_id, action, actor, details


def append(
    session: Session,
    job_id: str | None,
    action: str,
    actor: str,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry inside the caller's transaction; it lands when the caller commits."""
    return append_many(session, [(job_id, action, actor, details)])[0]


def append_many(session: Session, entries: Sequence[AuditEntry]) -> list[AuditLog]:
    """Append several entries with one trip to the head: the lock is taken once per batch."""
    if not entries:
        return []
    check_entries(entries)
    conn = session.connection()  # Core statements: the ORM's bulk paths cost more than the SQL
    last_seq, prev_hash = conn.execute(
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(seq=_HEAD.c.seq + len(entries))
        .returning(_HEAD.c.seq, _HEAD.c.entry_hash)
    ).one()
    rows = chain_rows(entries, last_seq - len(entries), prev_hash)
    conn.execute(insert(_LOG), rows)
    conn.execute(
        update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(entry_hash=rows[-1]["entry_hash"])
    )
    return [AuditLog(**row) for row in rows]


def check_entries(entries: Sequence[AuditEntry]) -> None:
    for _, action, actor, _ in entries:
        if not action or not actor:
            raise ValueError("an audit entry needs an action and an actor")


def chain_rows(
    entries: Sequence[AuditEntry], head_seq: int, head_hash: str, *, redacted: bool = False
) -> list[dict[str, Any]]:
    """The rows that extend a chain whose head is (`head_seq`, `head_hash`), hashed in
    order; `redacted` when the details already went through `redact_details`."""
    created_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    rows, prev_hash = [], head_hash
    for offset, (job_id, action, actor, details) in enumerate(entries, start=1):
        row = {
            "seq": head_seq + offset,
            "id": str(uuid.uuid4()),
            "job_id": job_id,
            "action": action,
            "actor": actor,
            "details": details if redacted else redact_details(details),
            "created_at": created_at,
            "prev_hash": prev_hash,
        }
        row["entry_hash"] = prev_hash = entry_hash(**row)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    head_seq: int
    bad_seq: int | None = None
    bad_id: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain valid: {self.rows_checked} rows, head at seq {self.head_seq}"
        where = f"row seq {self.bad_seq}" + (f" (id {self.bad_id})" if self.bad_id else "")
        return f"audit chain BROKEN at {where}: {self.reason}"


def _rows(session: Session, batch: int = 2000) -> Iterator[AuditLog]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.seq > last).order_by(AuditLog.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Walk the whole chain and report the first row that does not hold."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return VerifyResult(False, 0, 0, reason="audit_head row is missing")
    head_seq, head_hash = head.seq, head.entry_hash
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for row in _rows(session):
        if row.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                head_seq,
                expected_seq,
                None,
                f"row missing: expected seq {expected_seq}, next row is seq {row.seq}",
            )
        if row.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                head_seq,
                row.seq,
                row.id,
                "prev_hash does not match the previous row's hash (rows removed or reordered)",
            )
        if _row_hash(row) != row.entry_hash:
            return VerifyResult(
                False,
                checked,
                head_seq,
                row.seq,
                row.id,
                "content does not match its entry_hash (row edited)",
            )
        prev_hash, expected_seq, checked = row.entry_hash, expected_seq + 1, checked + 1
    if checked != head_seq or prev_hash != head_hash:
        return VerifyResult(
            False,
            checked,
            head_seq,
            checked + 1 if checked < head_seq else checked,
            None,
            f"chain ends at seq {checked} but the head records seq {head_seq} "
            "(rows at the end removed, or appended without the head)",
        )
    return VerifyResult(True, checked, head_seq)
