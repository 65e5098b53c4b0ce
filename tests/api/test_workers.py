"""Limits hold across several uvicorn worker processes (state lives in the database)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from aegis_core import customers
from aegis_core.db.session import Database

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(pg_url: str, tmp_path):
    from aegis_core.db import migrate

    migrate.upgrade(pg_url)
    port = _free_port()
    env = {**os.environ, "AEGIS_DATABASE_URL": pg_url, "AEGIS_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)
    yield base, pg_url
    proc.terminate()
    proc.wait(timeout=30)


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
