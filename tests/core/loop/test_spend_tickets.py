"""Spend tickets on SQLite and PostgreSQL: POLICY-DATA-REFINE-01, decisions, exactly-once
execution (local test ids and Stripe test-mode PaymentIntents through the local fake)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.errors import Conflict, NotFound, ValidationError
from aegis_core.loop import tickets
from aegis_core.loop.tickets import POLICY_ACTOR, POLICY_ID, TicketInfo
from aegis_core.settings import AegisSettings
from tests.utils.fake_stripe import fake_stripe
from tests.utils.spend import Proposal, audit_entries, paid_job, propose, status_of


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together; each result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _approve(db: Database, ticket_id: str, actor: str = "ops@example.com") -> None:
    with db.session() as session:
        tickets.decide(session, ticket_id, approve=True, actor=actor)


# --- POLICY-DATA-REFINE-01 -----------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.00", "5.00"])
def test_spend_at_or_below_the_threshold_is_authorized_by_the_policy(
    db: Database, amount: str
) -> None:
    job_id = paid_job(db, threshold="5.00")
    ticket_id = propose(db, job_id, amount)
    with db.session() as session:
        ticket = tickets.get_ticket(session, ticket_id)
        assert ticket.status == "approved"
        assert ticket.decided_by == POLICY_ACTOR
        assert ticket.decided_at is not None
        assert (ticket.kind, ticket.units, ticket.amount) == ("ocr", 3, Decimal(amount))
    [proposed] = audit_entries(db, job_id, "propose_spend")
    assert proposed.details["ticket_id"] == ticket_id
    assert proposed.details["outcome"] == "auto_approve"
    assert proposed.details["policy"] == POLICY_ID
    assert proposed.details["threshold"] == "5.00"
    [auto] = audit_entries(db, job_id, "auto_approve")
    assert auto.actor == POLICY_ACTOR
    assert auto.details["amount"] == amount


def test_spend_above_the_threshold_waits_for_a_person(db: Database) -> None:
    job_id = paid_job(db, threshold="5.00")
    ticket_id = propose(db, job_id, "5.01")
    assert status_of(db, ticket_id) == "proposed"
    [proposed] = audit_entries(db, job_id, "propose_spend")
    assert proposed.actor == "agent"
    assert proposed.details["outcome"] == "human_required"
    assert proposed.details["amount"] == "5.01"
    assert proposed.details["units"] == 3
    assert audit_entries(db, job_id, "auto_approve") == []


def test_the_models_proposals_become_tickets(db: Database) -> None:
    from aegis_core.loop.model import Proposal as ModelProposal

    job_id = paid_job(db, threshold="0.50")
    proposal = ModelProposal("ocr", 12, "page", Decimal("0.60"), "12 pages have no text layer")
    with db.session() as session:
        [ticket] = tickets.propose(session, session.get(Job, job_id), [proposal])
        assert (ticket.kind, ticket.units, ticket.amount) == ("ocr", 12, Decimal("0.60"))
        assert (ticket.status, ticket.description) == ("proposed", "12 pages have no text layer")


def test_a_kind_is_not_proposed_twice_unless_it_was_rejected(db: Database) -> None:
    job_id = paid_job(db)
    first = propose(db, job_id, "12.00")
    assert propose(db, job_id, "12.00") == first
    assert len(audit_entries(db, job_id, "propose_spend")) == 1
    with db.session() as session:
        tickets.decide(session, first, approve=False, actor="ops@example.com", reason="no")
    again = propose(db, job_id, "12.00")
    assert again != first
    with db.session() as session:
        assert [t.id for t in tickets.current_tickets(session, job_id)] == [again]
        assert tickets.gate_view(session, job_id)["state"] == "waiting"


@pytest.mark.parametrize(
    "proposal",
    [
        Proposal("ocr", Decimal("-1"), "negative"),
        Proposal("ocr", Decimal("NaN"), "not a number"),
        Proposal("OCR pages", Decimal("1"), "bad kind"),
        Proposal("ocr", Decimal("1"), "   "),
    ],
)
def test_malformed_proposals_are_refused_and_nothing_is_stored(
    tmp_path, proposal: Proposal
) -> None:
    from aegis_core.db import migrate

    url = f"sqlite:///{tmp_path / 'p.db'}"
    migrate.upgrade(url)
    db = Database(url)
    job_id = paid_job(db)
    with pytest.raises(ValidationError), db.session() as session:
        tickets.propose(session, session.get(Job, job_id), [proposal])
    with db.session() as session:
        assert tickets.job_tickets(session, job_id) == []
    db.dispose()


# --- deciding ------------------------------------------------------------------------------


def test_a_person_decides_once_and_every_decision_is_audited(db: Database) -> None:
    job_id = paid_job(db)
    approved, rejected = propose(db, job_id, "9.00", "ocr"), propose(db, job_id, "9", "enrich")
    _approve(db, approved, "Ops@Example.com")
    with db.session() as session:
        tickets.decide(
            session, rejected, approve=False, actor="ops@example.com", reason="too costly"
        )
    with pytest.raises(Conflict, match="approved; only a proposed ticket"):
        _approve(db, approved)
    with pytest.raises(Conflict, match="rejected"), db.session() as session:
        tickets.decide(session, rejected, approve=True, actor="other@example.com")
    with pytest.raises(NotFound), db.session() as session:
        tickets.decide(session, "no-such-ticket", approve=True, actor="ops@example.com")
    with db.session() as session:
        assert tickets.get_ticket(session, approved).decided_by == "Ops@Example.com"
        refused = tickets.get_ticket(session, rejected)
        assert (refused.status, refused.decision_reason) == ("rejected", "too costly")
    [yes] = audit_entries(db, job_id, "human_approve")
    [no] = audit_entries(db, job_id, "human_reject")
    assert (yes.actor, yes.details["ticket_id"]) == ("Ops@Example.com", approved)
    assert (no.details["ticket_id"], no.details["reason"]) == (rejected, "too costly")


def test_a_rejection_needs_a_reason(db: Database) -> None:
    ticket_id = propose(db, paid_job(db), "9.00")
    with pytest.raises(ValidationError, match="reason"), db.session() as session:
        tickets.decide(session, ticket_id, approve=False, actor="ops@example.com", reason=" ")
    assert status_of(db, ticket_id) == "proposed"


@pytest.mark.parametrize(
    "email, ok",
    [
        ("ops@example.com", True),
        (" A.B+c@x.io ", True),
        ("ops", False),
        ("a@b", False),
        ("", False),
        ("a b@x.io", False),
        ("<a@x.io>", False),
        ("a@x.io, b@y.io", False),
    ],
)
def test_operator_email_is_checked(email: str, ok: bool) -> None:
    if ok:
        assert tickets.operator_actor(email) == email.strip().lower()
    else:
        with pytest.raises(ValidationError, match="X-Operator-Email"):
            tickets.operator_actor(email)


def test_concurrent_decisions_one_wins(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "20.00")

    def decide(i: int) -> str:
        with db.session() as session:
            approve = i % 2 == 0
            tickets.decide(
                session, ticket_id, approve=approve, actor=f"op{i}@example.com", reason="r"
            )
            return "approved" if approve else "rejected"

    results = _race(6, decide)
    wins = [r for r in results if isinstance(r, str)]
    assert len(wins) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str)), results
    assert status_of(db, ticket_id) == wins[0]
    decisions = audit_entries(db, job_id, "human_approve") + audit_entries(
        db, job_id, "human_reject"
    )
    assert len(decisions) == 1


# --- executing -----------------------------------------------------------------------------


class Recorder:
    """A local action (e.g. OCR) that counts its runs."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.runs: list[TicketInfo] = []
        self.fail = fail

    def __call__(self, info: TicketInfo) -> dict[str, Any]:
        self.runs.append(info)
        if self.fail is not None:
            raise self.fail
        return {"mode": "local", "pages": info.units, "path": f"/data/{info.id}/ocr.jsonl"}


