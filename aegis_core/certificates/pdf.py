"""The certificate as a PDF for people: rendered by WeasyPrint from an HTML template, with
the signed JSON attached (the attachment, not the page, is the certificate).

The template autoescapes (job descriptions are customer text) and the renderer fetches
nothing: every URL is refused, so a rendering never reaches the network or the disk.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aegis_core.certificates import did as did_web

MEDIA_TYPE = "application/pdf"

# WeasyPrint logs every CSS property it skips; the template is ours, so keep it quiet.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def _template() -> Any:
    env = Environment(
        loader=PackageLoader("aegis_core.certificates", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
    return env.get_template("certificate.html")


def attachment_name(cert_id: str) -> str:
    return f"{cert_id}.json"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def decision_rows(decisions: list[dict[str, Any]], run: int = 4) -> list[dict[str, Any]]:
    """The decisions table for people: a run of `run` or more consecutive entries with the
    same action and actor is one row (seq range, count, summed amount); the signed JSON
    keeps every entry."""
    rows: list[dict[str, Any]] = []
    i = 0
    while i < len(decisions):
        j = i
        while j + 1 < len(decisions) and (
            decisions[j + 1]["action"],
            decisions[j + 1]["actor"],
        ) == (decisions[i]["action"], decisions[i]["actor"]):
            j += 1
        group = decisions[i : j + 1] if j - i + 1 >= run else [decisions[i]]
        first = group[0]
        amounts = [Decimal(d["amount"]) for d in group if d.get("amount")]
        note = ""
        if first.get("from_status"):
            note = f"{first['from_status']} → {first['to_status']}"
        elif first.get("ticket_id"):
            note = f"ticket {first['ticket_id'][:8]}"
        rows.append(
            {
                "seq": str(first["seq"])
                if len(group) == 1
                else f"{first['seq']}–{group[-1]['seq']}",
                "at": first["at"][:19].replace("T", " "),
                "action": first["action"] + (f" ×{len(group)}" if len(group) > 1 else ""),
                "actor": first["actor"],
                "amount": str(sum(amounts, Decimal(0))) if amounts else "",
                "note": note if len(group) == 1 else f"{len(group)} entries",
            }
        )
        i += len(group)
    return rows


def html(signed: dict[str, Any], public_key: str) -> str:
    subject = signed["credentialSubject"]
    pii = subject["dataset"].get("pii_masked") or {}
    return _template().render(
        vc=signed,
        s=subject,
        decisions=decision_rows(subject["decisions"]),
        public_key=public_key,
        pii_total=sum(v for v in pii.values() if isinstance(v, int)),
        size=_size(subject["dataset"]["bytes"]),
        attachment=attachment_name(subject["cert_id"]),
        did_url=did_web.document_url(signed["issuer"]),
    )


def render(signed: dict[str, Any], json_bytes: bytes, public_key: str) -> bytes:
    """PDF bytes: the rendered certificate, metadata set, the signed JSON attached."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher

    subject = signed["credentialSubject"]
    issued = datetime.fromisoformat(subject["issued_at"].replace("Z", "+00:00"))
    attachment = Attachment(
        string=json_bytes,
        name=attachment_name(subject["cert_id"]),
        description="Signed audit certificate (W3C VC 2.0, DataIntegrityProof eddsa-jcs-2022)",
        created=issued,
        modified=issued,
        relationship="Source",
    )
    document = HTML(string=html(signed, public_key), url_fetcher=URLFetcher(allowed_protocols=()))
    return document.write_pdf(attachments=[attachment], pdf_identifier=subject["cert_id"].encode())
