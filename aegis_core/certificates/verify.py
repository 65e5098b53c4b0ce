"""Verifying a certificate offline: its shape, its key in the issuer's DID document, its
signature, and optionally the dataset it certifies.

The failure reasons are the four a verifier can meet, named as the CLI reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aegis_core.certificates import did as did_web
from aegis_core.certificates import proof
from aegis_core.certificates.digest import file_digest

MALFORMED = "malformed certificate"
SIGNATURE = "signature invalid"
KEY = "key not in the DID document"
DATASET = "dataset hash mismatch"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str | None = None
    detail: str = ""
    cert_id: str | None = None
    verification_method: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"certificate {self.cert_id} is valid: {self.detail}"
        return f"certificate {self.cert_id or '?'} is INVALID: {self.reason}: {self.detail}"


def _subject(cert: dict[str, Any]) -> dict[str, Any]:
    subject = cert.get("credentialSubject")
    if not isinstance(subject, dict):
        raise proof.MalformedProof("credentialSubject must be an object")
    dataset = subject.get("dataset")
    if not isinstance(dataset, dict) or not _SHA256.match(str(dataset.get("sha256", ""))):
        raise proof.MalformedProof("credentialSubject.dataset.sha256 must be a SHA-256 hex digest")
    return subject


def verify_certificate(cert: Any, did_document: Any, dataset: Path | None = None) -> Verification:
    """Check everything a relying party should; never raises on bad input."""
    cert_id = method = None
    try:
        p = proof.proof_of(cert)
        subject = _subject(cert)
        cert_id = subject.get("cert_id") if isinstance(subject.get("cert_id"), str) else None
        method = p["verificationMethod"]
        if p["proofPurpose"] != proof.PURPOSE:
            raise proof.MalformedProof(f"proofPurpose must be {proof.PURPOSE}")
    except proof.MalformedProof as exc:
        return Verification(False, MALFORMED, str(exc), cert_id, method)
    if method.partition("#")[0] != cert.get("issuer"):
        return Verification(
            False,
            KEY,
            f"{method} is not a key of the issuer {cert.get('issuer')!r}",
            cert_id,
            method,
        )
    try:
        public_key = did_web.find_key(did_document, method, proof.PURPOSE)
    except did_web.KeyNotPublished as exc:
        return Verification(False, KEY, str(exc), cert_id, method)
    try:
        proof.verify(cert, public_key)
    except proof.MalformedProof as exc:
        return Verification(False, MALFORMED, str(exc), cert_id, method)
    except proof.InvalidSignature as exc:
        return Verification(False, SIGNATURE, str(exc), cert_id, method)
    detail = f"signed by {method}"
    if dataset is not None:
        actual, expected = file_digest(dataset)[0], subject["dataset"]["sha256"]
        if actual != expected:
            return Verification(
                False,
                DATASET,
                f"{dataset} has SHA-256 {actual}, the certificate says {expected}",
                cert_id,
                method,
            )
        detail += f"; dataset {dataset.name} matches SHA-256 {actual}"
    return Verification(True, None, detail, cert_id, method)
