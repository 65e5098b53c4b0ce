"""Orders for a source that can never be fetched are refused at the door: 400, no job,
no checkout, no audit row. Same rule as the fetch guard (see tests/core/refine)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aegis_core.db.models import AuditLog, Job
from aegis_core.db.session import Database

INTERNAL = [
    ("https://127.0.0.1/x.json", "Loopback"),
    ("https://169.254.169.254/latest/meta-data/", "Link Local"),
    ("https://[::1]/x.json", "Loopback"),
    ("https://0x7f000001/x.json", "Loopback"),
    ("https://127.1/x.json", "Loopback"),
    ("https://017700000001/x.json", "Loopback"),
    ("https://2130706433/x.json", "Loopback"),
    ("https://10.0.0.5/x.json", "Private-Use"),
    ("https://localhost/x.json", "Loopback"),
    ("https://192.0.0.8/x.json", "IPv4 dummy address"),
    ("https://100.64.0.1/x.json", "Shared Address Space"),
    ("https://[2002:7f00:1::]/x.json", "Loopback"),
    ("https://[64:ff9b::a9fe:a9fe]/x.json", "Link Local"),
    ("https://[::ffff:10.0.0.5]/x.json", "Private-Use"),
    ("https://[fd00::1]/x.json", "Unique-Local"),
    ("https://no-such-host.invalid/x.json", "cannot resolve host"),
]


def _rows(db: Database) -> tuple[int, int]:
    with db.session() as s:
        jobs = s.scalar(select(func.count()).select_from(Job))
        audit = s.scalar(select(func.count()).select_from(AuditLog))
    return jobs, audit


@pytest.mark.parametrize(("url", "fragment"), INTERNAL)
def test_sources_that_cannot_be_fetched_are_refused(
    client: TestClient, db: Database, url: str, fragment: str
) -> None:
    for path in ("/jobs/", "/v1/jobs"):
        r = client.post(path, json={"source_url": url, "description": "pairs"})
        assert r.status_code == 400, r.text
        assert fragment in r.json()["error"] and "source_url" in r.json()["error"]
    assert _rows(db) == (0, 0)


def test_dev_mode_allows_files_but_not_internal_hosts(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """AEGIS_ALLOW_INSECURE_SOURCES opens http:// and file://, never internal addresses:
    the fetch guard would refuse them at run time too."""
    from aegis_core.settings import get_settings

    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()
    source = tmp_path / "chats.json"
    source.write_text("[]")
    refused = client.post(
        "/jobs/", json={"source_url": "http://127.0.0.1:8080/x", "description": "pairs"}
    )
    assert refused.status_code == 400 and "Loopback" in refused.json()["error"]
    assert _rows(db) == (0, 0)
    ok = client.post("/jobs/", json={"source_url": source.as_uri(), "description": "pairs"})
    assert ok.status_code == 201, ok.text
    assert _rows(db)[0] == 1
