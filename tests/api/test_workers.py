"""Limits hold across several uvicorn worker processes (state lives in the database)."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from aegis_core import customers
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
