"""The job state machine: legal paths, refused transitions, every change audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from aegis_core import audit
from aegis_core.db.models import AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.errors import IllegalTransition
from aegis_core.jobs import TRANSITIONS, JobStatus, can_transition, create_job, transition


def _job(db: Database) -> str:
    with db.session() as s:
        job = create_job(
            s,
            source_url="https://example.com/x.json",
            description="support chats",
            output_format="sharegpt",
            auto_approve_threshold=Decimal("5.00"),
            actor="customer",
        )
        return job.id


def test_happy_path_is_audited_in_order(db: Database) -> None:
    job_id = _job(db)
    path = ["triage", "awaiting_gate", "refining", "complete"]
    with db.session() as s:
        job = s.get(Job, job_id)
        for status in path:
            transition(s, job, status, actor="system")
    with db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.seq))
        changes = [(r.details.get("from_status"), r.details.get("to_status")) for r in rows]
        assert audit.verify(s).ok
    assert changes[0] == (None, None)  # job_created
    assert changes[1:] == list(zip(["awaiting_payment", *path[:-1]], path, strict=True))


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("awaiting_payment", "complete"),
        ("awaiting_payment", "refining"),
        ("triage", "complete"),
        ("complete", "halted"),
        ("halted", "complete"),
        ("refining", "no_such_status"),
    ],
)
def test_illegal_transitions_are_refused(db: Database, start: str, target: str) -> None:
    job_id = _job(db)
    with db.session() as s:
        job = s.get(Job, job_id)
        job.status = start
        before = len(s.scalars(select(AuditLog)).all())
        with pytest.raises(IllegalTransition, match=f"{start} -> {target}"):
            transition(s, job, target, actor="system")
        assert job.status == start
        assert len(s.scalars(select(AuditLog)).all()) == before


def test_halt_records_reason_and_reprocess_clears_it(db: Database) -> None:
    job_id = _job(db)
    with db.session() as s:
        job = s.get(Job, job_id)
        transition(s, job, JobStatus.TRIAGE, actor="stripe")
        transition(s, job, JobStatus.HALTED, actor="system", reason="source refused: 10.0.0.1")
    with db.session() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.halt_reason) == ("halted", "source refused: 10.0.0.1")
        transition(s, job, JobStatus.TRIAGE, actor="ops@example.com")
        assert job.halt_reason is None


def test_table_is_the_single_source_of_truth() -> None:
    for source, targets in TRANSITIONS.items():
        for target in JobStatus:
            assert can_transition(source, target) == (target in targets)
    assert not can_transition("bogus", "triage")
