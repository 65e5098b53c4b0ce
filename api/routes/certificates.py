"""Certificates and downloads: the issuer's DID document, a job's signed certificate
(JSON or PDF) and its dataset.

The DID document is public: anyone holding a certificate can verify it. A certificate
and a dataset are read like the job itself, with its access token or the owning customer's
key, and are a 404 to anyone else: the certificate carries the order (description,
customer, ledger), which the job view already keeps to its owner. The dataset streams from
disk with `Range` support; `X-Content-SHA256` and `Repr-Digest` give the SHA-256 of the
whole file, the one the certificate signs.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from aegis_core import certificates, orders
from aegis_core.certificates import did as did_web
from aegis_core.certificates import keys
from aegis_core.certificates.digest import file_digest
from aegis_core.db.models import AuditCertificate, Job
from aegis_core.errors import NotFound
from aegis_core.jobs import JobStatus
from api.deps import DatabaseDep, SettingsDep
from api.errors import error_response
from api.openapi import errors, ok
from api.routes.jobs import AuthHeader, JobTokenHeader, TokenQuery
from api.schemas import DidDocument, ErrorBody, SignedCertificate

router = APIRouter(tags=["certificates"])
JSONL = "application/jsonl"
PDF = "application/pdf"
OWNER = {"security": [{}, {"customerKey": []}]}
BINARY = {"schema": {"type": "string", "format": "binary"}}
DIGEST_HEADERS = {
    "X-Content-SHA256": {
        "description": "SHA-256 (hex) of the whole dataset file, as the certificate signs it.",
        "schema": {"type": "string"},
    },
    "Repr-Digest": {
        "description": "RFC 9530: `sha-256=:<base64>:` of the whole file.",
        "schema": {"type": "string"},
    },
}
RangeHeader = Annotated[
    str | None,
    Header(alias="Range", description="One byte range, e.g. `bytes=0-1023` or `bytes=-500`."),
]
FormatQuery = Annotated[
    Literal["json", "pdf"] | None,
    Query(alias="format", description="`pdf` for the rendered certificate (or Accept)."),
]


def _owned_job(
    db: DatabaseDep, job_id: str, token: str | None, x_job_token: str | None, auth: str | None
) -> Job:
    bearer = auth.partition(" ")[2].strip() if auth else None
    job_token = x_job_token or token or (bearer if bearer and bearer.startswith("ajt_") else None)
    with db.session() as session:
        return orders.authorize_read(session, job_id, job_token, auth)


def _certificate(db: DatabaseDep, job_id: str) -> AuditCertificate:
    with db.session() as session:
        row = certificates.latest(session, job_id)
    if row is None:
        raise NotFound(f"the certificate of job {job_id} is not issued yet")
    return row


# --- the DID document -----------------------------------------------------------------------


@router.get(
    "/.well-known/did.json",
    operation_id="did_document",
    response_model=None,
    responses={
        200: ok(DidDocument, "The did:web document with every published signing key"),
        **errors(overrides={503: {"model": ErrorBody, "description": "No signing key yet."}}),
    },
)
def did_document(settings: SettingsDep) -> JSONResponse:
    """Public keys that verify the certificates, current and retired (did:web)."""
    try:
        published = keys.published_keys(settings)
    except keys.SigningKeyError:
        return error_response(
            503, "no signing key is configured: the operator must run `aegis keys signing generate`"
        )
    document = did_web.document(did_web.issuer_did(settings), published)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})


# --- certificates ---------------------------------------------------------------------------


def _json(row: AuditCertificate) -> Response:
    return Response(
        Path(row.json_path).read_bytes(),
        media_type="application/json",
        headers={"Cache-Control": "private, no-cache"},
    )


def _wants_pdf(fmt: str | None, accept: str | None) -> bool:
    """`?format=` decides; else the Accept header, PDF only when preferred to JSON."""
    if fmt is not None:
        return fmt == "pdf"
    quality: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    pdf = quality.get(PDF, 0.0)
    json = max(quality.get("application/json", 0.0), quality.get("*/*", 0.0) * 0.99)
    return pdf > 0 and pdf >= json


@router.get(
    "/jobs/{job_id}/aar",
    operation_id="read_aar",
    response_model=None,
    responses={200: ok(SignedCertificate, "The signed certificate (AAR)"), **errors(404)},
    openapi_extra=OWNER,
)
def read_aar(
    job_id: str,
    db: DatabaseDep,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
) -> Response:
    """The job's signed audit certificate, as issued (verify it against the DID document)."""
    _owned_job(db, job_id, token, x_job_token, authorization)
    return _json(_certificate(db, job_id))


