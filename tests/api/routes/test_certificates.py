"""Certificates and downloads over HTTP, on SQLite and PostgreSQL: every link a job view
hands out answers its owner, the served certificate verifies against the served DID
document and the downloaded dataset, Range, formats, and nobody else gets anything."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aegis_core.certificates import Issuer, issue_certificate, keys, verify
from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from aegis_core.refine.service import files_for
from aegis_core.settings import get_settings
from tests.api.conftest import bearer
from tests.utils.completed_job import finish_job

ORDER = {
    "source_url": "https://93.184.215.14/export.json",
    "description": "Support conversations as instruction pairs",
    "format": "chatml",
}


def _paid_order(client: TestClient, db: Database, headers: dict | None = None) -> dict:
    order = client.post("/v1/jobs", json=ORDER, headers=headers or {}).json()
    client.post(f"/checkout/{order['job_id']}/pay")
    with db.session() as s:
        process_events(s, after=0)  # what the Stripe sensor does
    return order


def _complete(db: Database, order: dict, *, certify: bool = True) -> None:
    settings = get_settings()
    job_id = order["job_id"]
    files = finish_job(db, settings.resolved_data_dir, job_id)
    if certify:
        issue_certificate(db, job_id, files, Issuer.from_settings(settings))


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def done(client: TestClient, db: Database) -> dict:
    order = _paid_order(client, db)
    _complete(db, order)
    return order


def _owner(order: dict) -> dict[str, str]:
    return {"X-Job-Token": order["access_token"]}


def test_every_link_answers_200_for_its_owner(client: TestClient, db: Database, make_key) -> None:
    key, _ = make_key(name="Owner")
    for headers, credentials in (({}, None), (bearer(key), bearer(key))):
        order = _paid_order(client, db, headers)
        owner = credentials or _owner(order)
        _complete(db, order)
        view = client.get(f"/v1/jobs/{order['job_id']}", headers=owner).json()
        assert view["status"] == "complete"
        links = view["links"]
        assert set(links) == {"self", "dataset", "certificate", "certificate_pdf"}
        for name, link in links.items():
            r = client.get(_path(link), headers=owner)
            assert r.status_code == 200, (name, r.text[:200])
            assert client.get(_path(link)).status_code == 404, name
        query = client.get(_path(links["dataset"]), params={"token": order["access_token"]})
        assert query.status_code == 200


def test_the_served_certificate_verifies_against_the_served_did_and_dataset(
    client: TestClient, done: dict
) -> None:
    job_id = done["job_id"]
    cert = client.get(f"/jobs/{job_id}/aar", headers=_owner(done))
    assert cert.status_code == 200 and cert.headers["content-type"] == "application/json"
    did = client.get("/.well-known/did.json")
    assert did.status_code == 200 and did.json()["id"] == "did:web:127.0.0.1%3A8000"
    data = client.get(f"/v1/jobs/{job_id}/dataset", headers=_owner(done))
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/jsonl")
    digest = hashlib.sha256(data.content).digest()
    assert data.headers["x-content-sha256"] == digest.hex()
    assert data.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert f"{job_id}.chatml.jsonl" in data.headers["content-disposition"]
    assert cert.json()["credentialSubject"]["dataset"]["sha256"] == digest.hex()
    local = files_for(get_settings().resolved_data_dir, "downloaded").root
    local.mkdir(parents=True)
    (local / "dataset.jsonl").write_bytes(data.content)
    result = verify.verify_certificate(cert.json(), did.json(), local / "dataset.jsonl")
    assert result.ok, result.describe()


def test_certificate_as_json_or_pdf(client: TestClient, done: dict) -> None:
    url, owner = f"/v1/jobs/{done['job_id']}/certificate", _owner(done)
    aar = client.get(f"/jobs/{done['job_id']}/aar", headers=owner).content
    plain = client.get(url, headers=owner)
    assert plain.content == aar and "Accept" in plain.headers["vary"]
    for params, accept in (
        ({"format": "pdf"}, None),
        ({}, "application/pdf"),
        ({}, "application/pdf, application/json;q=0.5"),
        ({}, "application/pdf, */*"),
    ):
        r = client.get(
            url, params=params, headers={**owner, **({"Accept": accept} if accept else {})}
        )
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", accept
        assert r.content.startswith(b"%PDF-")
    for params, accept in (
        ({"format": "json"}, "application/pdf"),
        ({}, "application/json, application/pdf;q=0.5"),
        ({}, "*/*"),
        ({}, "text/html"),
    ):
        r = client.get(url, params=params, headers={**owner, "Accept": accept})
        assert r.status_code == 200 and r.content == aar, accept
    bad = client.get(url, params={"format": "xml"}, headers=owner)
    assert bad.status_code == 400 and "error" in bad.json()


def test_nothing_before_it_exists(client: TestClient, db: Database) -> None:
    order = _paid_order(client, db)
    owner, job_id = _owner(order), order["job_id"]
    for path in (f"/jobs/{job_id}/dataset", f"/v1/jobs/{job_id}/dataset"):
        r = client.get(path, headers=owner)
        assert r.status_code == 404 and "not ready" in r.json()["error"]
    _complete(db, order, certify=False)
    for path in (f"/jobs/{job_id}/aar", f"/v1/jobs/{job_id}/certificate"):
        r = client.get(path, headers=owner)
        assert r.status_code == 404 and "not issued yet" in r.json()["error"]
    assert client.get(f"/jobs/{job_id}/dataset", headers=owner).status_code == 200
    view = client.get(f"/jobs/{job_id}", headers=owner).json()
    assert "certificate" not in view["links"]


def test_strangers_get_404(client: TestClient, db: Database, done: dict, make_key) -> None:
    other = _paid_order(client, db)
    key, _ = make_key(name="Stranger")
    job_id = done["job_id"]
    for headers in (
        {},
        _owner(other),
        {"X-Job-Token": "ajt_forged"},
        bearer(key),
        bearer(done["access_token"] + "x"),
    ):
        for path in (
            f"/jobs/{job_id}/aar",
            f"/v1/jobs/{job_id}/certificate?format=pdf",
            f"/jobs/{job_id}/dataset",
            f"/v1/jobs/{job_id}/dataset",
        ):
            r = client.get(path, headers=headers)
            assert r.status_code == 404 and r.json() == {"error": f"job {job_id} not found"}
    assert (
        client.get(f"/jobs/{job_id}/aar", headers=bearer(done["access_token"])).status_code == 200
    )


def test_range_requests(client: TestClient, done: dict) -> None:
    url, owner = f"/jobs/{done['job_id']}/dataset", _owner(done)
    whole = client.get(url, headers=owner)
    body, size, etag = whole.content, len(whole.content), whole.headers["etag"]
    assert whole.headers["accept-ranges"] == "bytes"

    def get(value: str, **extra: str):
        return client.get(url, headers={**owner, "Range": value, **extra})

    for value, expected in (
        ("bytes=0-9", body[:10]),
        ("bytes=10-", body[10:]),
        ("bytes=-5", body[-5:]),
        (f"bytes=5-{size + 100}", body[5:]),
        (f"bytes=-{size + 100}", body),
    ):
        r = get(value)
        assert r.status_code == 206 and r.content == expected, value
        start = size - len(expected)
        if (
            value.startswith("bytes=0")
            or value.startswith("bytes=1")
            or value.startswith("bytes=5")
        ):
            start = int(value[6:].split("-")[0])
        assert r.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{size}"
        assert r.headers["x-content-sha256"] == hashlib.sha256(body).hexdigest()
    for value in (f"bytes={size}-", f"bytes={size + 7}-{size + 9}", "bytes=-0"):
        r = get(value)
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}", value
        assert "not satisfiable" in r.json()["error"]
    for value in ("bytes=9-2", "bytes=0-1,4-5", "items=0-4", "bytes=x-y", "bytes=-", "junk"):
        r = get(value)
        assert r.status_code == 200 and r.content == body, value
    assert get("bytes=0-4", **{"If-Range": etag}).status_code == 206
    stale = get("bytes=0-4", **{"If-Range": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.content == body


def test_the_did_document_keeps_rotated_keys(client: TestClient, done: dict) -> None:
    first = client.get("/.well-known/did.json").json()
    assert len(first["verificationMethod"]) == 1
    keys.rotate(get_settings().resolved_signing_key_path)
    doc = client.get("/.well-known/did.json").json()
    ids = [m["id"] for m in doc["verificationMethod"]]
    assert ids[0] == first["verificationMethod"][0]["id"] and len(ids) == 2
    assert doc["assertionMethod"] == ids
    assert all(i.startswith(f"{doc['id']}#") for i in ids)
    assert all(m["publicKeyMultibase"].startswith("z6Mk") for m in doc["verificationMethod"])
    cert = client.get(f"/jobs/{done['job_id']}/aar", headers=_owner(done)).json()
    assert verify.verify_certificate(cert, doc).ok


def test_the_did_document_without_a_key_in_production(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEGIS_STAGE", "production")
    monkeypatch.setenv("AEGIS_DID_DOMAIN", "refine.example.com")
    get_settings.cache_clear()
    r = client.get("/.well-known/did.json")
    assert r.status_code == 503 and "aegis keys signing generate" in r.json()["error"]
    assert not get_settings().resolved_signing_key_path.exists()
    keys.generate(get_settings().resolved_signing_key_path)
    doc = client.get("/.well-known/did.json").json()
    assert doc["id"] == "did:web:refine.example.com"


def test_a_job_mid_rerun_hands_out_no_dataset(client: TestClient, db: Database, done: dict) -> None:
    with db.session() as s:
        s.scalar(select(Job).where(Job.id == done["job_id"])).status = "refining"
    r = client.get(f"/jobs/{done['job_id']}/dataset", headers=_owner(done))
    assert r.status_code == 404
    view = client.get(f"/jobs/{done['job_id']}", headers=_owner(done)).json()
    assert "dataset" not in view["links"]
