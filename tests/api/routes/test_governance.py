"""POST /evaluate, /sandbox/evaluate, /risk-check and GET /health over HTTP."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aegis_core import audit
from aegis_core.db.models import AuditLog, GovernanceDecision
from aegis_core.db.session import Database
from tests.api.conftest import bearer

DOC_EXAMPLE = {
    "proposal_summary": "Add caching layer to reduce API latency",
    "estimated_impact": "medium",
    "risk_baseline": 0.05,
    "risk_proposed": 0.08,
    "profit_baseline": 0.10,
    "profit_proposed": 0.18,
    "complexity_score": 0.4,
    "quality_score": 0.85,
}
HEADERS = ("x-aegis-version", "x-aegis-tenant", "x-aegis-request-id")


def test_document_example_halts_on_complexity(client: TestClient, make_key) -> None:
    key, cust = make_key("professional")
    r = client.post("/evaluate", json=DOC_EXAMPLE, headers=bearer(key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "halt"
    assert body["failing_gates"] == ["complexity"]
    assert (body["gates_passed"], body["gates_failed"]) == (5, 1)
    assert body["override_eligible"] is False and body["override_requires"] == []
    assert body["confidence"] == pytest.approx(0.998821, abs=1e-6)
    assert body["gates"]["risk"]["value"] == pytest.approx(0.000042, abs=1e-6)
    assert body["gates"]["utility"]["value"] == pytest.approx(-0.640297, abs=1e-6)
    assert set(body["gates"]) == {"risk", "profit", "novelty", "complexity", "quality", "utility"}
    assert body["_tenant_id"] == body["_customer_id"] == cust
    assert body["_tier"] == "professional"
    assert body["_request_id"] == r.headers["x-aegis-request-id"]
    assert r.headers["x-aegis-customer"] == cust and r.headers["x-aegis-tier"] == "professional"
    assert r.headers["x-aegis-tenant"] == cust and "x-aegis-rate-remaining" in r.headers
    for field in ("rationale", "next_steps", "constraints", "decision_id", "timestamp"):
        assert field in body


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"complexity_score": 0.6}, "proceed"),
        ({"complexity_score": 0.6, "estimated_impact": "high"}, "escalate"),
    ],
)
def test_document_example_variants(client: TestClient, make_key, change, status) -> None:
    key, _ = make_key()
    r = client.post("/evaluate", json={**DOC_EXAMPLE, **change}, headers=bearer(key))
    assert r.json()["status"] == status


def test_empty_body_is_all_defaults(client: TestClient, make_key) -> None:
    key, _ = make_key()
    for content in (b"{}", b""):
        r = client.post("/evaluate", content=content, headers=bearer(key))
        assert r.status_code == 200 and r.json()["status"] == "proceed"


def test_decision_is_persisted_scoped_and_audited(client: TestClient, make_key, db: Database):
    key, cust = make_key()
    decision_id = client.post("/evaluate", json=DOC_EXAMPLE, headers=bearer(key)).json()[
        "decision_id"
    ]
    with db.session() as s:
        row = s.get(GovernanceDecision, decision_id)
        assert row.customer_id == cust and row.status == "halt"
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "governance_decision")).one()
        assert entry.details["decision_id"] == decision_id
        assert entry.details["audit_hash"] == row.audit_hash
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"risk_proposed": true}', "risk_proposed"),
        ('{"risk_baseline": NaN}', "risk_baseline"),
        ('{"risk_baseline": Infinity}', "risk_baseline"),
        ('{"profit_proposed": -Infinity}', "profit_proposed"),
        ('{"novelty_score": "0.5"}', "novelty_score"),
        ('{"requires_human_approval": "true"}', "requires_human_approval"),
        ('{"time_sensitive": 1}', "time_sensitive"),
        ('{"reversible": null}', "reversible"),
        ('{"shadow_mode": "yes"}', "shadow_mode"),
        ('{"metadata": [1, 2]}', "metadata"),
        ('{"metadata": "x"}', "metadata"),
        ('{"quality_subscores": 0.7}', "quality_subscores"),
        ('{"quality_subscores": [0.7, true]}', "quality_subscores"),
        ('{"quality_subscores": [0.7, NaN]}', "quality_subscores"),
        ('{"drift_baseline_data": [0.1, false]}', "drift_baseline_data"),
        ('{"drift_baseline_data": "0.1"}', "drift_baseline_data"),
        ('{"estimated_impact": 3}', "estimated_impact"),
        ('{"estimated_impact": "enormous"}', "estimated_impact"),
        ("[1, 2]", "object"),
        ("{not json", "JSON"),
    ],
)
def test_validation_errors_are_400_and_store_nothing(
    client: TestClient, make_key, db: Database, body: str, fragment: str
) -> None:
    key, _ = make_key()
    r = client.post(
        "/evaluate",
        content=body.encode(),
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["error"] and fragment.lower() in r.json()["error"].lower()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(GovernanceDecision)) == 0


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Token abc"])
def test_missing_or_bad_key_is_403(client: TestClient, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    for path, body in (("/evaluate", {}), ("/risk-check", {"risk_score": 0.1})):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 403 and "error" in r.json()
        assert r.headers["x-aegis-tenant"] == "anonymous"
        assert "x-aegis-customer" not in r.headers


def test_shadow_mode_needs_professional(client: TestClient, make_key) -> None:
    community, _ = make_key("community", "Small")
    pro, _ = make_key("professional", "Big")
    assert (
        client.post("/evaluate", json={"shadow_mode": True}, headers=bearer(community)).status_code
        == 403
    )
    r = client.post("/evaluate", json={"shadow_mode": True}, headers=bearer(pro))
    assert r.status_code == 200 and r.json()["shadow_result"]["shadow_only"] is True


def _baseline() -> list[float]:
    # 30 values, mean 0.033, population sd ~0.01418 (the governance-gates example).
    return [0.033 + 0.01418 * (1 if i % 2 else -1) for i in range(30)]


@pytest.mark.parametrize(
    ("risk", "profit", "drift_status", "status"),
    [
        ((0.0, 0.03), (0.0, 0.035), None, "proceed"),
        ((0.0, 0.03), (0.0, 0.08), "warning", "proceed"),
        ((0.0, 0.05), (0.0, 0.10), "critical", "halt"),
    ],
)
def test_drift_levels(client: TestClient, make_key, risk, profit, drift_status, status) -> None:
    key, _ = make_key()
    body = {
        "risk_baseline": risk[0],
        "risk_proposed": risk[1],
        "profit_baseline": profit[0],
        "profit_proposed": profit[1],
        "drift_baseline_data": _baseline(),
        "complexity_score": 0.6,
    }
    r = client.post("/evaluate", json=body, headers=bearer(key)).json()
    assert r["status"] == status
    if drift_status is None:
        assert "drift" not in r
    else:
        assert r["drift"]["status"] == drift_status
    # Shadow mode records the same drift for calibration only.
    shadow = client.post(
        "/evaluate", json={**body, "shadow_mode": True}, headers=bearer(key)
    ).json()
    assert "drift" not in shadow and shadow["status"] == "proceed"


def test_risk_check_document_example(client: TestClient, make_key) -> None:
    key, cust = make_key("community")
    body = {
        "risk_score": 0.35,
        "threshold": 0.5,
        "agent_id": "deploy-bot",
        "action_description": "Deploy canary to staging",
    }
    r = client.post("/risk-check", json=body, headers=bearer(key))
    assert r.status_code == 200
    assert r.json() == {
        "safe": True,
        "risk_score": 0.35,
        "threshold": 0.5,
        "agent_id": "deploy-bot",
        "_tenant_id": cust,
        "_customer_id": cust,
        "_tier": "community",
        "_request_id": r.headers["x-aegis-request-id"],
    }


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        '{"risk_score": true}',
        '{"risk_score": NaN}',
        '{"risk_score": 0.2, "threshold": false}',
    ],
)
def test_risk_check_validation(client: TestClient, make_key, body: str) -> None:
    key, _ = make_key()
    r = client.post("/risk-check", content=body.encode(), headers=bearer(key))
    assert r.status_code == 400 and "error" in r.json()


def test_per_minute_rate_limit(client: TestClient, make_key) -> None:
    key, _ = make_key("community")  # 60 requests per minute
    remaining = [
        client.post("/risk-check", json={"risk_score": 0.1}, headers=bearer(key)) for _ in range(61)
    ]
    assert [r.status_code for r in remaining[:60]] == [200] * 60
    assert remaining[59].headers["x-aegis-rate-remaining"] == "0"
    assert remaining[60].status_code == 429 and "error" in remaining[60].json()


def test_sandbox_limit_and_no_persistence(client: TestClient, db: Database) -> None:
    results = [client.post("/sandbox/evaluate", json=DOC_EXAMPLE) for _ in range(11)]
    assert all(r.status_code == 200 for r in results[:10])
    first = results[0].json()
    assert first["sandbox"] is True and first["remaining"] == 9 and first["status"] == "halt"
    assert first["_tenant_id"] == "anonymous"
    assert results[9].json()["remaining"] == 0
    assert results[10].status_code == 429
    assert results[10].json() == {
        "error": "sandbox_limit_reached",
        "limit": 10,
        "remaining": 0,
        "message": "Sandbox limit reached (10/day). Get a free API key at "
        "https://portal.undercurrentholdings.com for 100/month.",
        "upgrade_url": "https://portal.undercurrentholdings.com",
    }
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(GovernanceDecision)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_health_reports_checks(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["checks"]["config"]["ok"] is True
    assert body["checks"]["gates"]["ok"] is True and body["version"]
    assert body["stage"] in {"dev", "staging", "prod", "unknown"}
    for header in HEADERS:
        assert header in r.headers


def test_health_503_when_gates_break(client: TestClient, monkeypatch) -> None:
    monkeypatch.setattr("api.routes.governance.health_check", lambda: False)
    r = client.get("/health")
    assert r.status_code == 503 and r.json()["status"] == "degraded"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/evaluate"), ("GET", "/risk-check"), ("POST", "/nope"), ("DELETE", "/health")],
)
def test_unknown_path_or_method_is_404(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 404 and list(r.json()) == ["error"]


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    ok = client.options(
        "/evaluate",
        headers={
            "Origin": "https://portal.undercurrentholdings.com",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert ok.headers["access-control-allow-origin"] == "https://portal.undercurrentholdings.com"
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    preview = client.get("/health", headers={"Origin": "https://aegis-git-x.vercel.app"})
    assert preview.headers["access-control-allow-origin"] == "https://aegis-git-x.vercel.app"
    evil = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


def test_json_error_shape_on_nan_literal_is_json(client: TestClient, make_key) -> None:
    key, _ = make_key()
    r = client.post("/evaluate", content=b'{"quality_score": NaN}', headers=bearer(key))
    assert r.status_code == 400 and json.loads(r.text)["error"]


def test_monthly_evaluation_quota(client: TestClient, make_key, db: Database) -> None:
    from datetime import UTC, datetime

    from aegis_core import limits
    from aegis_core.customers import authenticate

    key, _ = make_key("community")  # 100 evaluations a month
    with db.session() as s:
        key_id = authenticate(s, f"Bearer {key}").key_id
        month = limits.month_window(datetime.now(UTC))
        for _ in range(99):
            limits.consume(s, "evaluations", key_id, month, 100)
    assert client.post("/evaluate", json={}, headers=bearer(key)).status_code == 200
    r = client.post("/evaluate", json={}, headers=bearer(key))
    assert r.status_code == 429 and "Monthly" in r.json()["error"]