class Crash(BaseException):
    """The executor's process dying mid-action: nothing in `execute` gets to clean up."""


def test_execute_once_with_a_local_test_id(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "2.00")  # auto-approved
    action = Recorder()
    first = tickets.execute(db, ticket_id, action, settings=AegisSettings())
    again = tickets.execute(db, ticket_id, action, settings=AegisSettings())
    assert (first.performed, again.performed) == (True, False)
    assert len(action.runs) == 1
    assert action.runs[0].units == 3 and action.runs[0].amount == Decimal("2.00")
    assert first.stripe_pi_id == again.stripe_pi_id == f"pi_local_test_{ticket_id}"
    assert first.result["mode"] == "local" and first.result["payment"] == "local_test"
    assert again.ticket["status"] == "executed" and again.ticket["executed_at"]
    [entry] = audit_entries(db, job_id, "execute")
    assert entry.details["stripe_pi_id"] == f"pi_local_test_{ticket_id}"


def test_without_an_action_the_execution_is_recorded_as_a_test_stub(db: Database) -> None:
    ticket_id = propose(db, paid_job(db), "1.00")
    done = tickets.execute(db, ticket_id)
    assert done.result["mode"] == "test_stub"
    assert "no work was done" in done.result["note"]


@pytest.mark.parametrize("decision", [None, "reject"])
def test_only_an_approved_ticket_executes(db: Database, decision: str | None) -> None:
    ticket_id = propose(db, paid_job(db), "50.00")
    if decision == "reject":
        with db.session() as session:
            tickets.decide(session, ticket_id, approve=False, actor="o@x.io", reason="no")
    action = Recorder()
    with pytest.raises(Conflict, match="only an approved ticket executes"):
        tickets.execute(db, ticket_id, action)
    assert action.runs == []
    assert status_of(db, ticket_id) == ("rejected" if decision else "proposed")
    with pytest.raises(NotFound):
        tickets.execute(db, "no-such-ticket", action)


