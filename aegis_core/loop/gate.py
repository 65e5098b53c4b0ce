"""The human gate: wait for a person's decision on a job's spend tickets, execute what was
approved exactly once, then resume or halt the job. The Dagster gate op calls `pass_gate`
(or the three steps itself); everything here is plain Python with injectable sleep, clock
and log, so tests drive it without waiting."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import Job, SpendTicket, utcnow
from aegis_core.db.session import Database
from aegis_core.errors import NotFound, ValidationError
from aegis_core.jobs import JobStatus, transition
from aegis_core.loop.tickets import (
    POLICY_ID,
    TIMED_OUT,
    TIMEOUT_ACTOR,
    Action,
    Execution,
    T,
    TicketInfo,
    current_tickets,
    execute,
    gate_state,
    info_of,
    job_tickets,
    ticket_view,
)
from aegis_core.settings import AegisSettings

_logger = logging.getLogger("aegis.gate")


@dataclass(frozen=True)
class GateOutcome:
    """Where the gate stands once nothing is left waiting for a person."""

    state: str  # none | approved | rejected | timed_out (see `gate_state`)
    tickets: list[dict[str, Any]]
    waited_s: float = 0.0
    polls: int = 0
    executions: list[Execution] = field(default_factory=list)

    @property
    def proceed(self) -> bool:
        return self.state in ("none", "approved")

    @property
    def reason(self) -> str | None:
        """Why the job halts, naming each refused ticket; None when it may proceed."""
        if self.proceed:
            return None
        refused = [t for t in self.tickets if t["status"] == T.REJECTED]
        parts = [
            f"spend ticket {t['id']} ({t['kind']}, ${t['amount']}) "
            + (
                "timed out at the gate"
                if t["decided_by"] == TIMEOUT_ACTOR
                else f"rejected by {t['decided_by']}: {t['decision_reason']}"
            )
            for t in refused
        ]
        return "; ".join(parts)


def _scope(session: Session, job_id: str, ticket_ids: Collection[str] | None) -> list[SpendTicket]:
    if ticket_ids is None:
        return current_tickets(session, job_id)
    return [t for t in job_tickets(session, job_id) if t.id in set(ticket_ids)]


def _time_out(session: Session, ticket: TicketInfo, waited_s: float, timeout_s: float) -> None:
    changed = session.execute(
        update(SpendTicket)
        .where(SpendTicket.id == ticket.id, SpendTicket.status == T.PROPOSED)
        .values(
            status=str(T.REJECTED),
            decided_by=TIMEOUT_ACTOR,
            decided_at=utcnow(),
            decision_reason=TIMED_OUT,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed == 1:  # a person's decision that landed first wins
        audit.append(
            session,
            ticket.job_id,
            "gate_timeout",
            TIMEOUT_ACTOR,
            {
                "ticket_id": ticket.id,
                "kind": ticket.kind,
                "amount": str(ticket.amount),
                "reason": TIMED_OUT,
                "waited_s": round(waited_s, 3),
                "timeout_s": timeout_s,
                "policy": POLICY_ID,
            },
        )


def wait_for_decision(
    db: Database,
    job_id: str,
    *,
    poll_s: float,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    ticket_ids: Collection[str] | None = None,
) -> GateOutcome:
    """Poll the job's tickets until none is `proposed`; past `timeout_s` those still waiting
    are rejected as "timed out" (audited `gate_timeout`). While it waits the job is
    `awaiting_gate`. `ticket_ids` narrows the wait (default: the job's current tickets)."""
    if poll_s <= 0 or timeout_s <= 0:
        raise ValidationError("the gate's poll interval and timeout must be positive")
    say = log or _logger.info
    start = clock()
    polls = 0
    while True:
        waited = clock() - start
        with db.session() as session:
            tickets = _scope(session, job_id, ticket_ids)
            pending = [t for t in tickets if t.status == T.PROPOSED]
            if pending and waited >= timeout_s:
                expired = [info_of(t) for t in pending]
                session.rollback()  # each timeout alone: one row lock, then the audit head
                for info in expired:
                    with db.session() as alone:
                        _time_out(alone, info, waited, timeout_s)
                say(f"gate timed out after {waited:.0f} s")
                tickets = _scope(session, job_id, ticket_ids)
                pending = [t for t in tickets if t.status == T.PROPOSED]
            if not pending:
                views = [ticket_view(t) for t in tickets]
                outcome = GateOutcome(gate_state(tickets), views, waited, polls)
                say(f"gate {outcome.state} after {waited:.0f} s: {len(views)} ticket(s)")
                return outcome
            job = session.get(Job, job_id, populate_existing=True)
            if job is None:
                raise NotFound(f"job {job_id} not found")
            if job.status != JobStatus.AWAITING_GATE:
                transition(
                    session,
                    job,
                    JobStatus.AWAITING_GATE,
                    actor="system",
                    reason=f"waiting for a person to decide {len(pending)} spend ticket(s)",
                )
            summary = ", ".join(f"{t.id} ({t.kind}, ${t.amount})" for t in pending)
        say(
            f"waiting for a decision on {len(pending)} spend ticket(s): {summary};"
            f" {waited:.0f} s of {timeout_s:.0f} s"
        )
        sleep(max(0.0, min(poll_s, timeout_s - waited)))
        polls += 1


def close_gate(db: Database, job_id: str, outcome: GateOutcome, *, actor: str = "system") -> Job:
    """Resume the job (`refining`) when the gate opened, halt it with the reason if not."""
    with db.session() as session:
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if outcome.proceed:
            if job.status == JobStatus.AWAITING_GATE:
                transition(
                    session, job, JobStatus.REFINING, actor=actor, reason="spend gate passed"
                )
        elif job.status != JobStatus.HALTED:
            transition(session, job, JobStatus.HALTED, actor=actor, reason=outcome.reason)
        return job


def pass_gate(
    db: Database,
    job_id: str,
    *,
    actions: Mapping[str, Action] | None = None,
    settings: AegisSettings,
    claimant: str | None = None,
    poll_s: float | None = None,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    ticket_ids: Collection[str] | None = None,
) -> GateOutcome:
    """The whole human gate for one job: wait, execute each approved ticket exactly once
    (with `actions[kind]`, a test stub where none is given), then resume or halt the job.
    Nothing is executed when any ticket was rejected or timed out. Safe to call again after
    a failure: decided tickets are not waited on, executed ones are not executed twice."""
    outcome = wait_for_decision(
        db,
        job_id,
        poll_s=settings.gate_poll_s if poll_s is None else poll_s,
        timeout_s=settings.gate_timeout_s if timeout_s is None else timeout_s,
        sleep=sleep,
        log=log,
        clock=clock,
        ticket_ids=ticket_ids,
    )
    if outcome.proceed:
        for view in outcome.tickets:
            done = execute(
                db,
                view["id"],
                (actions or {}).get(view["kind"]),
                settings=settings,
                claimant=claimant,
            )
            outcome.executions.append(done)
        with db.session() as session:
            tickets = _scope(session, job_id, [t["id"] for t in outcome.tickets])
            outcome = GateOutcome(
                outcome.state,
                [ticket_view(t) for t in tickets],
                outcome.waited_s,
                outcome.polls,
                outcome.executions,
            )
    close_gate(db, job_id, outcome)
    return outcome
