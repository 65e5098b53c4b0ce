"""Turning stored Stripe events into paid jobs, exactly once per payment.

The sensor calls `process_events` with its cursor. Events are handled in the order they
were stored, whatever order Stripe sent them in, and every effect is idempotent:

- `checkout.session.completed` with `payment_status == "paid"`, and
  `checkout.session.async_payment_succeeded`: record the payment (unique per checkout
  session), move the job `awaiting_payment -> triage`, audit it (actor `stripe`), and ask
  for a refinery run. A payment starts one run, ever: the run's first step claims the
  payment (`claim_run`), and a payment's run that finds the job out of triage or the
  payment claimed by another run does nothing. The same event seen again (a crash between
  commit and cursor save, a replay from an empty cursor, `aegis demo` beside the daemon)
  asks again only while the job is still in triage and no run has claimed the payment;
  Dagster also drops a repeated request by its run_key (the event id). A second,
  different event for an already paid session asks for nothing.
- `checkout.session.completed` still `unpaid` (delayed methods): wait for the async event.
- `checkout.session.expired` and `checkout.session.async_payment_failed`: halt the unpaid
  job with the reason.
- A paid session for a job we do not know (a payment link, another front end) creates
  the job from the session: id from `client_reference_id` (or derived from it), source,
  description and format from its metadata. Never two jobs for one session.
- A session with the wrong amount or currency is audited as refused (once per event) and
  asks for nothing.
- Every other type is stored by the webhook and deliberately ignored here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import AuditLog, Job, Payment, StripeEvent
from aegis_core.jobs import ACTIVE, JobStatus, create_job, transition
from aegis_core.payments import CURRENCY, FLAT_FEE_CENTS
from aegis_core.settings import get_settings

PAID_TYPES = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
FAILED_TYPES = ("checkout.session.expired", "checkout.session.async_payment_failed")


@dataclass(frozen=True)
class Launch:
    event_id: str
    job_id: str


@dataclass
class Fulfilment:
    cursor: int
    seen: int = 0
    launches: list[Launch] = field(default_factory=list)


def _job_id(obj: dict[str, Any]) -> str | None:
    return obj.get("client_reference_id") or (obj.get("metadata") or {}).get("job_id")


def _refuse(session: Session, event: StripeEvent, job_id: str | None, reason: str) -> None:
    already = session.scalar(
        select(AuditLog.seq)
        .where(
            AuditLog.action == "payment_refused",
            AuditLog.details["event_id"].as_string() == event.event_id,
        )
        .limit(1)
    )
    if already is not None:  # a replayed event: refused once, audited once
        return
    audit.append(
        session,
        job_id,
        "payment_refused",
        "stripe",
        {"event_id": event.event_id, "event_type": event.type, "reason": reason},
    )


def _job_key(obj: dict[str, Any]) -> str:
    """The job id for a session: its client_reference_id when that is a uuid, otherwise a
    uuid derived from it (or from the session id), so a redelivery maps to the same job."""
    ref = _job_id(obj)
    try:
        return str(uuid.UUID(str(ref)))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aegis:checkout:{ref or obj.get('id')}"))


def _job_from_session(session: Session, event: StripeEvent, obj: dict[str, Any]) -> Job:
    """A checkout paid outside our `POST /jobs/` (a payment link, another front end): the
    job is created from the session's metadata, as the order it paid for."""
    meta = obj.get("metadata") or {}
    fmt = meta.get("format") if meta.get("format") in ("sharegpt", "chatml") else "sharegpt"
    job = create_job(
        session,
        job_id=_job_key(obj),
        source_url=str(meta.get("source_url") or ""),
        description=str(meta.get("description") or "dataset ordered through Stripe Checkout"),
        output_format=fmt,
        auto_approve_threshold=get_settings().default_auto_approve_threshold,
        actor="stripe",
    )
    job.checkout_session_id = obj.get("id")
    session.flush()
    return job


