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