@router.get(
    "/v1/jobs/{job_id}/certificate",
    operation_id="read_certificate",
    response_model=None,
    responses={
        200: {
            "description": "The signed certificate as JSON, or rendered as PDF",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SignedCertificate"}},
                PDF: BINARY,
            },
        },
        **errors(404),
    },
    openapi_extra=OWNER,
)
def read_certificate(
    job_id: str,
    request: Request,
    db: DatabaseDep,
    fmt: FormatQuery = None,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
) -> Response:
    """JSON by default; PDF with `?format=pdf` or `Accept: application/pdf`."""
    _owned_job(db, job_id, token, x_job_token, authorization)
    row = _certificate(db, job_id)
    if not _wants_pdf(fmt, request.headers.get("accept")):
        response = _json(row)
    elif row.pdf_path and Path(row.pdf_path).is_file():
        response = FileResponse(
            row.pdf_path,
            media_type=PDF,
            filename=f"{row.id}.pdf",
            content_disposition_type="inline",
            headers={"Cache-Control": "private, no-cache"},
        )
    else:
        raise NotFound(f"the certificate {row.id} has no PDF")
    response.headers["Vary"] = "Accept"
    return response


# --- the dataset ----------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE)


def range_kind(header: str | None, size: int) -> Literal["full", "partial", "unsatisfiable"]:
    """What a `Range` header asks of a file of `size` bytes. Anything but one valid byte
    range is ignored (RFC 9110 allows a server to), so the whole file is sent."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or not (match[1] or match[2]):
        return "full"
    first, last = match[1], match[2]
    if first:
        if last and int(last) < int(first):
            return "full"
        return "unsatisfiable" if int(first) >= size else "partial"
    return "unsatisfiable" if int(last) == 0 or size == 0 else "partial"


class WholeFile(FileResponse):
    """A file response that ignores the request's `Range` (one we decided not to honour)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"range"]
        await super().__call__({**scope, "headers": headers}, receive, send)


def _dataset_file(job: Job) -> tuple[Path, str]:
    path = Path(job.output_path) if job.output_path else None
    if job.status != JobStatus.COMPLETE or path is None or not path.is_file():
        raise NotFound(f"the dataset of job {job.id} is not ready")
    recorded = (job.dataset or {}).get("sha256")
    return path, recorded if isinstance(recorded, str) else file_digest(path)[0]


def download(
    job_id: str,
    db: DatabaseDep,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
    range_: RangeHeader = None,
) -> Response:
    """The job's JSONL, streamed; only for the job's owner. Supports one `Range`."""
    job = _owned_job(db, job_id, token, x_job_token, authorization)
    path, sha256 = _dataset_file(job)
    size = path.stat().st_size
    headers = {
        "X-Content-SHA256": sha256,
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
        "ETag": f'"{sha256}"',
        "Cache-Control": "private, no-cache",
    }
    kind = range_kind(range_, size)
    if kind == "unsatisfiable":
        return JSONResponse(
            {"error": f"range not satisfiable: the dataset has {size} bytes"},
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    response_class = FileResponse if kind == "partial" else WholeFile
    return response_class(
        path, media_type=JSONL, filename=f"{job.id}.{job.output_format}.jsonl", headers=headers
    )


def _file(description: str) -> dict[str, Any]:
    return {"description": description, "headers": DIGEST_HEADERS, "content": {JSONL: BINARY}}


DATASET_RESPONSES = {
    200: _file("The whole JSONL"),
    206: _file("One byte range of it"),
    **errors(404),
    416: {"model": ErrorBody, "description": "The range starts past the end of the file."},
}
for prefix in ("/jobs", "/v1/jobs"):
    router.add_api_route(
        f"{prefix}/{{job_id}}/dataset",
        download,
        methods=["GET"],
        summary="Download the dataset",
        operation_id="download_dataset" if prefix == "/v1/jobs" else "download_dataset_legacy",
        response_model=None,
        responses=DATASET_RESPONSES,
        openapi_extra=OWNER,
    )
