"""Spend tickets: POLICY-DATA-REFINE-01, a person's decision, execution exactly once.
(The gate's wait is `aegis_core.loop.gate`.)

Lifecycle: `proposed` → `approved` | `rejected`; `approved` → `executing` → `executed`.
Every change of status is one conditional UPDATE on the status it expects, checked by its
row count, so two deciders or two executors racing on a ticket cannot both win: SQLite
serializes writers (BEGIN IMMEDIATE) and PostgreSQL re-checks the WHERE of a blocked
UPDATE once the first one commits. Each change is audited in the same transaction.

Exactly once: an executor first claims the ticket (`approved` → `executing`, with a claim
token), commits, then does the side effects and finishes with an UPDATE that needs its own
token. A second executor finds nothing to claim; a re-execution finds `executed` and does
nothing. If the executor fails, its claim is released (back to `approved`); if its process
dies, the claim can be taken over by the same claimant (a retry of the same run) at once,
or by anyone after `EXECUTE_LEASE_S`. The Stripe PaymentIntent is created with the
ticket id as idempotency key, so a retry after a crash gets the same PaymentIntent back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

import stripe
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import Job, SpendTicket, utcnow
from aegis_core.db.session import Database
from aegis_core.errors import Conflict, NotFound, ValidationError
from aegis_core.payments import CURRENCY
from aegis_core.payments.checkout import PaymentProviderError, stripe_client
from aegis_core.settings import AegisSettings

POLICY_ID = "POLICY-DATA-REFINE-01"
POLICY_ACTOR = f"policy:{POLICY_ID}"
TIMEOUT_ACTOR = "policy:gate-timeout"
TIMED_OUT = "timed out"
EXECUTE_LEASE_S = 900.0
STRIPE_MIN_CENTS = 50  # Stripe refuses smaller USD charges
MAX_AMOUNT = Decimal("1000000")
MAX_TEXT = 4000
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")
CENT = Decimal("0.01")


class TicketStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    EXECUTED = "executed"


T = TicketStatus


class ProposalLike(Protocol):
    """What the model's `propose` returns (see `aegis_core.loop.model.Proposal`)."""

    kind: str
    amount: Decimal
    rationale: str
    units: int | None


@dataclass(frozen=True)
class TicketInfo:
    """What an executor's action is handed: a snapshot, not a live database row."""

    id: str
    job_id: str
    kind: str
    units: int | None
    amount: Decimal
    description: str


Action = Callable[[TicketInfo], Mapping[str, Any]]


def info_of(ticket: SpendTicket) -> TicketInfo:
    return TicketInfo(
        ticket.id,
        ticket.job_id,
        ticket.kind,
        ticket.units,
        Decimal(ticket.amount),
        ticket.description,
    )


@dataclass(frozen=True)
class Execution:
    """The result of `execute`: `performed` is False when an earlier call already did it."""

    ticket: dict[str, Any]
    performed: bool

    @property
    def stripe_pi_id(self) -> str | None:
        return self.ticket["stripe_pi_id"]

    @property
    def result(self) -> dict[str, Any]:
        return self.ticket["execution"] or {}


# --- reading -------------------------------------------------------------------------------


def ticket_view(ticket: SpendTicket) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": ticket.id,
        "job_id": ticket.job_id,
        "kind": ticket.kind,
        "units": ticket.units,
        "amount": str(ticket.amount),
        "description": ticket.description,
        "status": ticket.status,
        "decided_by": ticket.decided_by,
        "decided_at": iso(ticket.decided_at),
        "decision_reason": ticket.decision_reason,
        "stripe_pi_id": ticket.stripe_pi_id,
        "executed_at": iso(ticket.executed_at),
        "execution": ticket.execution,
        "created_at": iso(ticket.created_at),
    }


def get_ticket(session: Session, ticket_id: str) -> SpendTicket:
    ticket = session.get(SpendTicket, ticket_id, populate_existing=True)
    if ticket is None:
        raise NotFound(f"spend ticket {ticket_id} not found")
    return ticket


def job_tickets(session: Session, job_id: str) -> list[SpendTicket]:
    return list(
        session.scalars(
            select(SpendTicket)
            .where(SpendTicket.job_id == job_id)
            .order_by(SpendTicket.created_at, SpendTicket.id)
            .execution_options(populate_existing=True)
        )
    )


