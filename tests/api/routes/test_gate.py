"""The human gate over HTTP: operator and customer decisions, 409 on a second decision,
the operator's queue, the gate state in the job view, concurrent approvals on a real
server (two workers)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from aegis_core.db.session import Database
from aegis_core.orders import hash_token
from aegis_core.settings import get_settings
from api.schemas import JobView, SpendTicketView
from tests.api.conftest import bearer
from tests.utils.server import uvicorn_app
from tests.utils.spend import audit_entries, paid_job, propose

ADMIN_KEY = "s3cret-admin-key"
OPERATOR = {"X-Admin-Key": ADMIN_KEY, "X-Operator-Email": "Ops@Example.com"}


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_ADMIN_KEY", ADMIN_KEY)
    get_settings.cache_clear()


def _owned_job(db: Database, token: str = "ajt_owner-token", **kw: str) -> str:
    return paid_job(db, threshold="5.00", access_token_hash=hash_token(token), **kw)


def test_operator_approves_once_then_409(client: TestClient, db: Database, admin: None) -> None:
    job_id = _owned_job(db)
    ticket_id = propose(db, job_id, "25.00")
    queue = client.get("/admin/tickets", params={"status": "proposed"}, headers=OPERATOR)
    assert queue.status_code == 200
    [row] = queue.json()["tickets"]
    assert (row["id"], row["job_id"], row["amount"]) == (ticket_id, job_id, "25.00")
    assert row["description"] == "OCR for 3 pages without text" and row["created_at"]

    path = f"/admin/gate/{ticket_id}/approve"
    assert client.post(path).status_code == 403
    assert client.post(path, headers={**OPERATOR, "X-Admin-Key": "wrong"}).status_code == 403
    no_email = client.post(path, headers={"X-Admin-Key": ADMIN_KEY})
    assert no_email.status_code == 400 and "X-Operator-Email" in no_email.json()["error"]
    bad_email = client.post(path, headers={**OPERATOR, "X-Operator-Email": "ops"})
    assert bad_email.status_code == 400

    r = client.post(path, headers=OPERATOR)
    assert r.status_code == 200, r.text
    SpendTicketView.model_validate(r.json())  # the documented shape
    assert (r.json()["status"], r.json()["decided_by"]) == ("approved", "ops@example.com")
    twice = client.post(path, headers=OPERATOR)
    assert twice.status_code == 409
    assert twice.json() == {
        "error": f"spend ticket {ticket_id} is approved; only a proposed ticket can be decided"
    }
    late = client.post(f"/admin/gate/{ticket_id}/reject", json={"reason": "x"}, headers=OPERATOR)
    assert late.status_code == 409

    [entry] = audit_entries(db, job_id, "human_approve")
    assert (entry.actor, entry.details["via"]) == ("ops@example.com", "operator")
    queue = client.get("/admin/tickets", params={"status": "proposed"}, headers=OPERATOR)
    assert queue.json() == {"tickets": [], "count": 0}
    assert (
        client.get("/admin/tickets", params={"status": "nope"}, headers=OPERATOR).status_code == 400
    )
    assert client.get("/admin/tickets").status_code == 403

    view = client.get(f"/v1/jobs/{job_id}", headers={"X-Job-Token": "ajt_owner-token"}).json()
    JobView.model_validate(view)
    assert view["gate"]["state"] == "approved" and view["gate"]["awaiting_approval"] == 0
    assert [(t["id"], t["status"]) for t in view["gate"]["tickets"]] == [(ticket_id, "approved")]


@pytest.mark.parametrize(
    "body, fragment",
    [
        (None, "reason is required"),
        ({"reason": "  "}, "reason"),
        ([1], "JSON object"),
        ({"reason": 5}, "string"),
        (b"{nope", "JSON"),
    ],
)
def test_a_rejection_without_a_reason_is_400(
    client: TestClient, db: Database, admin: None, body: object, fragment: str
) -> None:
    ticket_id = propose(db, _owned_job(db), "25.00")
    path = f"/admin/gate/{ticket_id}/reject"
    if isinstance(body, bytes):
        r = client.post(path, content=body, headers=OPERATOR)
    else:
        r = client.post(path, json=body, headers=OPERATOR)
    assert r.status_code == 400 and fragment in r.json()["error"], r.text


def test_operator_rejects_with_a_reason(client: TestClient, db: Database, admin: None) -> None:
    job_id = _owned_job(db)
    ticket_id = propose(db, job_id, "25.00")
    r = client.post(
        f"/admin/gate/{ticket_id}/reject", json={"reason": "too costly"}, headers=OPERATOR
    )
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "too costly")
    view = client.get(f"/jobs/{job_id}", params={"token": "ajt_owner-token"}).json()
    assert view["gate"]["state"] == "rejected"
    assert client.post(f"/admin/gate/{ticket_id}/approve", headers=OPERATOR).status_code == 409
    unknown = client.post("/admin/gate/no-such-ticket/approve", headers=OPERATOR)
    assert unknown.status_code == 404


def test_the_job_view_shows_a_waiting_gate(client: TestClient, db: Database) -> None:
    job_id = _owned_job(db)
    view = client.get(f"/jobs/{job_id}", params={"token": "ajt_owner-token"}).json()
    assert view["gate"] == {"state": "none", "awaiting_approval": 0, "tickets": []}
    ticket_id = propose(db, job_id, "25.00")
    gate = client.get(f"/jobs/{job_id}", params={"token": "ajt_owner-token"}).json()["gate"]
    assert (gate["state"], gate["awaiting_approval"]) == ("waiting", 1)
    [ticket] = gate["tickets"]
    assert (ticket["id"], ticket["kind"], ticket["units"]) == (ticket_id, "ocr", 3)
    assert (ticket["amount"], ticket["status"], ticket["stripe_pi_id"]) == (
        "25.00",
        "proposed",
        None,
    )


def test_the_owner_decides_and_everyone_else_gets_404(
    client: TestClient, db: Database, make_key: Callable[..., tuple[str, str]]
) -> None:
    mine = propose(db, _owned_job(db, "ajt_mine"), "25.00")
    theirs = propose(db, _owned_job(db, "ajt_theirs"), "25.00")
    key, customer_id = make_key()
    other_key, _ = make_key(name="Other")
    keyed_job = _owned_job(db, "ajt_keyed", customer_id=customer_id)
    keyed = propose(db, keyed_job, "25.00")

    def approve(ticket: str, **kw: object) -> httpx.Response:
        return client.post(f"/v1/spend_tickets/{ticket}/approve", **kw)

    for attempt in (
        approve(theirs, headers={"X-Job-Token": "ajt_mine"}),
        approve(mine),
        approve(mine, params={"token": "ajt_wrong"}),
        approve(keyed, headers=bearer(other_key)),
        approve("no-such-ticket", headers={"X-Job-Token": "ajt_mine"}),
    ):
        assert attempt.status_code == 404 and "not found" in attempt.json()["error"]

    r = approve(mine, headers={"Authorization": "Bearer ajt_mine"})
    assert r.status_code == 200 and r.json()["decided_by"] == "customer:job-token"
    assert approve(mine, headers={"X-Job-Token": "ajt_mine"}).status_code == 409
    r = approve(keyed, headers=bearer(key))
    assert r.status_code == 200 and r.json()["decided_by"] == f"customer:{customer_id}"
    [entry] = audit_entries(db, keyed_job, "human_approve")
    assert (entry.actor, entry.details["via"]) == (f"customer:{customer_id}", "customer")

    path = f"/v1/spend_tickets/{theirs}/reject"
    assert client.post(path, params={"token": "ajt_theirs"}).status_code == 400
    r = client.post(path, params={"token": "ajt_theirs"}, json={"reason": "not needed"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"


def test_concurrent_approvals_over_http_one_wins(db_url: str, db: Database) -> None:
    job_id = _owned_job(db)
    ticket_id = propose(db, job_id, "25.00")
    env = {"AEGIS_DATABASE_URL": db_url, "AEGIS_ADMIN_KEY": ADMIN_KEY}
    with uvicorn_app(env, workers=2, quiet=True) as base:
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def approve(i: int) -> None:
            if i % 2:
                url = f"{base}/admin/gate/{ticket_id}/approve"
                headers = {**OPERATOR, "X-Operator-Email": f"op{i}@example.com"}
            else:
                url = f"{base}/v1/spend_tickets/{ticket_id}/approve"
                headers = {"X-Job-Token": "ajt_owner-token"}
            barrier.wait()
            codes.append(httpx.post(url, headers=headers, timeout=60).status_code)

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    assert sorted(codes) == [200] + [409] * 7
    assert len(audit_entries(db, job_id, "human_approve")) == 1
