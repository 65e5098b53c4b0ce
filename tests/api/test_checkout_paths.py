"""Checkout against Stripe's wire format, and the local stand-in over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aegis_core.db.models import Job, StripeEvent
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from aegis_core.settings import get_settings
from tests.utils.fake_stripe import fake_stripe
from tests.utils.server import free_port, uvicorn_app

ORDER = {"source_url": "https://93.184.215.14/x.json", "description": "qa pairs"}


def _app_client(monkeypatch: pytest.MonkeyPatch, db_url: str, **env: str) -> TestClient:
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    from api.main import create_app

    return TestClient(create_app())


def test_real_stripe_path_sends_the_checkout_session(monkeypatch, db_url, db: Database) -> None:
    with fake_stripe() as (base, calls):
        client = _app_client(
            monkeypatch, db_url, AEGIS_STRIPE_SECRET_KEY="sk_test_123", AEGIS_STRIPE_API_BASE=base
        )
        r = client.post("/jobs/", json=ORDER)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["checkout_url"].startswith("https://checkout.stripe.com/")
    (call,) = calls
    form = call["form"]
    assert call["path"] == "/v1/checkout/sessions"
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "2000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == body["job_id"]
    assert form["metadata[job_id]"] == body["job_id"]
    assert call["headers"]["Idempotency-Key"] == f"checkout:{body['job_id']}"
    assert call["headers"]["Authorization"] == "Bearer sk_test_123"
    with db.session() as s:
        assert s.get(Job, body["job_id"]).checkout_session_id == body["checkout_session_id"]
    assert client.get(f"/checkout/{body['job_id']}").status_code == 404  # Stripe hosts it


def test_stripe_failure_is_502_and_stores_nothing(monkeypatch, db_url, db: Database) -> None:
    with fake_stripe(fail=True) as (base, _):
        client = _app_client(
            monkeypatch, db_url, AEGIS_STRIPE_SECRET_KEY="sk_test_123", AEGIS_STRIPE_API_BASE=base
        )
        r = client.post("/jobs/", json=ORDER)
    assert r.status_code == 502 and "Stripe" in r.json()["error"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_live_keys_are_refused(monkeypatch, db_url) -> None:
    client = _app_client(monkeypatch, db_url, AEGIS_STRIPE_SECRET_KEY="sk_live_123")
    r = client.post("/jobs/", json=ORDER)
    assert r.status_code == 400 and "live" in r.json()["error"]


def test_local_checkout_over_http_under_uvicorn(db_url: str, tmp_path, db: Database) -> None:
    port = free_port()
    env = {
        "AEGIS_DATABASE_URL": db_url,
        "AEGIS_HOME": str(tmp_path / "home"),
        "AEGIS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "AEGIS_STRIPE_SECRET_KEY": "",
        "STRIPE_SECRET_KEY": "",
    }
    with uvicorn_app(env, port=port) as base, httpx.Client(base_url=base) as http:
        order = http.post("/v1/jobs", json=ORDER).json()
        page = http.get(order["checkout_url"])
        assert "Pay $20.00" in page.text
        assert http.post(f"/checkout/{order['job_id']}/pay").status_code == 200
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(StripeEvent)) == 1
            assert len(process_events(s, after=0).launches) == 1
        view = http.get(
            f"/v1/jobs/{order['job_id']}",
            headers={"Authorization": f"Bearer {order['access_token']}"},
        )
        assert view.json()["status"] == "triage"
