"""Limits hold across several uvicorn worker processes (state lives in the database)."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from aegis_core import audit, customers, limits
from aegis_core.db.models import GovernanceDecision
from aegis_core.db.session import Database
from tests.utils.server import uvicorn_app


@pytest.fixture
def server(pg_url: str, tmp_path):
    from aegis_core.db import migrate

    migrate.upgrade(pg_url)
    env = {"AEGIS_DATABASE_URL": pg_url, "AEGIS_HOME": str(tmp_path)}
    with uvicorn_app(env, workers=2) as base:
        yield base, pg_url


def test_rate_limit_is_shared_by_two_workers(server) -> None:
    base, url = server
    db = Database(url)
    with db.session() as s:
        _, key = customers.create_key(s, customer_name="Acme", tier="community")
    db.dispose()
    statuses: Counter[int] = Counter()
    for _ in range(70):  # a new connection each time, so the kernel spreads them over workers
        with httpx.Client(base_url=base) as c:
            r = c.post(
                "/risk-check", json={"risk_score": 0.2}, headers={"Authorization": f"Bearer {key}"}
            )
            statuses[r.status_code] += 1
    assert statuses == {200: 60, 429: 10}


def _fire(base: str, key: str, n: int) -> list[httpx.Response]:
    """`n` POST /evaluate at once, each on its own connection (spread over the workers)."""

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=30) as c:
            return c.post("/evaluate", json={}, headers={"Authorization": f"Bearer {key}"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(n)))


def _same_minute() -> None:
    """Rate windows are calendar minutes: do not start a burst in a minute's last seconds."""
    if datetime.now(UTC).second > 45:
        time.sleep(61 - datetime.now(UTC).second)


def test_evaluate_limits_are_exact_under_concurrent_load_from_two_workers(server) -> None:
    base, url = server
    db = Database(url)
    with db.session() as s:
        _, rate_key = customers.create_key(s, customer_name="Burst", tier="community")
        principal, month_key = customers.create_key(s, customer_name="Quota", tier="community")
        month = limits.month_window(datetime.now(UTC))
        for _ in range(95):  # 5 of the community tier's 100 evaluations left this month
            limits.consume(s, "evaluations", principal.key_id, month, 100)
    _same_minute()
    burst = Counter(r.status_code for r in _fire(base, rate_key, 90))
    assert burst == {200: 60, 429: 30}  # 60 per minute
    quota = _fire(base, month_key, 20)
    assert Counter(r.status_code for r in quota) == {200: 5, 429: 15}
    assert all("Monthly" in r.json()["error"] for r in quota if r.status_code == 429)
    with db.session() as s:
        stored = s.scalar(select(func.count()).select_from(GovernanceDecision))
        assert stored == 65  # every answered decision persisted, no refused one
        assert audit.verify(s).ok
    db.dispose()
