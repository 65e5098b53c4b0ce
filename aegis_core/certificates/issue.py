"""Issuing a job's certificate: gather, sign, write JSON and PDF, store the row.

`issue_certificate` is the one entry point (the `audit_certificate` asset and the
operator's re-issue call it). Each call issues a new certificate with its own id; earlier
ones stay on disk and in the table, and the newest is the one the API serves.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.certificates import content, pdf, proof
from aegis_core.certificates import did as did_web
from aegis_core.certificates.digest import file_digest
from aegis_core.certificates.keys import IssuerKey, issuer_key
from aegis_core.db.models import AuditCertificate, Job
from aegis_core.db.session import Database
from aegis_core.errors import Conflict, NotFound
from aegis_core.settings import AegisSettings

if TYPE_CHECKING:  # the refinery stack is heavy; the API imports this module
    from aegis_core.refine.service import JobFiles

NOT_ISSUABLE = ("awaiting_payment", "halted")


@dataclass(frozen=True)
class Issuer:
    """Who signs: the DID and its current key."""

    did: str
    key: IssuerKey

    @property
    def verification_method(self) -> str:
        return did_web.method_id(self.did, self.key.key_id)

    @classmethod
    def from_settings(cls, settings: AegisSettings) -> Issuer:
        return cls(did_web.issuer_did(settings), issuer_key(settings))


def certifiable(job: Job) -> str | None:
    """Why the job's certificate cannot be issued now, or None: a run's certificate step
    and an operator's re-issue need a complete job, or a refining one whose dataset is
    written."""
    if job.status == "complete" or (job.status == "refining" and job.output_path and job.dataset):
        return None
    return (
        f"job {job.id} is {job.status}: a certificate is issued for a complete job, or a "
        "refining one whose dataset is written"
    )


def new_cert_id() -> str:
    return "cert_" + secrets.token_hex(8)


def dataset_facts(job: Job) -> dict[str, Any]:
    """The dataset as delivered: figures recorded by the refinery, hash recomputed."""
    if not job.output_path or not Path(job.output_path).is_file():
        raise Conflict(f"job {job.id} has no dataset to certify yet")
    sha256, size, rows = file_digest(Path(job.output_path))
    recorded = job.dataset or {}
    if recorded.get("sha256") not in (None, sha256):
        raise Conflict(
            f"job {job.id}: the dataset file no longer matches the SHA-256 recorded when it "
            "was written; refusing to certify it"
        )
    quality = recorded.get("mean_quality")
    return {
        "rows": rows,
        "quality": round(float(quality), 4) if isinstance(quality, int | float) else None,
        "pii_masked": dict(recorded.get("pii_masked") or {}),
        "format": job.output_format,
        "media_type": "application/jsonl",
        "bytes": size,
        "sha256": sha256,
        "dedup": dict(recorded.get("dedup") or {}),
        "dropped": dict(recorded.get("dropped") or {}),
    }


def _gather(
    session: Session, job_id: str, checks: list[dict[str, Any]]
) -> tuple[dict[str, Any], Job]:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.status in NOT_ISSUABLE:
        raise Conflict(f"job {job_id} is {job.status}: there is nothing to certify")
    entries = content.job_entries(session, job_id)
    subject = {
        "id": f"urn:aegis:job:{job.id}",
        "job_id": job.id,
        "ledger": content.ledger(session, job_id),
        "decisions": content.decisions(entries),
        "aar": content.aar(job, entries, checks),
        "audit_chain": content.chain_head(session, entries),
        "governance": content.governance(session, job_id),
        "model": content.model(job, entries),
    }
    return subject, job


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def issue_certificate(
    db: Database,
    job_id: str,
    files: JobFiles,
    issuer: Issuer,
    *,
    checks: Iterable[content.CheckOutcome | Mapping[str, Any]] = (),
    actor: str = "system",
    now: datetime | None = None,
) -> AuditCertificate:
    """Sign the job's AAR, write `<cert_id>.json` and `.pdf` under the job folder's
    `certificates/`, store the `AuditCertificate` row and audit the issue.

    Raises `NotFound` (no such job) or `Conflict` (unpaid or halted job, no dataset yet,
    or a dataset file that no longer matches its recorded hash). It does not change the
    job's status: completing the job is the caller's next step.
    """
    check_list = content.checks_of(checks)
    with db.session() as session:
        subject, job = _gather(session, job_id, check_list)
    dataset = dataset_facts(job)
    cert_id = new_cert_id()
    issued_at = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    subject = {"cert_id": cert_id, "issued_at": issued_at, **subject, "dataset": dataset}
    unsigned = content.credential(subject, cert_id=cert_id, issuer=issuer.did, issued_at=issued_at)
    signed = proof.sign(
        unsigned,
        issuer.key.signing_key,
        verification_method=issuer.verification_method,
        created=issued_at,
    )
    json_bytes = (json.dumps(signed, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    folder = files.root / "certificates"
    folder.mkdir(parents=True, exist_ok=True)
    json_path, pdf_path = folder / f"{cert_id}.json", folder / f"{cert_id}.pdf"
    _write_atomic(json_path, json_bytes)
    _write_atomic(pdf_path, pdf.render(signed, json_bytes, issuer.key.public_multibase))
    signature = signed["proof"]["proofValue"]
    with db.session() as session:
        row = AuditCertificate(
            id=cert_id,
            job_id=job_id,
            json_path=str(json_path),
            pdf_path=str(pdf_path),
            signature=signature,
        )
        session.add(row)
        audit.append(
            session,
            job_id,
            "certificate_issued",
            actor,
            {
                "cert_id": cert_id,
                "sha256": hashlib.sha256(json_bytes).hexdigest(),
                "signature_alg": proof.CRYPTOSUITE,
                "verification_method": issuer.verification_method,
            },
        )
    return row


def latest(session: Session, job_id: str) -> AuditCertificate | None:
    """The job's newest certificate, the one the API serves."""
    return session.scalar(
        select(AuditCertificate)
        .where(AuditCertificate.job_id == job_id)
        .order_by(AuditCertificate.created_at.desc(), AuditCertificate.id.desc())
        .limit(1)
    )
