"""A hypothesis state machine over spend tickets: propose, approve, reject, execute, crash
mid-execution, retry, fail, re-execute, concurrent approvals and concurrent executes, in
any order. Whatever happens, no ticket's work runs without an approval, none completes
twice, and none gets a second PaymentIntent (Stripe test mode via the local fake)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database
from aegis_core.errors import Conflict
from aegis_core.loop import tickets
from aegis_core.loop.tickets import TicketInfo
from aegis_core.settings import AegisSettings
from tests.utils.fake_stripe import fake_stripe
from tests.utils.spend import paid_job, propose

CLAIMANTS = st.sampled_from(["run-1", "run-2"])
APPROVALS = ("auto_approve", "human_approve")


class Crash(BaseException):
    """The executor's process dies mid-action: `execute` cannot release its claim."""


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # asserted on by the rule
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


class TicketMachine(RuleBasedStateMachine):
    tickets = Bundle("tickets")

    def __init__(self, db: Database, settings: AegisSettings, stripe_calls: list[dict]) -> None:
        super().__init__()
        self.db, self.settings, self.stripe_calls = db, settings, stripe_calls
        self.job_id = paid_job(db, threshold="5.00")
        self.model: dict[str, str] = {}  # ticket id -> status the rules expect
        self.holder: dict[str, str] = {}  # ticket id -> claimant of a crashed execution
        self.completed: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.lock = threading.Lock()

    # --- the local work, checked against the database at the moment it runs ---------------

    def _action(self, outcome: str) -> Callable[[TicketInfo], dict[str, Any]]:
        def work(info: TicketInfo) -> dict[str, Any]:
            with self.db.session() as session:
                row = tickets.get_ticket(session, info.id)
                actions = set(
                    session.scalars(
                        select(AuditLog.action).where(
                            AuditLog.job_id == self.job_id,
                            AuditLog.details["ticket_id"].as_string() == info.id,
                        )
                    )
                )
            assert row.status == "executing" and row.decided_by, row.status
            assert actions & set(APPROVALS) and "human_reject" not in actions, actions
            with self.lock:
                self.attempts[info.id] += 1
            if outcome == "crash":
                raise Crash()
            if outcome == "fail":
                raise RuntimeError("OCR engine failed")
            with self.lock:
                self.completed[info.id] += 1
            return {"mode": "local", "pages": info.units}

        return work

    def _execute(self, ticket_id: str, claimant: str, outcome: str = "ok") -> Any:
        try:
            return tickets.execute(
                self.db, ticket_id, self._action(outcome), settings=self.settings, claimant=claimant
            )
        except (Conflict, Crash, RuntimeError) as exc:
            return exc

    def _may_claim(self, ticket_id: str, claimant: str) -> bool:
        status = self.model[ticket_id]
        return status == "approved" or (
            status == "executing" and self.holder[ticket_id] == claimant
        )

    # --- rules ---------------------------------------------------------------------------

    @rule(target=tickets, amount=st.sampled_from(["0.60", "5.00", "5.01", "40.00"]))
    def propose(self, amount: str) -> str:
        ticket_id = propose(self.db, self.job_id, amount, kind=f"k{len(self.model)}")
        self.model[ticket_id] = "approved" if Decimal(amount) <= 5 else "proposed"
        return ticket_id

    @rule(ticket=tickets, approve=st.booleans())
    def decide(self, ticket: str, approve: bool) -> None:
        try:
            with self.db.session() as session:
                tickets.decide(
                    session, ticket, approve=approve, actor="ops@example.com", reason="r"
                )
        except Conflict:
            assert self.model[ticket] != "proposed"
            return
        assert self.model[ticket] == "proposed"
        self.model[ticket] = "approved" if approve else "rejected"

    @rule(ticket=tickets)
    def concurrent_approvals(self, ticket: str) -> None:
        def approve(i: int) -> str:
            with self.db.session() as session:
                tickets.decide(session, ticket, approve=True, actor=f"op{i}@example.com")
            return "ok"

        results = _race(3, approve)
        wins = results.count("ok")
        assert all(r == "ok" or isinstance(r, Conflict) for r in results), results
        assert wins == (1 if self.model[ticket] == "proposed" else 0), results
        if wins:
            self.model[ticket] = "approved"

    @rule(ticket=tickets, claimant=CLAIMANTS)
    def execute(self, ticket: str, claimant: str) -> None:
        """A first execution, a retry after a crash, or a re-execution of a done ticket."""
        may = self._may_claim(ticket, claimant)
        result = self._execute(ticket, claimant)
        if self.model[ticket] == "executed":
            assert isinstance(result, tickets.Execution) and not result.performed
        elif may:
            assert isinstance(result, tickets.Execution) and result.performed, result
            self.model[ticket] = "executed"
        else:
            assert isinstance(result, Conflict), result

    @rule(ticket=tickets, claimant=CLAIMANTS)
    def crash_mid_execution(self, ticket: str, claimant: str) -> None:
        may = self._may_claim(ticket, claimant)
        result = self._execute(ticket, claimant, "crash")
        if self.model[ticket] == "executed":
            assert isinstance(result, tickets.Execution) and not result.performed
        elif may:
            assert isinstance(result, Crash), result
            self.model[ticket], self.holder[ticket] = "executing", claimant
        else:
            assert isinstance(result, Conflict), result

    @rule(ticket=tickets, claimant=CLAIMANTS)
    def failing_execution(self, ticket: str, claimant: str) -> None:
        may = self._may_claim(ticket, claimant)
        result = self._execute(ticket, claimant, "fail")
        if self.model[ticket] == "executed":
            assert isinstance(result, tickets.Execution) and not result.performed
        elif may:
            assert isinstance(result, RuntimeError), result
            self.model[ticket] = "approved"  # released for a retry
        else:
            assert isinstance(result, Conflict), result

    @rule(ticket=tickets)
    def concurrent_executes(self, ticket: str) -> None:
        results = _race(3, lambda i: self._execute(ticket, f"worker-{i}"))
        performed = [r for r in results if isinstance(r, tickets.Execution) and r.performed]
        assert len(performed) == (1 if self.model[ticket] == "approved" else 0), results
        if performed:
            self.model[ticket] = "executed"

    # --- what must always hold -----------------------------------------------------------

    @invariant()
    def statuses_match_and_nothing_ran_twice(self) -> None:
        with self.db.session() as session:
            rows = {t.id: t for t in tickets.job_tickets(session, self.job_id)}
            executes = Counter(
                session.scalars(
                    select(AuditLog.details["ticket_id"].as_string()).where(
                        AuditLog.job_id == self.job_id, AuditLog.action == "execute"
                    )
                )
            )
        for ticket_id, expected in self.model.items():
            assert rows[ticket_id].status == expected, (ticket_id, expected)
            assert self.completed[ticket_id] == (1 if expected == "executed" else 0)
            assert executes[ticket_id] == self.completed[ticket_id]
            if expected in ("proposed", "rejected"):
                assert self.attempts[ticket_id] == 0
        intents: dict[str, set[str]] = {}
        for call in self.stripe_calls:
            if call["path"] == "/v1/payment_intents" and call.get("status") == 200:
                ticket_id = call["form"]["metadata[ticket_id]"]
                intents.setdefault(ticket_id, set()).add(call["response"]["id"])
        for ticket_id, ids in intents.items():
            assert len(ids) == 1, (ticket_id, ids)
            if ticket_id in rows and rows[ticket_id].status == "executed":
                assert rows[ticket_id].stripe_pi_id in ids


def test_no_ticket_executes_without_approval_or_twice(db: Database) -> None:
    with fake_stripe() as (base, calls):
        config = AegisSettings(stripe_secret_key="sk_test_machine", stripe_api_base=base)
        run_state_machine_as_test(
            lambda: TicketMachine(db, config, calls),
            settings=settings(
                max_examples=25,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