def current_tickets(session: Session, job_id: str) -> list[SpendTicket]:
    """The newest ticket of each kind: the ones the job's gate is about now (a ticket
    rejected in an earlier run of the job is superseded by the one proposed again)."""
    newest: dict[str, SpendTicket] = {}
    for ticket in job_tickets(session, job_id):
        newest[ticket.kind] = ticket
    return sorted(newest.values(), key=lambda t: (t.created_at, t.id))


def gate_state(tickets: Sequence[SpendTicket | Mapping[str, Any]]) -> str:
    """none | waiting | rejected | timed_out | approved, over a job's current tickets."""

    def get(t: SpendTicket | Mapping[str, Any], name: str) -> Any:
        return t[name] if isinstance(t, Mapping) else getattr(t, name)

    if not tickets:
        return "none"
    statuses = [get(t, "status") for t in tickets]
    if T.PROPOSED in statuses:
        return "waiting"
    refused = [t for t in tickets if get(t, "status") == T.REJECTED]
    if any(get(t, "decided_by") != TIMEOUT_ACTOR for t in refused):
        return "rejected"
    if refused:
        return "timed_out"
    return "approved"


PUBLIC_EXECUTION_KEYS = ("mode", "note", "payment", "payment_note")


def gate_view(session: Session, job_id: str) -> dict[str, Any]:
    """The `gate` block of a customer's job view: its state and every ticket it ever had
    (of an execution's record only what it was, not the executor's internals)."""
    current = current_tickets(session, job_id)
    views = []
    for ticket in job_tickets(session, job_id):
        view = ticket_view(ticket)
        if view["execution"] is not None:
            view["execution"] = {
                k: v for k, v in view["execution"].items() if k in PUBLIC_EXECUTION_KEYS
            }
        views.append(view)
    return {
        "state": gate_state(current),
        "awaiting_approval": sum(t.status == T.PROPOSED for t in current),
        "tickets": views,
    }


def list_tickets(
    session: Session, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Tickets for the operator's queue, oldest first (the longest waiting on top)."""
    query = select(SpendTicket).order_by(SpendTicket.created_at, SpendTicket.id)
    if status is not None:
        if status not in TicketStatus._value2member_map_:
            allowed = ", ".join(TicketStatus)
            raise ValidationError(f"status must be one of {allowed}")
        query = query.where(SpendTicket.status == status)
    if not 1 <= limit <= 500:
        raise ValidationError("limit must be between 1 and 500")
    return [ticket_view(t) for t in session.scalars(query.limit(limit))]


# --- proposing: POLICY-DATA-REFINE-01 ------------------------------------------------------


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise ValidationError("a spend amount must be a number of US dollars")
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValidationError("a spend amount must be a number of US dollars") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValidationError(f"a spend amount must be between 0 and {MAX_AMOUNT}")
    return amount


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} is required")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"{what} is longer than {MAX_TEXT} characters")
    return value.strip()


def propose(
    session: Session, job: Job, proposals: Iterable[ProposalLike], *, actor: str = "agent"
) -> list[SpendTicket]:
    """One ticket per proposal, decided by POLICY-DATA-REFINE-01, always audited.

    amount <= the job's `auto_approve_threshold` → `approved` by the policy, no person;
    otherwise → `proposed`, waiting at the gate. A kind the job already has a live ticket
    for (not rejected) is not proposed twice: a retried or re-run step gets that ticket back,
    so one job never pays twice for the same step.
    """
    threshold = Decimal(job.auto_approve_threshold)
    live = {t.kind: t for t in current_tickets(session, job.id) if t.status != T.REJECTED}
    tickets = []
    for proposal in proposals:
        kind = proposal.kind
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise ValidationError(f"spend kind {kind!r} must be a short lowercase name")
        amount = _amount(proposal.amount)
        rationale = _text(proposal.rationale, "a spend rationale")
        units = proposal.units
        if units is not None and (isinstance(units, bool) or not isinstance(units, int)):
            raise ValidationError("spend units must be a whole number")
        if kind in live:
            tickets.append(live[kind])
            continue
        ticket = SpendTicket(
            job_id=job.id,
            kind=kind,
            units=units,
            amount=amount,
            description=rationale,
            status=str(T.PROPOSED),
        )
        session.add(ticket)
        session.flush()
        auto = amount <= threshold
        audit.append(
            session,
            job.id,
            "propose_spend",
            actor,
            {
                "ticket_id": ticket.id,
                "kind": kind,
                "units": units,
                "amount": str(amount),
                "description": rationale,
                "threshold": str(threshold),
                "policy": POLICY_ID,
                "outcome": "auto_approve" if auto else "human_required",
            },
        )
        if auto:
            ticket.status = str(T.APPROVED)
            ticket.decided_by = POLICY_ACTOR
            ticket.decided_at = utcnow()
            session.flush()
            audit.append(
                session,
                job.id,
                "auto_approve",
                POLICY_ACTOR,
                {
                    "ticket_id": ticket.id,
                    "amount": str(amount),
                    "threshold": str(threshold),
                    "policy": POLICY_ID,
                },
            )
        live[kind] = ticket
        tickets.append(ticket)
    return tickets