def test_a_failed_execution_is_released_and_retried(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "1.00")
    with pytest.raises(RuntimeError, match="tesseract"):
        tickets.execute(db, ticket_id, Recorder(RuntimeError("tesseract crashed")))
    assert status_of(db, ticket_id) == "approved"
    [failed] = audit_entries(db, job_id, "execute_failed")
    assert "tesseract crashed" in failed.details["error"]
    assert tickets.execute(db, ticket_id, Recorder()).performed
    assert len(audit_entries(db, job_id, "execute")) == 1


def test_concurrent_executes_run_the_action_once(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "1.00")
    action = Recorder()
    results = _race(6, lambda i: tickets.execute(db, ticket_id, action, claimant=f"run{i}"))
    performed = [r for r in results if isinstance(r, tickets.Execution) and r.performed]
    assert len(performed) == 1, results
    others = [r for r in results if r not in performed]
    assert all(
        isinstance(r, Conflict) or (isinstance(r, tickets.Execution) and not r.performed)
        for r in others
    ), results
    assert len(action.runs) == 1
    assert len(audit_entries(db, job_id, "execute")) == 1


def test_a_crashed_executor_is_taken_over_by_its_retry_or_after_the_lease(db: Database) -> None:
    ticket_id = propose(db, paid_job(db), "1.00")
    with pytest.raises(Crash):
        tickets.execute(db, ticket_id, Recorder(Crash()), claimant="run-a")
    assert status_of(db, ticket_id) == "executing"
    with pytest.raises(Conflict, match="being executed by run-a"):
        tickets.execute(db, ticket_id, Recorder(), claimant="run-b")
    retry = Recorder()
    assert tickets.execute(db, ticket_id, retry, claimant="run-a").performed
    assert len(retry.runs) == 1

    other = propose(db, paid_job(db), "1.00")
    with pytest.raises(Crash):
        tickets.execute(db, other, Recorder(Crash()), claimant="run-a")
    assert tickets.execute(db, other, Recorder(), claimant="run-b", lease_s=0).performed


