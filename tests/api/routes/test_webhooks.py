"""POST /webhooks/stripe: verified with the stripe library, stored once, nothing else."""

from __future__ import annotations

import random
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aegis_core.db.models import AuditLog, Job, Payment, StripeEvent
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from aegis_core.settings import get_settings
from tests.utils.stripe_events import SECRET, checkout_completed, signed


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_STRIPE_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()


def _events(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(StripeEvent))


def _new_job(client: TestClient) -> tuple[str, str]:
    body = client.post(
        "/jobs/",
        json={
            "source_url": "https://93.184.215.14/a.json",
            "description": "pairs",
            "format": "sharegpt",
        },
    ).json()
    return body["job_id"], body["checkout_session_id"]


def test_valid_event_is_stored_once(client: TestClient, db: Database) -> None:
    payload, headers = signed(checkout_completed("job", "cs_test_1"))
    for attempt in range(3):
        r = client.post("/webhooks/stripe", content=payload, headers=headers)
        assert r.status_code == 200
        assert r.json()["duplicate"] is (attempt > 0)
    assert _events(db) == 1


@pytest.mark.parametrize(
    "case", ["tampered", "wrong_secret", "stale", "no_header", "garbage", "not_json"]
)
def test_forged_or_stale_events_are_400_and_not_stored(
    client: TestClient, db: Database, case: str
) -> None:
    event = checkout_completed("job", "cs_test_1")
    payload, headers = signed(event)
    if case == "tampered":
        payload = payload.replace(b'"amount_total": 2000', b'"amount_total": 1')
    elif case == "wrong_secret":
        payload, headers = signed(event, secret="whsec_someone_else")
    elif case == "stale":
        payload, headers = signed(event, timestamp=int(time.time()) - 600)
    elif case == "no_header":
        headers = {}
    elif case == "garbage":
        headers = {"Stripe-Signature": "t=abc,v1=zzz"}
    elif case == "not_json":
        payload, headers = b"not json at all", signed(event)[1]
        headers = {
            "Stripe-Signature": __import__("stripe").WebhookSignature.generate_signature_header(
                payload.decode(), SECRET
            )
        }
    r = client.post("/webhooks/stripe", content=payload, headers=headers)
    assert r.status_code == 400 and "error" in r.json()
    assert _events(db) == 0


def test_duplicates_and_shuffled_deliveries_make_one_payment_each(
    client: TestClient, db: Database
) -> None:
    jobs = [_new_job(client) for _ in range(25)]
    deliveries = []
    for job_id, session_id in jobs:
        completed = checkout_completed(job_id, session_id)
        succeeded = checkout_completed(
            job_id, session_id, event_type="checkout.session.async_payment_succeeded"
        )
        deliveries += [completed, succeeded]  # 50 distinct events for 25 payments
    deliveries += deliveries[:10]  # and some redeliveries
    random.Random(7).shuffle(deliveries)
    for event in deliveries:
        payload, headers = signed(event)
        assert client.post("/webhooks/stripe", content=payload, headers=headers).status_code == 200
    with db.session() as s:
        first = process_events(s, after=0, limit=17)  # several ticks, bounded batches
        launches = list(first.launches)
        cursor = first.cursor
        while True:
            more = process_events(s, after=cursor, limit=17)
            if not more.seen:
                break
            launches += more.launches
            cursor = more.cursor
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 50
        assert s.scalar(select(func.count()).select_from(Payment)) == 25
        statuses = {j.status for j in s.scalars(select(Job))}
    assert statuses == {"triage"}
    assert sorted(launch.job_id for launch in launches) == sorted(j for j, _ in jobs)


def test_unpaid_then_async_success(client: TestClient, db: Database) -> None:
    job_id, session_id = _new_job(client)
    for event in (
        checkout_completed(job_id, session_id, paid=False),
        checkout_completed(
            job_id, session_id, event_type="checkout.session.async_payment_succeeded"
        ),
    ):
        payload, headers = signed(event)
        client.post("/webhooks/stripe", content=payload, headers=headers)
    with db.session() as s:
        result = process_events(s, after=0)
        assert len(result.launches) == 1 and s.get(Job, job_id).status == "triage"


def test_expired_checkout_halts_unpaid_job(client: TestClient, db: Database) -> None:
    job_id, session_id = _new_job(client)
    payload, headers = signed(
        checkout_completed(job_id, session_id, event_type="checkout.session.expired")
    )
    client.post("/webhooks/stripe", content=payload, headers=headers)
    with db.session() as s:
        assert process_events(s, after=0).launches == []
        job = s.get(Job, job_id)
        assert (job.status, job.halt_reason) == ("halted", "checkout expired")


def test_wrong_amount_is_refused(client: TestClient, db: Database) -> None:
    job_id, session_id = _new_job(client)
    payload, headers = signed(checkout_completed(job_id, session_id, amount=1))
    client.post("/webhooks/stripe", content=payload, headers=headers)
    with db.session() as s:
        assert process_events(s, after=0).launches == []
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
        assert s.get(Job, job_id).status == "awaiting_payment"
        refused = s.scalars(select(AuditLog).where(AuditLog.action == "payment_refused")).one()
        assert "unexpected amount" in refused.details["reason"]


@pytest.mark.parametrize("reference", ["order-7781", None, "8b0d3c8e-1b7e-4a55-9a55-2f1f0c1a9e01"])
def test_paid_session_for_unknown_job_creates_exactly_one_job(
    client: TestClient, db: Database, reference: str | None
) -> None:
    """A checkout paid outside POST /jobs/ (payment link, another front end) still becomes
    one job, whatever the number or order of deliveries."""
    event = checkout_completed(reference, "cs_test_external_1")
    event["data"]["object"]["metadata"] = {
        "source_url": "https://example.com/d.json",
        "description": "chats",
        "format": "chatml",
    }
    again = {
        **event,
        "id": "evt_second_delivery_of_same_session",
        "type": "checkout.session.async_payment_succeeded",
    }
    for e in (event, event, again):
        payload, headers = signed(e)
        client.post("/webhooks/stripe", content=payload, headers=headers)
    with db.session() as s:
        launches = process_events(s, after=0).launches
        jobs = s.scalars(select(Job)).all()
    assert len(jobs) == 1 and len(launches) == 1 and launches[0].job_id == jobs[0].id
    job = jobs[0]
    assert (job.status, job.output_format, job.input_path) == (
        "triage",
        "chatml",
        "https://example.com/d.json",
    )
    if reference and reference.count("-") == 4:
        assert job.id == reference