# --- deciding ------------------------------------------------------------------------------


def operator_actor(email: str | None) -> str:
    """The operator's `X-Operator-Email`, checked: the audit names a person, not a key."""
    value = (email or "").strip()
    if not value:
        raise ValidationError("X-Operator-Email is required: the gate records who decided")
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValidationError("X-Operator-Email must be an email address")
    return value.lower()


def decide(
    session: Session,
    ticket_id: str,
    *,
    approve: bool,
    actor: str,
    reason: str | None = None,
    via: str = "operator",
) -> SpendTicket:
    """A person approves or rejects a `proposed` ticket; anything else is a `Conflict`."""
    if not actor:
        raise ValidationError("a decision needs an actor")
    if approve:
        reason = _text(reason, "reason") if reason else None
    else:
        reason = _text(reason, "reason (why the spend is rejected)")
    target = T.APPROVED if approve else T.REJECTED
    changed = session.execute(
        update(SpendTicket)
        .where(SpendTicket.id == ticket_id, SpendTicket.status == T.PROPOSED)
        .values(status=str(target), decided_by=actor, decided_at=utcnow(), decision_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    ticket = get_ticket(session, ticket_id)
    if changed != 1:
        raise Conflict(
            f"spend ticket {ticket_id} is {ticket.status}; only a proposed ticket can be decided"
        )
    audit.append(
        session,
        ticket.job_id,
        "human_approve" if approve else "human_reject",
        actor,
        {
            "ticket_id": ticket.id,
            "kind": ticket.kind,
            "amount": str(ticket.amount),
            "reason": reason,
            "via": via,
            "policy": POLICY_ID,
        },
    )
    return ticket


# --- executing -----------------------------------------------------------------------------


def _stripe(settings: AegisSettings | None) -> stripe.StripeClient | None:
    """A test-mode client when a key is set (live keys are refused), else None."""
    if settings is None or not settings.stripe_secret_key:
        return None
    return stripe_client(settings)


def _payment_intent(client: stripe.StripeClient | None, info: TicketInfo) -> dict[str, Any]:
    """The spend's PaymentIntent in Stripe test mode, or a clearly marked local test id."""
    cents = int((info.amount * 100).to_integral_value())
    local = {"stripe_pi_id": f"pi_local_test_{info.id}", "payment": "local_test"}
    if client is None:
        return {**local, "payment_note": "no Stripe key set: local test id, no funds move"}
    if cents < STRIPE_MIN_CENTS:
        return {
            **local,
            "payment_note": "below Stripe's minimum charge: local test id, no funds move",
        }
    try:
        intent = client.v1.payment_intents.create(
            params={
                "amount": cents,
                "currency": CURRENCY,
                "description": f"Aegis spend ticket {info.id} ({info.kind})",
                "metadata": {
                    "ticket_id": info.id,
                    "job_id": info.job_id,
                    "kind": info.kind,
                    "policy": POLICY_ID,
                },
            },
            options={"idempotency_key": info.id},
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused the spend's PaymentIntent: {exc}") from exc
    if intent.livemode:
        raise PaymentProviderError("Stripe answered in live mode; this deployment is test only")
    return {"stripe_pi_id": intent.id, "payment": "stripe_test"}


def _json_safe(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError("an executor's action must return a mapping")
    return json.loads(json.dumps(dict(value), default=str))


STUB_RESULT = {
    "mode": "test_stub",
    "note": "no local executor for this kind: execution is a test stub, no work was done",
}


def execute(
    db: Database,
    ticket_id: str,
    action: Action | None = None,
    *,
    settings: AegisSettings | None = None,
    claimant: str | None = None,
    lease_s: float = EXECUTE_LEASE_S,
) -> Execution:
    """Execute an approved ticket exactly once: its PaymentIntent, then `action(info)`.

    `action` does the local work (e.g. OCR) and returns a JSON-able summary stored on the
    ticket; None records a test stub. It must be safe to repeat after a crash (write its
    output to a fixed path), since a dead executor's claim is taken over. `claimant` names
    one sequential executor (e.g. the Dagster run id). Returns `performed=False` when the
    ticket was already executed; raises `Conflict` when it is not approved or another
    executor holds it, `NotFound` when there is no such ticket.
    """
    client = _stripe(settings)  # a live key is refused before anything is claimed
    token = str(uuid.uuid4())
    now = utcnow()
    takeover = SpendTicket.claimed_at < now - timedelta(seconds=lease_s)
    if claimant is not None:
        takeover = or_(takeover, SpendTicket.claimed_by == claimant)
    claimable = or_(
        SpendTicket.status == T.APPROVED, and_(SpendTicket.status == T.EXECUTING, takeover)
    )
    with db.session() as session:
        claimed = session.execute(
            update(SpendTicket)
            .where(SpendTicket.id == ticket_id, claimable)
            .values(
                status=str(T.EXECUTING),
                claimed_by=claimant or "system",
                claim_token=token,
                claimed_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        ticket = get_ticket(session, ticket_id)
        if claimed != 1:
            if ticket.status == T.EXECUTED:
                return Execution(ticket_view(ticket), performed=False)
            if ticket.status == T.EXECUTING:
                raise Conflict(
                    f"spend ticket {ticket_id} is being executed by {ticket.claimed_by}"
                    f" since {ticket.claimed_at:%Y-%m-%d %H:%M:%S} UTC"
                )
            raise Conflict(
                f"spend ticket {ticket_id} is {ticket.status}; only an approved ticket executes"
            )
        info = info_of(ticket)
    mine = and_(
        SpendTicket.id == ticket_id,
        SpendTicket.status == T.EXECUTING,
        SpendTicket.claim_token == token,
    )
    try:
        payment = _payment_intent(client, info)
        with db.session() as session:  # kept at once: a crash after this still shows it
            session.execute(
                update(SpendTicket)
                .where(mine)
                .values(stripe_pi_id=payment["stripe_pi_id"])
                .execution_options(synchronize_session=False)
            )
        result = _json_safe(action(info)) if action is not None else dict(STUB_RESULT)
    except Exception as exc:
        _release(db, info, mine, exc)
        raise
    result = {**result, **payment}
    with db.session() as session:
        finished = session.execute(
            update(SpendTicket)
            .where(mine)
            .values(
                status=str(T.EXECUTED), executed_at=utcnow(), execution=result, claim_token=None
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if finished != 1:
            raise Conflict(
                f"spend ticket {ticket_id}: this executor's claim was taken over; its result"
                " was not recorded"
            )
        audit.append(
            session,
            info.job_id,
            "execute",
            claimant or "system",
            {
                "ticket_id": info.id,
                "kind": info.kind,
                "amount": str(info.amount),
                "stripe_pi_id": payment["stripe_pi_id"],
                "mode": result.get("mode", "local"),
                "note": result.get("note"),
                "policy": POLICY_ID,
            },
        )
        ticket = get_ticket(session, ticket_id)
        return Execution(ticket_view(ticket), performed=True)


def _release(db: Database, info: TicketInfo, mine: Any, exc: Exception) -> None:
    """Give a failed execution's claim back (`approved`), so a retry may run it again."""
    with db.session() as session:
        released = session.execute(
            update(SpendTicket)
            .where(mine)
            .values(status=str(T.APPROVED), claim_token=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if released == 1:
            audit.append(
                session,
                info.job_id,
                "execute_failed",
                "system",
                {"ticket_id": info.id, "kind": info.kind, "error": f"{type(exc).__name__}: {exc}"},
            )