def _stripe_settings(base: str, key: str = "sk_test_gate") -> AegisSettings:
    return AegisSettings(stripe_secret_key=key, stripe_api_base=base)


def _intent_calls(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c["path"] == "/v1/payment_intents"]


def test_execute_creates_one_stripe_payment_intent_keyed_by_the_ticket(db: Database) -> None:
    job_id = paid_job(db)
    ticket_id = propose(db, job_id, "12.34")
    _approve(db, ticket_id)
    action = Recorder()
    with fake_stripe() as (base, calls):
        settings = _stripe_settings(base)
        results = _race(
            4,
            lambda i: tickets.execute(db, ticket_id, action, settings=settings, claimant=f"r{i}"),
        )
        again = tickets.execute(db, ticket_id, action, settings=settings)
    [done] = [r for r in results if isinstance(r, tickets.Execution) and r.performed]
    [create] = _intent_calls(calls)
    assert create["headers"]["Idempotency-Key"] == ticket_id
    assert create["form"]["amount"] == "1234" and create["form"]["currency"] == "usd"
    assert create["form"]["metadata[ticket_id]"] == ticket_id
    assert create["form"]["metadata[policy]"] == POLICY_ID
    assert done.stripe_pi_id == create["response"]["id"] == again.stripe_pi_id
    assert done.stripe_pi_id.startswith("pi_") and "local" not in done.stripe_pi_id
    assert done.result["payment"] == "stripe_test"
    assert not again.performed and len(action.runs) == 1


def test_a_crash_after_the_payment_intent_is_retried_onto_the_same_one(db: Database) -> None:
    ticket_id = propose(db, paid_job(db), "30.00")
    _approve(db, ticket_id)
    with fake_stripe() as (base, calls):
        settings = _stripe_settings(base)
        with pytest.raises(Crash):
            tickets.execute(db, ticket_id, Recorder(Crash()), settings=settings, claimant="r")
        done = tickets.execute(db, ticket_id, Recorder(), settings=settings, claimant="r")
    first, retry = _intent_calls(calls)
    assert (first["replayed"], retry["replayed"]) == (False, True)
    assert first["headers"]["Idempotency-Key"] == retry["headers"]["Idempotency-Key"]
    assert done.stripe_pi_id == first["response"]["id"]


def test_stripe_failure_and_small_amounts(db: Database) -> None:
    job_id = paid_job(db)
    small, large = propose(db, job_id, "0.40", "tiny"), propose(db, job_id, "0.50")
    with fake_stripe(fail=True) as (base, calls):
        settings = _stripe_settings(base)
        below = tickets.execute(db, small, settings=settings)
        with pytest.raises(tickets.PaymentProviderError):
            tickets.execute(db, large, settings=settings)
    assert below.stripe_pi_id == f"pi_local_test_{small}"
    assert "minimum" in below.result["payment_note"]
    assert all(c["form"]["metadata[ticket_id]"] == large for c in _intent_calls(calls))
    assert status_of(db, large) == "approved"  # released: a retry may try again


def test_live_stripe_keys_are_refused_before_anything_is_claimed(db: Database) -> None:
    ticket_id = propose(db, paid_job(db), "1.00")
    action = Recorder()
    live = AegisSettings(stripe_secret_key="sk_live_abcdefgh12345678")
    with pytest.raises(ValidationError, match="live Stripe keys are refused"):
        tickets.execute(db, ticket_id, action, settings=live)
    assert action.runs == [] and status_of(db, ticket_id) == "approved"
