"""Customer orders: validating a job request, creating it with its checkout, reading it.

A job's access token is shown once at creation; only its SHA-256 is stored. A job is
readable with that token or with the owning customer's API key, and by nobody else: to
anyone else it does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import audit, customers
from aegis_core.db.models import AuditCertificate, Job, Payment
from aegis_core.errors import AuthError, NotFound, SourceRefused, ValidationError
from aegis_core.jobs import create_job
from aegis_core.loop import tickets as spend
from aegis_core.payments import CURRENCY, FLAT_FEE_CENTS
from aegis_core.payments.checkout import CheckoutSession, create_session
from aegis_core.refine.fetch import Resolver, check_source, system_resolver
from aegis_core.settings import AegisSettings

FORMATS = ("sharegpt", "chatml")
MAX_DESCRIPTION = 4000
MAX_URL = 2048
MAX_THRESHOLD = Decimal("10000")


@dataclass(frozen=True)
class JobRequest:
    source_url: str
    description: str
    format: str
    auto_approve_threshold: Decimal


def parse_job_request(
    body: Any, settings: AegisSettings, *, resolver: Resolver = system_resolver
) -> JobRequest:
    """A valid order, or `ValidationError`. The source passes the fetch guard's own rule
    (`check_source`) now, so nobody pays for a job whose fetch must be refused."""
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    url = body.get("source_url")
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("source_url is required (an https URL of your raw data)")
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValidationError(f"source_url is longer than {MAX_URL} characters")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ValidationError("description is required: describe the dataset you want")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"description is longer than {MAX_DESCRIPTION} characters")
    fmt = body.get("format", "sharegpt")
    if fmt not in FORMATS:
        raise ValidationError("format must be sharegpt or chatml")
    raw = body.get("auto_approve_threshold", settings.default_auto_approve_threshold)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValidationError("auto_approve_threshold must be a number of US dollars")
    try:
        threshold = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError("auto_approve_threshold must be a number of US dollars") from None
    if not threshold.is_finite() or threshold < 0 or threshold > MAX_THRESHOLD:
        raise ValidationError(f"auto_approve_threshold must be between 0 and {MAX_THRESHOLD}")
    try:  # last: it may resolve the host. A source that can never be fetched costs nothing.
        check_source(url, allow_insecure=settings.allow_insecure_sources, resolver=resolver)
    except SourceRefused as exc:
        raise ValidationError(f"source_url: {exc}") from None
    return JobRequest(url, description.strip(), fmt, threshold)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Order:
    job: Job
    checkout: CheckoutSession
    access_token: str


def place_order(
    session: Session, request: JobRequest, settings: AegisSettings, customer_id: str | None
) -> Order:
    """Create the checkout first: if the provider fails, nothing is stored."""
    job_id = str(uuid.uuid4())
    checkout = create_session(job_id, request.description, settings)
    token = "ajt_" + secrets.token_urlsafe(32)
    job = create_job(
        session,
        job_id=job_id,
        source_url=request.source_url,
        description=request.description,
        output_format=request.format,
        auto_approve_threshold=request.auto_approve_threshold,
        actor=f"customer:{customer_id}" if customer_id else "customer",
        customer_id=customer_id,
        access_token_hash=hash_token(token),
    )
    job.checkout_session_id = checkout.id
    audit.append(
        session,
        job.id,
        "checkout_created",
        "system",
        {
            "checkout_session_id": checkout.id,
            "amount_cents": FLAT_FEE_CENTS,
            "currency": CURRENCY,
            "mode": "local" if checkout.local else "stripe",
        },
    )
    return Order(job, checkout, token)


def authorize_read(
    session: Session, job_id: str, token: str | None, authorization: str | None
) -> Job:
    """The job, if the caller owns it; `NotFound` otherwise (never a 403 that confirms it)."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if (
        token
        and job.access_token_hash
        and hmac.compare_digest(hash_token(token), job.access_token_hash)
    ):
        return job
    if authorization and job.customer_id:
        try:
            principal = customers.authenticate(session, authorization)
        except AuthError:
            principal = None
        if principal is not None and principal.customer_id == job.customer_id:
            return job
    raise NotFound(f"job {job_id} not found")


def job_view(session: Session, job: Job, base_url: str) -> dict[str, Any]:
    """What a customer sees of their job: status, gate state, ledger, links."""
    payment = session.scalar(select(Payment).where(Payment.job_id == job.id))
    certificate = session.scalar(select(AuditCertificate).where(AuditCertificate.job_id == job.id))
    base = base_url.rstrip("/")
    links: dict[str, str] = {"self": f"{base}/jobs/{job.id}"}
    if job.status == "awaiting_payment":
        links["checkout"] = f"{base}/checkout/{job.id}"
    if job.output_path and job.status == "complete":  # a re-run rewrites the file
        links["dataset"] = f"{base}/jobs/{job.id}/dataset"
    if certificate is not None:
        links["certificate"] = f"{base}/jobs/{job.id}/aar"
        links["certificate_pdf"] = f"{base}/v1/jobs/{job.id}/certificate?format=pdf"
    return {
        "job_id": job.id,
        "status": job.status,
        "halt_reason": job.halt_reason,
        "description": job.description,
        "format": job.output_format,
        "source_url": job.input_path,
        "auto_approve_threshold": str(job.auto_approve_threshold),
        "complexity_score": job.complexity_score,
        "estimated_cost": None if job.estimated_cost is None else str(job.estimated_cost),
        "paid": payment is not None,
        "gate": spend.gate_view(session, job.id),
        "dataset": job.dataset,
        "links": links,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }
