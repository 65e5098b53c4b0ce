"""A certified job over a real socket (uvicorn), on SQLite and PostgreSQL: the job view's
links, the dataset streamed with Range, and `aegis verify` fetching the served DID
document over HTTP and checking the downloaded dataset."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aegis_cli import main
from aegis_core.certificates import Issuer, issue_certificate
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from aegis_core.settings import AegisSettings
from tests.utils.completed_job import finish_job
from tests.utils.live_api import SOURCE_URL, LiveAPI, live_api


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[LiveAPI]:
    with live_api(db_url, tmp_path / ".aegis") as live:
        yield live


def test_a_certified_job_downloads_and_verifies(
    api: LiveAPI, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    http = httpx.Client(base_url=api.base, timeout=30)
    order = http.post(
        "/v1/jobs", json={"source_url": SOURCE_URL, "description": "pairs"}, headers=api.customer
    ).json()
    job_id = order["job_id"]
    http.post(f"/checkout/{job_id}/pay")
    with db.session() as s:
        process_events(s, after=0)
    settings = AegisSettings(home=tmp_path / ".aegis")  # the server's home
    files = finish_job(db, settings.resolved_data_dir, job_id)
    issue_certificate(db, job_id, files, Issuer.from_settings(settings))

    view = http.get(f"/v1/jobs/{job_id}", headers=api.customer).json()
    assert set(view["links"]) == {"self", "dataset", "certificate", "certificate_pdf"}
    for name, link in view["links"].items():
        path = link.removeprefix(settings.public_base_url)  # the server's public base
        assert http.get(path, headers=api.customer).status_code == 200, name
    body = http.get(f"/v1/jobs/{job_id}/dataset", headers=api.customer)
    assert body.headers["x-content-sha256"] == hashlib.sha256(body.content).hexdigest()
    part = http.get(f"/jobs/{job_id}/dataset", headers={**api.customer, "Range": "bytes=-64"})
    assert part.status_code == 206 and part.content == body.content[-64:]
    past = http.get(f"/jobs/{job_id}/dataset", headers={**api.customer, "Range": "bytes=999999-"})
    assert past.status_code == 416 and "error" in past.json()

    cert = tmp_path / "cert.json"
    cert.write_bytes(http.get(f"/jobs/{job_id}/aar", headers=api.customer).content)
    dataset = tmp_path / "dataset.jsonl"
    dataset.write_bytes(body.content)
    did = f"{api.base}/.well-known/did.json"
    code = main(["verify", str(cert), "--did", did, "--dataset", str(dataset)])
    out = capsys.readouterr()
    assert code == 0, out.err
    dataset.write_bytes(body.content + b"\n")
    assert main(["verify", str(cert), "--did", did, "--dataset", str(dataset)]) == 1
    assert "dataset hash mismatch" in capsys.readouterr().err
