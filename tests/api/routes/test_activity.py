"""GET /activity over HTTP, on SQLite and PostgreSQL: the JSON feed and its cursor, the
event stream (ids, resume with Last-Event-ID, heartbeats, a bounded life, live events),
nothing private in either, and the limits."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from fastapi.testclient import TestClient

from aegis_core import audit
from aegis_core.db.session import Database
from aegis_core.loop import tickets
from aegis_core.settings import get_settings
from api.routes import activity as activity_route
from tests.utils.spend import paid_job, propose

EMAIL = "ann.operator@example.com"
SECRET_REASON = "approved, see https://93.184.215.14/x?sig=s3cr3t and sk_test_51HxAbCdEfGhIjKl"


def _approved_job(db: Database) -> str:
    job_id = paid_job(db, "5.00")
    ticket_id = propose(db, job_id, "12.50")
    with db.session() as session:
        tickets.decide(session, ticket_id, approve=True, actor=EMAIL, reason=SECRET_REASON)
    return job_id


def _private_leaks(text: str) -> list[str]:
    private = [EMAIL, "93.184.215.14", "s3cr3t", "sk_test", "example.com", "OCR for"]
    return [p for p in private if p in text]


def test_json_feed_and_cursor(client: TestClient, db: Database) -> None:
    job_id = _approved_job(db)
    r = client.get("/activity")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert _private_leaks(r.text) == []
    actions = [e["action"] for e in body["events"]]
    assert actions == ["job_created", "status_change", "propose_spend", "human_approve"]
    approve = body["events"][-1]
    assert approve["actor"] == "operator" and approve["job"] == job_id[:8]
    assert approve["details"] == {"kind": "ocr", "amount": "12.50"}
    assert body["next_after"] == approve["seq"]

    latest = client.get("/activity", params={"limit": 1}).json()
    assert [e["action"] for e in latest["events"]] == ["human_approve"]
    first_two = client.get("/activity", params={"after": 0, "limit": 2}).json()
    assert [e["action"] for e in first_two["events"]] == ["job_created", "status_change"]
    rest = client.get("/activity", params={"after": first_two["next_after"]}).json()
    assert [e["action"] for e in rest["events"]] == ["propose_spend", "human_approve"]
    empty = client.get("/activity", params={"after": rest["next_after"]}).json()
    assert empty == {"events": [], "next_after": rest["next_after"]}

    for bad in ({"limit": 0}, {"limit": 201}, {"after": -1}, {"after": 2**53}, {"limit": "x"}):
        r = client.get("/activity", params=bad)
        assert r.status_code == 400 and list(r.json()) == ["error"], bad


def _read_stream(client: TestClient, path: str, **kwargs) -> str:
    with client.stream("GET", path, **kwargs) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        return "".join(r.iter_text())


def _frames(text: str) -> list[dict[str, str]]:
    frames = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            fields[name or "comment"] = value.strip()
        if fields:
            frames.append(fields)
    return frames


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGIS_ACTIVITY_STREAM_S", "1.5")
    get_settings.cache_clear()


def test_event_stream_ids_resume_heartbeats_and_end(
    client: TestClient, db: Database, short_streams: None
) -> None:
    _approved_job(db)
    text = _read_stream(client, "/activity/stream")  # ends by itself: a bounded life
    assert _private_leaks(text) == []
    frames = _frames(text)
    assert any(f.get("retry") == "3000" for f in frames)
    assert any("ping" in f.get("comment", "") for f in frames)  # heartbeats
    events = [(f["id"], json.loads(f["data"])) for f in frames if "data" in f]
    assert [e["action"] for _, e in events] == [
        "job_created",
        "status_change",
        "propose_spend",
        "human_approve",
    ]
    assert all(seq == str(e["seq"]) for seq, e in events)

    resumed = _frames(
        _read_stream(client, "/activity/stream", headers={"Last-Event-ID": events[1][0]})
    )
    assert [json.loads(f["data"])["action"] for f in resumed if "data" in f] == [
        "propose_spend",
        "human_approve",
    ]
    by_accept = _frames(
        _read_stream(
            client,
            "/activity",
            params={"after": events[2][0]},
            headers={"Accept": "text/event-stream"},
        )
    )
    assert [json.loads(f["data"])["action"] for f in by_accept if "data" in f] == ["human_approve"]


def test_event_stream_delivers_what_happens_while_open(
    client: TestClient, db: Database, short_streams: None
) -> None:
    job_id = str(uuid.uuid4())

    def later() -> None:
        with db.session() as session:
            audit.append(session, job_id, "certificate_issued", "system", {"cert_id": "cert_1"})

    timer = threading.Timer(0.4, later)
    timer.start()
    try:
        text = _read_stream(client, "/activity/stream")
    finally:
        timer.join()
    live = [json.loads(f["data"]) for f in _frames(text) if "data" in f]
    assert [(e["action"], e["job"], e["details"]) for e in live] == [
        ("certificate_issued", job_id[:8], {})
    ]


def test_limits(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activity_route, "REQUESTS_PER_MINUTE", 3)
    answers = [client.get("/activity").status_code for _ in range(3)]
    refused = client.get("/activity/stream")
    assert answers == [200, 200, 200]
    assert refused.status_code == 429 and "at most 3 a minute" in refused.json()["error"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    monkeypatch.setattr(activity_route, "REQUESTS_PER_MINUTE", 100)
    monkeypatch.setattr(activity_route, "MAX_STREAMS", 0)
    full = client.get("/activity/stream")
    assert full.status_code == 429 and "streams" in full.json()["error"]
    assert client.get("/activity").status_code == 200  # JSON is not a stream