def _paid(session: Session, event: StripeEvent, obj: dict[str, Any]) -> Launch | None:
    if not obj.get("id"):
        _refuse(session, event, None, "checkout session without an id")
        return None
    existing = session.scalar(select(Payment).where(Payment.checkout_session_id == obj["id"]))
    if existing is not None:  # already fulfilled: re-ask only for the same, unstarted event
        job = session.get(Job, existing.job_id)
        if (
            existing.stripe_event_id == event.event_id
            and existing.run_id is None
            and job is not None
            and job.status == JobStatus.TRIAGE
        ):
            return Launch(event.event_id, existing.job_id)
        return None
    if obj.get("amount_total") != FLAT_FEE_CENTS or obj.get("currency") != CURRENCY:
        _refuse(
            session,
            event,
            None,
            f"unexpected amount {obj.get('amount_total')} {obj.get('currency')}",
        )
        return None
    job = session.get(Job, _job_key(obj))
    if job is None:
        job = _job_from_session(session, event, obj)
    if job.checkout_session_id and job.checkout_session_id != obj.get("id"):
        _refuse(session, event, job.id, "checkout session does not belong to this job")
        return None
    session.add(
        Payment(
            job_id=job.id,
            checkout_session_id=obj["id"],
            payment_intent_id=obj.get("payment_intent"),
            stripe_event_id=event.event_id,
            amount_cents=obj["amount_total"],
            currency=obj["currency"],
        )
    )
    session.flush()
    audit.append(
        session,
        job.id,
        "payment_received",
        "stripe",
        {
            "event_id": event.event_id,
            "checkout_session_id": obj["id"],
            "payment_intent_id": obj.get("payment_intent"),
            "amount_cents": obj["amount_total"],
            "currency": obj["currency"],
            "livemode": event.livemode,
        },
    )
    if job.status == JobStatus.AWAITING_PAYMENT:
        transition(session, job, JobStatus.TRIAGE, actor="stripe", reason="payment received")
    return Launch(event.event_id, job.id)


def _failed(session: Session, event: StripeEvent, obj: dict[str, Any]) -> None:
    job = session.get(Job, _job_key(obj))
    if job is not None and job.status == JobStatus.AWAITING_PAYMENT:
        reason = "checkout expired" if event.type.endswith("expired") else "payment failed"
        transition(session, job, JobStatus.HALTED, actor="stripe", reason=reason)


def claim_run(session: Session, job: Job, event_id: str | None, run_id: str) -> bool:
    """True when run `run_id`, asked for by payment event `event_id`, may work on `job`:
    the job is still in the works and the payment's run is this one, or the job is in
    triage and this run is the first to claim the payment."""
    payment = session.scalar(
        select(Payment).where(Payment.job_id == job.id, Payment.stripe_event_id == event_id)
    )
    if payment is None:
        return False
    if payment.run_id == run_id:  # this run's own claim (a retried first step)
        return job.status in ACTIVE
    if payment.run_id is not None or job.status != JobStatus.TRIAGE:
        return False
    claimed = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.run_id.is_(None))
        .values(run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _handle(session: Session, event: StripeEvent) -> Launch | None:
    obj = (event.payload.get("data") or {}).get("object") or {}
    if event.type in PAID_TYPES and (
        event.type != "checkout.session.completed" or obj.get("payment_status") == "paid"
    ):
        return _paid(session, event, obj)
    if event.type in FAILED_TYPES:
        _failed(session, event, obj)
    return None


def process_events(session: Session, after: int, limit: int = 200) -> Fulfilment:
    """Handle up to `limit` stored events after `after`; returns the runs to ask for."""
    events = session.scalars(
        select(StripeEvent).where(StripeEvent.seq > after).order_by(StripeEvent.seq).limit(limit)
    ).all()
    result = Fulfilment(cursor=after, seen=len(events))
    for event in events:
        launch = _handle(session, event)
        if launch is not None:
            result.launches.append(launch)
        result.cursor = event.seq
    return result


def process_event(session: Session, event_id: str) -> Launch | None:
    """Handle one stored event by id, by the same rules (`aegis demo` fulfils its own
    payment this way, leaving every other event to the sensor)."""
    event = session.scalar(select(StripeEvent).where(StripeEvent.event_id == event_id))
    return _handle(session, event) if event is not None else None
