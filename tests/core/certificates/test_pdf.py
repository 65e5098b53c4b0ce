"""The certificate PDF: renders, reads back as text, carries its metadata, and the signed
JSON attached to it extracts and verifies."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from pdfminer.high_level import extract_text
from pypdf import PdfReader

from aegis_core.certificates import pdf, verify
from tests.core.certificates.conftest import sample


def test_the_pdf_reads_back_as_the_certificate_a_person_needs() -> None:
    cert, _, _, row = sample()
    s = cert["credentialSubject"]
    text = " ".join(extract_text(row.pdf_path).split())
    for expected in (
        s["cert_id"],
        s["job_id"],
        s["dataset"]["sha256"],
        s["audit_chain"]["head_hash"],
        cert["proof"]["verificationMethod"],
        "Support conversations as <instruction> pairs & answers",
        "$20.00",
        "$8.75",
        "ops@example.com",
        "human_approve",
        "no_duplicate_rows",
        "Governance decisions",
        "Refine support chats; OCR 12 pages, label 300 rows",
        "rules (aegis-14b)",
        "How to verify",
        f"aegis verify {pdf.attachment_name(s['cert_id'])}",
    ):
        assert expected in text, expected
    assert len(PdfReader(row.pdf_path).pages) >= 1


def test_the_pdf_metadata_is_set() -> None:
    cert, _, _, row = sample()
    s = cert["credentialSubject"]
    meta = PdfReader(row.pdf_path).metadata
    assert s["cert_id"] in meta.title
    assert cert["issuer"] in meta.author
    assert s["job_id"] in meta.subject
    issued = datetime.fromisoformat(s["issued_at"].replace("Z", "+00:00"))
    assert meta.creation_date == issued


def test_the_attached_json_is_the_certificate_and_verifies() -> None:
    cert, doc, dataset, row = sample()
    attachments = PdfReader(row.pdf_path).attachments
    name = pdf.attachment_name(cert["credentialSubject"]["cert_id"])
    assert list(attachments) == [name]
    (payload,) = attachments[name]
    assert payload == Path(row.json_path).read_bytes()
    result = verify.verify_certificate(json.loads(payload), doc, dataset)
    assert result.ok, result.describe()


def test_customer_text_is_escaped_and_nothing_is_fetched() -> None:
    cert = sample()[0]
    hostile = json.loads(json.dumps(cert))
    hostile["credentialSubject"]["aar"]["task"]["description"] = (
        '<img src="http://127.0.0.1:9/x.png"><link rel="attachment" href="file:///etc/passwd">'
    )
    page = pdf.html(hostile, "z6Mk")
    assert "<img" not in page and "&lt;img" in page
    rendered = pdf.render(hostile, b"{}", "z6Mk")
    assert list(PdfReader(io.BytesIO(rendered)).attachments) == [
        pdf.attachment_name(cert["credentialSubject"]["cert_id"])
    ]


def _entry(seq: int, action: str, actor: str = "agent", amount: str | None = None) -> dict:
    return {
        "seq": seq,
        "at": f"2026-01-01T00:00:{seq:02d}.000001Z",
        "action": action,
        "actor": actor,
        "amount": amount,
        "entry_hash": "0" * 64,
        "ticket_id": None,
        "from_status": None,
        "to_status": None,
    }


def test_long_runs_of_one_action_are_one_row_on_paper() -> None:
    entries = [_entry(1, "job_created", "customer")]
    entries += [_entry(2 + i, "enrich_batch", amount="0.25") for i in range(5)]
    entries += [_entry(7 + i, "scored") for i in range(3)]
    rows = pdf.decision_rows(entries)
    assert [(r["seq"], r["action"], r["amount"]) for r in rows] == [
        ("1", "job_created", ""),
        ("2–6", "enrich_batch ×5", "1.25"),
        ("7", "scored", ""),
        ("8", "scored", ""),
        ("9", "scored", ""),
    ]
