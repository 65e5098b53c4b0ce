"""The certificate asset in real Dagster runs, checked through the real API under uvicorn
(SQLite and PostgreSQL): a paid job's run certifies it and only then completes it, the
certificate verifies against the served DID document and the downloaded dataset; a failed
blocking check halts the job with no certificate; an operator's `complete` request
re-issues the certificate by running that one asset."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import httpx
import pytest
from sqlalchemy import select

from aegis_assets.certificate import audit_certificate
from aegis_assets.definitions import defs
from aegis_assets.partitions import job_partitions
from aegis_core.certificates import verify_certificate
from aegis_core.db.models import AuditCertificate, Job
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_events
from aegis_core.refine import pii
from aegis_core.settings import get_settings
from aegis_sensors.stripe import run_tags
from tests.utils.daemon import sensor_daemon
from tests.utils.live_api import SOURCE_URL, LiveAPI, live_api
from tests.utils.spend import audit_entries

QUESTION = "My NAS will not boot after the firmware update. What should I check first?"
ANSWER = (
    "Check the boot order in the firmware settings and make sure the system disk is first; "
    "if it still fails, write to jane.doe@example.com with the serial number."
)
CHECKS = {"valid_for_format", "no_pii_left", "has_rows", "no_duplicate_rows"}


def _source(path: Path) -> Path:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"{QUESTION} (unit {i})"},
                {"role": "assistant", "content": f"{ANSWER} Unit {i} may need a reset too."},
            ]
        }
        for i in range(4)
    ]
    path.write_text(json.dumps(rows))
    return path


@pytest.fixture
def api(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveAPI]:
    """The API under uvicorn and this process (the runs) on the same database and home, so
    the runs sign with the key the served DID document publishes."""
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()
    with live_api(db_url, get_settings().home) as live:
        yield live


@pytest.fixture
def http(api: LiveAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base, timeout=30) as client:
        yield client


def _instance() -> AbstractContextManager[dg.DagsterInstance]:
    """An instance whose runs execute as soon as the daemon launches them."""
    return dg.instance_for_test(synchronous_run_coordinator=True, synchronous_run_launcher=True)


def _payment_run(instance: dg.DagsterInstance, db: Database) -> dg.ExecuteInProcessResult:
    """The payment's run as the Stripe sensor asks for it, executed in this process."""
    with db.session() as s:
        (launch,) = process_events(s, after=0).launches
    instance.add_dynamic_partitions(job_partitions.name, [launch.job_id])
    return defs.resolve_job_def("refinery").execute_in_process(
        partition_key=launch.job_id, instance=instance, tags=run_tags(launch), raise_on_error=False
    )


def _paid_order(http: httpx.Client, api: LiveAPI, db: Database, source: Path) -> str:
    """A customer's order paid through the local checkout; its source is a local file."""
    order = http.post(
        "/v1/jobs",
        json={"source_url": SOURCE_URL, "description": "NAS support"},
        headers=api.customer,
    ).json()
    with db.session() as s:
        s.get(Job, order["job_id"]).input_path = source.as_uri()
    assert http.post(f"/checkout/{order['job_id']}/pay").status_code in (200, 303)
    return order["job_id"]


def _actions(db: Database, job_id: str) -> list[str]:
    return [
        f"{e.action}:{e.details['to_status']}" if e.action == "status_change" else e.action
        for e in audit_entries(db, job_id)
    ]


def _certificate_rows(db: Database, job_id: str) -> list[AuditCertificate]:
    with db.session() as s:
        return list(
            s.scalars(
                select(AuditCertificate)
                .where(AuditCertificate.job_id == job_id)
                .order_by(AuditCertificate.created_at)
            )
        )


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _verified(http: httpx.Client, api: LiveAPI, job_id: str, tmp_path: Path) -> dict:
    """The served certificate, checked against the served DID document and the dataset the
    owner downloads."""
    cert = http.get(f"/v1/jobs/{job_id}/certificate", headers=api.customer).json()
    did_document = http.get("/.well-known/did.json").json()
    download = http.get(f"/v1/jobs/{job_id}/dataset", headers=api.customer)
    assert download.status_code == 200
    digest = hashlib.sha256(download.content).hexdigest()
    assert cert["credentialSubject"]["dataset"]["sha256"] == digest
    assert download.headers["x-content-sha256"] == digest
    dataset = tmp_path / f"download-{job_id}.jsonl"
    dataset.write_bytes(download.content)
    result = verify_certificate(cert, did_document, dataset)
    assert result.ok, result.describe()
    return cert


