"""Issuing a completed job's certificate on SQLite and PostgreSQL: what it says, that it
verifies against the DID document, and what breaks verification."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from aegis_core import audit
from aegis_core.certificates import Issuer, issue_certificate, keys, latest, verify
from aegis_core.certificates import did as did_web
from aegis_core.db.models import AuditCertificate, AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.errors import Conflict, NotFound
from aegis_core.jobs import create_job
from aegis_core.refine.service import files_for
from aegis_core.settings import AegisSettings
from tests.core.certificates.conftest import CHECKS, did_document
from tests.utils.completed_job import completed_job


def _load(row: AuditCertificate) -> dict:
    return json.loads(Path(row.json_path).read_text())


def test_a_completed_job_gets_a_signed_certificate(
    db: Database, tmp_path: Path, settings: AegisSettings, issuer: Issuer
) -> None:
    job_id, files = completed_job(db, tmp_path / "data")
    row = issue_certificate(db, job_id, files, issuer, checks=CHECKS)
    cert = _load(row)
    assert Path(row.json_path).parent == files.root / "certificates"
    assert Path(row.pdf_path).read_bytes().startswith(b"%PDF-")
    assert row.signature == cert["proof"]["proofValue"]
    result = verify.verify_certificate(cert, did_document(settings), files.dataset)
    assert result.ok, result.describe()

    assert cert["type"] == ["VerifiableCredential", "AegisAuditCertificate"]
    assert cert["issuer"] == "did:web:refine.example.com"
    assert cert["proof"]["verificationMethod"] == f"{cert['issuer']}#{issuer.key.key_id}"
    s = cert["credentialSubject"]
    assert (s["cert_id"], s["job_id"]) == (row.id, job_id)
    assert s["issued_at"] == cert["validFrom"] == cert["proof"]["created"]
    assert s["ledger"]["revenue"]["amount"] == "20.00"
    assert s["ledger"]["spend_authorized"] == {"amount": "8.75", "mode": "test", "tickets": 2}
    assert {(a["kind"], a["decided_by"]) for a in s["ledger"]["approvals"]} == {
        ("ocr", "policy:POLICY-DATA-REFINE-01"),
        ("enrichment", "ops@example.com"),
    }
    human = [d for d in s["decisions"] if d["action"] == "human_approve"]
    assert [(d["actor"], d["amount"]) for d in human] == [("ops@example.com", "7.25")]
    body = files.dataset.read_bytes()
    assert s["dataset"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert (s["dataset"]["rows"], s["dataset"]["bytes"]) == (12, len(body))
    assert s["dataset"]["pii_masked"] == {"email": 12} and s["dataset"]["format"] == "chatml"
    aar = s["aar"]
    assert aar["verdict"] == "pass_with_warnings"  # only the WARN check failed
    assert [c["name"] for c in aar["checks"]] == [
        "valid_for_format",
        "no_pii_left",
        "has_rows",
        "no_duplicate_rows",
    ]
    assert aar["checks"][3] == {
        "name": "no_duplicate_rows",
        "asset": "refined_jsonl",
        "passed": False,
        "blocking": False,
        "severity": "WARN",
        "metadata": {"duplicate_rate": 0.0833},
    }
    assert aar["task"]["source"] == "https://93.184.215.14/export.json"  # no user, query
    assert "secret" not in json.dumps(cert)
    assert s["model"] == {"backend": "rules", "name": "aegis-14b"}
    (decision,) = s["governance"]
    assert (decision["status"], decision["gates_passed"], decision["confidence"]) == (
        "approved",
        9,
        0.91,
    )

    with db.session() as session:
        entries = session.scalars(
            select(AuditLog).where(AuditLog.job_id == job_id).order_by(AuditLog.seq)
        ).all()
        assert [e.entry_hash for e in entries[:-1]] == [d["entry_hash"] for d in s["decisions"]]
        chain = s["audit_chain"]
        assert chain["job_last_hash"] == entries[-2].entry_hash
        head = session.scalar(select(AuditLog).where(AuditLog.seq == chain["head_seq"]))
        assert head.entry_hash == chain["head_hash"]
        issued = entries[-1]
        assert issued.action == "certificate_issued"
        assert issued.details["cert_id"] == row.id
        written = Path(row.json_path).read_bytes()
        assert issued.details["sha256"] == hashlib.sha256(written).hexdigest()
        assert audit.verify(session).ok
        assert latest(session, job_id).id == row.id


def test_reissuing_keeps_the_old_certificate_and_serves_the_new(
    db: Database, tmp_path: Path, settings: AegisSettings, issuer: Issuer
) -> None:
    job_id, files = completed_job(db, tmp_path / "data")
    first = issue_certificate(db, job_id, files, issuer)
    second = issue_certificate(db, job_id, files, issuer, actor="operator")
    assert first.id != second.id and Path(first.json_path).exists()
    with db.session() as session:
        assert latest(session, job_id).id == second.id
    later = _load(second)["credentialSubject"]["decisions"]
    assert ("certificate_issued", "system") in {(d["action"], d["actor"]) for d in later}


def test_a_dataset_that_changed_is_caught(
    db: Database, tmp_path: Path, settings: AegisSettings, issuer: Issuer
) -> None:
    job_id, files = completed_job(db, tmp_path / "data")
    row = issue_certificate(db, job_id, files, issuer)
    with files.dataset.open("ab") as fh:
        fh.write(b'{"messages": []}\n')
    result = verify.verify_certificate(_load(row), did_document(settings), files.dataset)
    assert not result.ok and result.reason == verify.DATASET
    with pytest.raises(Conflict, match="no longer matches"):
        issue_certificate(db, job_id, files, issuer)


def test_a_rotated_key_still_verifies_old_certificates(
    db: Database, tmp_path: Path, settings: AegisSettings, issuer: Issuer
) -> None:
    job_id, files = completed_job(db, tmp_path / "data")
    old = _load(issue_certificate(db, job_id, files, issuer))
    keys.rotate(settings.resolved_signing_key_path)
    new_issuer = Issuer.from_settings(settings)
    assert new_issuer.key.key_id != issuer.key.key_id
    new = _load(issue_certificate(db, job_id, files, new_issuer))
    doc = did_document(settings)
    for cert in (old, new):
        assert verify.verify_certificate(cert, doc, files.dataset).ok
    assert old["proof"]["verificationMethod"] != new["proof"]["verificationMethod"]
    # Dropping the retired key from the document (a compromised key) makes them fail.
    current_only = did_web.document(doc["id"], [new_issuer.key.public])
    assert verify.verify_certificate(new, current_only).ok
    result = verify.verify_certificate(old, current_only)
    assert not result.ok and result.reason == verify.KEY


def test_only_a_job_with_a_dataset_is_certified(
    db: Database, tmp_path: Path, issuer: Issuer
) -> None:
    files = files_for(tmp_path / "data", "nope")
    with pytest.raises(NotFound):
        issue_certificate(db, "00000000-0000-0000-0000-000000000000", files, issuer)
    with db.session() as session:
        unpaid = create_job(
            session,
            source_url="https://93.184.215.14/x.json",
            description="pairs",
            output_format="sharegpt",
            auto_approve_threshold=Decimal("5"),
            actor="customer",
        ).id
    with pytest.raises(Conflict, match="awaiting_payment"):
        issue_certificate(db, unpaid, files_for(tmp_path / "data", unpaid), issuer)
    job_id, files = completed_job(db, tmp_path / "data")
    with db.session() as session:
        session.get(Job, job_id).output_path = None
    with pytest.raises(Conflict, match="no dataset"):
        issue_certificate(db, job_id, files, issuer)
    with db.session() as session:
        assert session.scalars(select(AuditCertificate)).all() == []
