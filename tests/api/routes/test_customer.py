"""GET /customer/decisions, /customer/decisions/{id} and /customer/decisions/export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from aegis_core import decisions
from aegis_core.db.session import Database
from tests.api.conftest import bearer
from tests.api.routes.test_governance import DOC_EXAMPLE

MONTH = datetime.now(UTC).strftime("%Y-%m")


def _evaluate(client: TestClient, key: str, n: int, **change) -> list[str]:
    return [
        client.post(
            "/evaluate",
            json={**DOC_EXAMPLE, **change, "proposal_summary": f"change {i}"},
            headers=bearer(key),
        ).json()["decision_id"]
        for i in range(n)
    ]


def test_list_is_newest_first_with_total_and_limit(client: TestClient, make_key) -> None:
    key, cust = make_key()
    ids = _evaluate(client, key, 3)
    r = client.get("/customer/decisions", params={"limit": 2}, headers=bearer(key))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3 and body["month"] == MONTH and body["_customer_id"] == cust
    assert [d["decision_id"] for d in body["decisions"]] == ids[::-1][:2]
    first = body["decisions"][0]
    assert set(first) == {
        "decision_id",
        "status",
        "confidence",
        "proposal_summary",
        "timestamp",
        "gates_passed",
        "gates_failed",
    }
    assert first["proposal_summary"] == "change 2" and first["status"] == "halt"
    assert body["_request_id"] == r.headers["x-aegis-request-id"]


def test_other_months_are_empty_and_bad_params_are_400(client: TestClient, make_key) -> None:
    key, _ = make_key()
    _evaluate(client, key, 1)
    r = client.get("/customer/decisions", params={"month": "2020-01"}, headers=bearer(key))
    assert r.json()["decisions"] == [] and r.json()["total"] == 0
    for params in ({"month": "2026-13"}, {"month": "March"}, {"limit": "ten"}, {"limit": 0}):
        assert (
            client.get("/customer/decisions", params=params, headers=bearer(key)).status_code == 400
        )
    big = client.get("/customer/decisions", params={"limit": 500}, headers=bearer(key))
    assert big.status_code == 200


def test_get_full_record_with_audit_hash(client: TestClient, make_key, db: Database) -> None:
    key, cust = make_key()
    (decision_id,) = _evaluate(client, key, 1, metadata={"ticket": "OPS-1"})
    r = client.get(
        f"/customer/decisions/{decision_id}", params={"month": MONTH}, headers=bearer(key)
    )
    assert r.status_code == 200
    body = r.json()
    for field in (
        "decision_id",
        "status",
        "confidence",
        "proposal_summary",
        "estimated_impact",
        "timestamp",
        "rationale",
        "next_steps",
        "gates",
        "constraints",
        "override_eligible",
        "override_requires",
        "audit_hash",
        "input_context",
        "_customer_id",
        "_request_id",
    ):
        assert field in body, field
    assert body["input_context"]["metadata"] == {"ticket": "OPS-1"}
    assert body["_customer_id"] == cust and len(body["audit_hash"]) == 64
    with db.session() as s:
        assert decisions.verify_record(s, cust, decision_id)


def test_tenant_isolation(client: TestClient, make_key) -> None:
    acme, _ = make_key(name="Acme")
    globex, _ = make_key(name="Globex")
    (acme_decision,) = _evaluate(client, acme, 1)
    r = client.get(f"/customer/decisions/{acme_decision}", headers=bearer(globex))
    assert r.status_code == 404 and "error" in r.json()
    assert client.get("/customer/decisions", headers=bearer(globex)).json()["total"] == 0
    assert client.get("/customer/decisions/not-a-uuid", headers=bearer(acme)).status_code == 404


def test_export_json_and_csv(client: TestClient, make_key) -> None:
    key, cust = make_key()
    ids = _evaluate(client, key, 3)
    j = client.get("/customer/decisions/export", params={"format": "json"}, headers=bearer(key))
    assert j.headers["content-type"].startswith("application/json")
    assert j.json()["total"] == 3 and j.json()["_customer_id"] == cust
    c = client.get(
        "/customer/decisions/export", params={"format": "csv", "month": MONTH}, headers=bearer(key)
    )
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(c.text)))
    assert list(rows[0]) == [
        "decision_id",
        "status",
        "confidence",
        "proposal_summary",
        "timestamp",
        "gates_passed",
        "gates_failed",
    ]
    assert sorted(r["decision_id"] for r in rows) == sorted(ids)
    assert {r["status"] for r in rows} == {"halt"}
    assert float(rows[0]["confidence"]) == pytest.approx(0.998821, abs=1e-6)
    bad = client.get("/customer/decisions/export", params={"format": "xml"}, headers=bearer(key))
    assert bad.status_code == 400


def test_customer_routes_need_a_key(client: TestClient) -> None:
    for path in (
        "/customer/decisions",
        "/customer/decisions/export",
        "/customer/decisions/d4e5f6a7-b8c9-4d0e-a1f2-b3c4d5e6f7a8",
    ):
        r = client.get(path)
        assert r.status_code == 403 and "error" in r.json()