def test_a_paid_job_is_certified_then_completed_and_reissued_on_request(
    api: LiveAPI, http: httpx.Client, db: Database, tmp_path: Path
) -> None:
    job_id = _paid_order(http, api, db, _source(tmp_path / "chats.json"))
    with _instance() as instance:
        assert _payment_run(instance, db).success
        view = http.get(f"/v1/jobs/{job_id}", headers=api.customer).json()
        assert view["status"] == "complete", view
        actions = _actions(db, job_id)
        # The run leaves the job refining with its dataset and checks; the certificate is
        # stored, then the job completes: nothing completed it before.
        assert actions[-5:] == [
            "status_change:refining",
            "dataset_written",
            "dataset_checked",
            "certificate_issued",
            "status_change:complete",
        ]
        (first,) = _certificate_rows(db, job_id)
        materialization = instance.get_latest_materialization_event(audit_certificate.key)
        meta = materialization.asset_materialization.metadata
        assert materialization.asset_materialization.partition == job_id
        assert meta["cert_id"].value == first.id and meta["signature"].value == first.signature
        assert Path(meta["json_path"].value).is_file() and Path(meta["pdf_path"].value).is_file()
        assert meta["verdict"].value == "pass"

        for name, link in view["links"].items():  # every link, for its owner
            assert http.get(_path(link), headers=api.customer).status_code == 200, name
        assert {"dataset", "certificate", "certificate_pdf"} <= set(view["links"])
        cert = _verified(http, api, job_id, tmp_path)
        subject = cert["credentialSubject"]
        assert subject["cert_id"] == first.id and cert["proof"]["proofValue"] == first.signature
        assert meta["dataset_sha256"].value == subject["dataset"]["sha256"]
        checks = {c["name"]: c for c in subject["aar"]["checks"]}
        assert set(checks) == CHECKS and all(c["passed"] for c in checks.values())
        assert checks["no_pii_left"]["blocking"] and not checks["no_duplicate_rows"]["blocking"]

        # The operator re-issues: the daemon's sensor launches a run of the certificate
        # asset alone (in a step subprocess); nothing is refetched.
        queued = http.post(f"/jobs/{job_id}/complete", headers=api.admin)
        assert queued.status_code == 202, queued.text
        with sensor_daemon(instance) as tick:
            tick()
        runs = instance.get_runs(dg.RunsFilter(tags={"aegis/trigger": "operator:complete"}))
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert runs[0].asset_selection == {audit_certificate.key}
        first_again, second = _certificate_rows(db, job_id)
        assert first_again.id == first.id and second.id != first.id
        assert Counter(_actions(db, job_id))["source_fetched"] == 1
        assert _actions(db, job_id)[-2:] == ["operator_complete_requested", "certificate_issued"]
        served = _verified(http, api, job_id, tmp_path)
        assert served["credentialSubject"]["cert_id"] == second.id
        assert http.get(f"/jobs/{job_id}/aar", headers=api.customer).json() == served
        latest = instance.get_latest_materialization_event(audit_certificate.key)
        assert latest.asset_materialization.metadata["cert_id"].value == second.id
        view = http.get(f"/v1/jobs/{job_id}", headers=api.customer).json()
        assert view["status"] == "complete"
        for name, link in view["links"].items():
            assert http.get(_path(link), headers=api.customer).status_code == 200, name


def test_a_failed_blocking_check_halts_the_job_without_a_certificate(
    api: LiveAPI,
    http: httpx.Client,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A masking bug leaves an e-mail address in the dataset: the independent PII check
    fails, the job halts with that reason, and the certificate step never runs."""
    monkeypatch.setattr(pii, "mask", lambda text: (text, Counter()))
    job_id = _paid_order(http, api, db, _source(tmp_path / "chats.json"))
    with dg.instance_for_test() as instance:
        result = _payment_run(instance, db)  # in this process: the masking bug applies
        assert not result.success
        passed = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert passed["no_pii_left"] is False and passed["has_rows"] is True
        assert "audit_certificate" not in {e.step_key for e in result.all_events if e.step_key}
        assert not result.asset_materializations_for_node("audit_certificate")
    with db.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "halted"
        assert job.halt_reason.startswith("checks: blocking asset check failed: no_pii_left")
        assert "EMAIL" in job.halt_reason
    assert _certificate_rows(db, job_id) == []
    assert "certificate_issued" not in _actions(db, job_id)
    view = http.get(f"/v1/jobs/{job_id}", headers=api.customer).json()
    assert view["halt_reason"] == job.halt_reason
    assert set(view["links"]) == {"self"}
    assert http.get(f"/v1/jobs/{job_id}/certificate", headers=api.customer).status_code == 404
    refused = http.post(f"/jobs/{job_id}/complete", headers=api.admin)
    assert refused.status_code == 409 and "halted" in refused.json()["error"]
