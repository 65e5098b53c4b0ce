"""The human gate's wait with a fake clock: approval, rejection, timeout, nothing to wait
for, and a retried gate that executes nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.errors import ValidationError
from aegis_core.loop import gate, tickets
from aegis_core.loop.tickets import TIMEOUT_ACTOR, TicketInfo
from aegis_core.settings import AegisSettings
from tests.utils.spend import audit_entries, paid_job, propose, status_of


class FakeTime:
    """A clock that moves only when the gate sleeps; `on_sleep(n)` runs after sleep n."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


def _job_status(db: Database, job_id: str) -> str:
    with db.session() as session:
        return session.get(Job, job_id).status


def _decide(db: Database, ticket_id: str, approve: bool, reason: str | None = None) -> None:
    with db.session() as session:
        tickets.decide(session, ticket_id, approve=approve, actor="ops@example.com", reason=reason)


def _wait(db: Database, job_id: str, time: FakeTime, lines: list[str], **kw: Any):
    return gate.wait_for_decision(
        db,
        job_id,
        poll_s=kw.pop("poll_s", 5),
        timeout_s=kw.pop("timeout_s", 60),
        sleep=time.sleep,
        clock=time.clock,
        log=lines.append,
        **kw,
    )


def test_the_gate_waits_until_a_person_approves(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "25.00")
    seen: list[str] = []

    def person(n: int) -> None:
        seen.append(_job_status(db, job_id))
        if n == 2:
            _decide(db, ticket_id, approve=True)

    time, lines = FakeTime(person), []
    outcome = _wait(db, job_id, time, lines)
    assert outcome.state == "approved" and outcome.proceed and outcome.reason is None
    assert time.sleeps == [5, 5] and outcome.polls == 2 and outcome.waited_s == 10
    assert seen == ["awaiting_gate", "awaiting_gate"]
    assert [t["id"] for t in outcome.tickets] == [ticket_id]
    assert ticket_id in lines[0] and "25.00" in lines[0]
    assert lines[-1].startswith("gate approved")
    gate.close_gate(db, job_id, outcome)
    assert _job_status(db, job_id) == "refining"
    moves = [e.details["to_status"] for e in audit_entries(db, job_id, "status_change")]
    assert moves[-2:] == ["awaiting_gate", "refining"]


def test_a_rejection_halts_the_job_and_nothing_executes(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "25.00")
    auto_id = propose(db, job_id, "1.00", kind="enrich")  # approved by policy, never run
    runs: list[TicketInfo] = []
    time = FakeTime(lambda n: _decide(db, ticket_id, approve=False, reason="too costly"))
    outcome = gate.pass_gate(
        db,
        job_id,
        actions={"ocr": runs.append, "enrich": runs.append},
        settings=AegisSettings(),
        sleep=time.sleep,
        clock=time.clock,
        log=lambda _: None,
    )
    assert outcome.state == "rejected" and not outcome.proceed
    assert runs == [] and outcome.executions == []
    assert status_of(db, auto_id) == "approved"
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.status == "halted"
        assert "rejected by ops@example.com: too costly" in job.halt_reason
        assert tickets.gate_view(session, job_id)["state"] == "rejected"
    assert audit_entries(db, job_id, "execute") == []


def test_an_unanswered_gate_times_out_and_halts(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "25.00")
    time, lines = FakeTime(), []
    outcome = gate.pass_gate(
        db,
        job_id,
        settings=AegisSettings(gate_poll_s=5, gate_timeout_s=12),
        sleep=time.sleep,
        clock=time.clock,
        log=lines.append,
    )
    assert time.sleeps == [5, 5, 2]  # never sleeps past the deadline
    assert outcome.state == "timed_out" and outcome.waited_s == 12
    with db.session() as session:
        ticket = tickets.get_ticket(session, ticket_id)
        assert (ticket.status, ticket.decided_by) == ("rejected", TIMEOUT_ACTOR)
        assert ticket.decision_reason == "timed out"
        job = session.get(Job, job_id)
        assert job.status == "halted" and "timed out" in job.halt_reason
        assert tickets.gate_view(session, job_id)["state"] == "timed_out"
    [entry] = audit_entries(db, job_id, "gate_timeout")
    assert entry.actor == TIMEOUT_ACTOR
    assert (entry.details["ticket_id"], entry.details["reason"]) == (ticket_id, "timed out")
    assert any("timed out" in line for line in lines)


def test_a_decision_landing_at_the_deadline_wins_over_the_timeout(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "25.00")
    time = FakeTime(lambda n: n == 2 and _decide(db, ticket_id, approve=True))
    outcome = _wait(db, job_id, time, [], poll_s=5, timeout_s=10)
    assert outcome.state == "approved"
    assert audit_entries(db, job_id, "gate_timeout") == []


def test_nothing_to_decide_means_no_wait(db: Database) -> None:
    job_id = paid_job(db)
    time = FakeTime()
    outcome = _wait(db, job_id, time, [])
    assert (outcome.state, time.sleeps, _job_status(db, job_id)) == ("none", [], "triage")
    auto_id = propose(db, job_id, "1.00")
    runs: list[TicketInfo] = []

    def ocr(info: TicketInfo) -> dict[str, Any]:
        runs.append(info)
        return {"mode": "local", "pages": info.units}

    outcome = gate.pass_gate(
        db,
        job_id,
        actions={"ocr": ocr},
        settings=AegisSettings(),
        sleep=time.sleep,
        clock=time.clock,
        log=lambda _: None,
    )
    assert outcome.state == "approved" and time.sleeps == []
    assert [r.id for r in runs] == [auto_id] and outcome.tickets[0]["status"] == "executed"
    assert _job_status(db, job_id) == "triage"  # never waited, so nothing to resume


def test_a_retried_gate_executes_nothing_twice(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "25.00")
    _decide(db, ticket_id, approve=True)
    runs: list[TicketInfo] = []

    def ocr(info: TicketInfo) -> dict[str, Any]:
        runs.append(info)
        return {"mode": "local"}

    settings = AegisSettings()
    first = gate.pass_gate(db, job_id, actions={"ocr": ocr}, settings=settings, claimant="r1")
    second = gate.pass_gate(db, job_id, actions={"ocr": ocr}, settings=settings, claimant="r1")
    assert [e.performed for e in first.executions] == [True]
    assert [e.performed for e in second.executions] == [False]
    assert len(runs) == 1 and len(audit_entries(db, job_id, "execute")) == 1
    assert second.executions[0].stripe_pi_id == f"pi_local_test_{ticket_id}"


@pytest.mark.parametrize("poll_s, timeout_s", [(0, 10), (5, 0), (-1, 10)])
def test_the_gate_needs_positive_intervals(db: Database, poll_s: float, timeout_s: float) -> None:
    with pytest.raises(ValidationError, match="positive"):
        _wait(db, paid_job(db), FakeTime(), [], poll_s=poll_s, timeout_s=timeout_s)
