"""An issuer (key under the test's home) and a completed job's certificate."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from aegis_core.certificates import CheckOutcome, Issuer, issue_certificate, keys
from aegis_core.certificates import did as did_web
from aegis_core.db import migrate
from aegis_core.db.models import AuditCertificate
from aegis_core.db.session import Database
from aegis_core.settings import AegisSettings
from tests.utils.completed_job import completed_job

CHECKS = [
    CheckOutcome("valid_for_format", True, "refined_jsonl", True, "ERROR", {"invalid_rows": 0}),
    CheckOutcome("no_pii_left", True, "refined_jsonl", True, "ERROR", {"leaks": {}}),
    CheckOutcome("has_rows", True, "refined_jsonl", True, "ERROR", {"rows": 12}),
    {
        "name": "no_duplicate_rows",
        "passed": False,
        "asset": "refined_jsonl",
        "severity": "WARN",
        "metadata": {"duplicate_rate": 0.0833},
    },
]


@pytest.fixture
def settings(tmp_path: Path) -> AegisSettings:
    return AegisSettings(home=tmp_path / ".aegis", public_base_url="https://refine.example.com")


@pytest.fixture
def issuer(settings: AegisSettings) -> Issuer:
    return Issuer.from_settings(settings)


def did_document(settings: AegisSettings) -> dict[str, Any]:
    published = keys.published(settings.resolved_signing_key_path)
    return did_web.document(did_web.issuer_did(settings), published)


@cache
def sample() -> tuple[dict[str, Any], dict[str, Any], Path, AuditCertificate]:
    """(certificate, DID document, dataset file, row) of one completed job on SQLite,
    issued once per test session (the tamper test parametrizes over it at collection)."""
    root = Path(tempfile.mkdtemp(prefix="aegis-cert-"))
    atexit.register(shutil.rmtree, root, True)
    url = f"sqlite:///{root / 'aegis.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = AegisSettings(home=root / ".aegis", public_base_url="https://refine.example.com")
    job_id, files = completed_job(db, root / "data")
    row = issue_certificate(db, job_id, files, Issuer.from_settings(settings), checks=CHECKS)
    db.dispose()
    return json.loads(Path(row.json_path).read_text()), did_document(settings), files.dataset, row
