"""POST/GET /jobs, the local checkout end to end, access control, operator routes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aegis_core import audit
from aegis_core.db.models import Job, OperatorRequest, Payment, StripeEvent
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from tests.api.conftest import bearer
from tests.utils.completed_job import finish_job

ORDER = {
    "source_url": "https://93.184.215.14/export.json",  # an IP literal: CI has no DNS
    "description": "Support conversations as instruction pairs",
    "format": "chatml",
}


def _order(client: TestClient, **change) -> dict:
    r = client.post("/jobs/", json={**ORDER, **change})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("path", ["/jobs/", "/jobs", "/v1/jobs"])
def test_create_returns_job_checkout_and_token(client: TestClient, db: Database, path) -> None:
    r = client.post(path, json=ORDER)
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "awaiting_payment" and body["format"] == "chatml"
    assert body["checkout_url"].endswith(f"/checkout/{body['job_id']}")
    assert body["access_token"].startswith("ajt_")
    assert body["auto_approve_threshold"] == "5.00"
    with db.session() as s:
        job = s.get(Job, body["job_id"])
        assert job.access_token_hash != body["access_token"]
        assert job.checkout_session_id == body["checkout_session_id"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"source_url": "http://example.com/x"}, "https"),
        ({"source_url": "file:///etc/passwd"}, "https"),
        ({"source_url": "https://"}, "host"),
        ({"source_url": "https://u:p@example.com/x"}, "credentials"),
        ({"source_url": None}, "source_url"),
        ({"description": "  "}, "description"),
        ({"format": "alpaca"}, "format"),
        ({"auto_approve_threshold": -1}, "auto_approve_threshold"),
        ({"auto_approve_threshold": True}, "auto_approve_threshold"),
        ({"auto_approve_threshold": "lots"}, "auto_approve_threshold"),
    ],
)
def test_bad_orders_are_400_and_store_nothing(
    client: TestClient, db: Database, change, fragment
) -> None:
    r = client.post("/jobs/", json={**ORDER, **change})
    assert r.status_code == 400 and fragment in r.json()["error"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_not_json_is_400(client: TestClient) -> None:
    r = client.post("/jobs/", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]


def test_only_the_owner_reads_a_job(client: TestClient, make_key) -> None:
    a, b = _order(client), _order(client)
    assert (
        client.get(f"/jobs/{a['job_id']}", params={"token": a["access_token"]}).status_code == 200
    )
    assert (
        client.get(
            f"/v1/jobs/{a['job_id']}", headers={"X-Job-Token": a["access_token"]}
        ).status_code
        == 200
    )
    assert client.get(f"/jobs/{a['job_id']}", headers=bearer(a["access_token"])).status_code == 200
    for headers, params in (
        ({}, {}),
        ({}, {"token": b["access_token"]}),
        ({"X-Job-Token": "ajt_forged"}, {}),
    ):
        r = client.get(f"/jobs/{a['job_id']}", headers=headers, params=params)
        assert r.status_code == 404 and "error" in r.json()
    key, _ = make_key(name="Owner")
    other_key, _ = make_key(name="Stranger")
    owned = client.post("/v1/jobs", json=ORDER, headers=bearer(key)).json()
    assert client.get(f"/v1/jobs/{owned['job_id']}", headers=bearer(key)).status_code == 200
    assert client.get(f"/v1/jobs/{owned['job_id']}", headers=bearer(other_key)).status_code == 404


def test_local_checkout_end_to_end(client: TestClient, db: Database) -> None:
    order = _order(client)
    page = client.get(f"/checkout/{order['job_id']}")
    assert page.status_code == 200 and "Pay $20.00" in page.text and "stand-in" in page.text
    paid = client.post(f"/checkout/{order['job_id']}/pay")
    assert paid.status_code == 200 and "Payment received" in paid.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 1
        result = process_events(s, after=0)
    assert [launch.job_id for launch in result.launches] == [order["job_id"]]
    view = client.get(f"/jobs/{order['job_id']}", params={"token": order["access_token"]}).json()
    assert view["status"] == "triage" and view["paid"] is True
    with db.session() as s:
        payment = s.scalars(select(Payment)).one()
        assert (payment.amount_cents, payment.currency) == (2000, "usd")
        actions = [
            r.action
            for r in s.scalars(
                select(audit.chain.AuditLog)
                .where(audit.chain.AuditLog.job_id == order["job_id"])
                .order_by(audit.chain.AuditLog.seq)
            )
        ]
        assert actions == ["job_created", "checkout_created", "payment_received", "status_change"]
        assert audit.verify(s).ok
    again = client.post(f"/checkout/{order['job_id']}/pay")
    assert "already triage" in again.text


def test_operator_routes_need_the_admin_key(client: TestClient, db: Database, monkeypatch) -> None:
    from aegis_core.settings import get_settings

    order = _order(client)
    assert client.post(f"/jobs/{order['job_id']}/process").status_code == 403
    monkeypatch.setenv("AEGIS_ADMIN_KEY", "s3cret-admin-key")
    get_settings.cache_clear()
    wrong = client.post(f"/jobs/{order['job_id']}/process", headers={"X-Admin-Key": "nope"})
    assert wrong.status_code == 403
    unpaid = client.post(
        f"/jobs/{order['job_id']}/process", headers={"X-Admin-Key": "s3cret-admin-key"}
    )
    assert unpaid.status_code == 409
    client.post(f"/checkout/{order['job_id']}/pay")
    with db.session() as s:
        process_events(s, after=0)  # what the Stripe sensor does on its next tick
    admin = {"X-Admin-Key": "s3cret-admin-key"}
    r = client.post(f"/jobs/{order['job_id']}/process", headers=admin)
    assert r.status_code == 202 and r.json()["kind"] == "process"
    # A certificate is re-issued for a complete job (or a refining one with its dataset).
    early = client.post(f"/jobs/{order['job_id']}/complete", headers=admin)
    assert early.status_code == 409 and "triage" in early.json()["error"]
    finish_job(db, get_settings().resolved_data_dir, order["job_id"])
    r = client.post(f"/jobs/{order['job_id']}/complete", headers=admin)
    assert r.status_code == 202 and r.json()["kind"] == "complete"
    missing = client.post(
        "/jobs/00000000-0000-0000-0000-000000000000/process",
        headers={"X-Admin-Key": "s3cret-admin-key"},
    )
    assert missing.status_code == 404
    with db.session() as s:
        assert [r.kind for r in s.scalars(select(OperatorRequest))] == ["process", "complete"]
