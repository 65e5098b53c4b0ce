"""The local checkout stand-in (only without a Stripe key): an order page and "Pay"."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from aegis_core.db.models import Job
from aegis_core.errors import NotFound
from aegis_core.payments import CURRENCY, FLAT_FEE_CENTS, local, webhooks
from api.deps import DatabaseDep, SettingsDep
from api.openapi import errors
from api.routes.webhooks import receive

router = APIRouter(prefix="/checkout", tags=["checkout"])

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Aegis checkout</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto}}
.note{{background:#fff3cd;padding:.6rem;border-radius:4px}}</style></head><body>
<h1>Aegis Refine: checkout</h1>
<p class="note">Local stand-in for Stripe Checkout (no Stripe key is configured). Paying here
sends a <code>checkout.session.completed</code> event signed with the local webhook secret;
no money moves.</p>
<table><tr><th align=left>Job</th><td><code>{job_id}</code></td></tr>
<tr><th align=left>Dataset</th><td>{description}</td></tr>
<tr><th align=left>Format</th><td>{format}</td></tr>
<tr><th align=left>Source</th><td>{source}</td></tr>
<tr><th align=left>Total</th><td>${amount} {currency}</td></tr></table>
{action}</body></html>"""


def _local_job(db: DatabaseDep, settings: SettingsDep, job_id: str) -> Job:
    if settings.stripe_secret_key:
        raise NotFound("checkout is hosted by Stripe for this deployment")
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job


@router.get(
    "/{job_id}", response_class=HTMLResponse, operation_id="show_checkout", responses=errors(404)
)
def show(job_id: str, db: DatabaseDep, settings: SettingsDep) -> HTMLResponse:
    """The order summary with a Pay button."""
    job = _local_job(db, settings, job_id)
    action = (
        f'<form method="post" action="/checkout/{escape(job.id)}/pay">'
        '<button type="submit">Pay $20.00</button></form>'
        if job.status == "awaiting_payment"
        else f"<p>Status: <b>{escape(job.status)}</b></p>"
    )
    return HTMLResponse(
        PAGE.format(
            job_id=escape(job.id),
            description=escape(job.description),
            format=escape(job.output_format),
            source=escape(job.input_path),
            amount=f"{FLAT_FEE_CENTS / 100:.2f}",
            currency=CURRENCY.upper(),
            action=action,
        )
    )


@router.post(
    "/{job_id}/pay", response_class=HTMLResponse, operation_id="pay_checkout", responses=errors(404)
)
def pay(job_id: str, db: DatabaseDep, settings: SettingsDep) -> HTMLResponse:
    """Emit the signed `checkout.session.completed` through the webhook path."""
    job = _local_job(db, settings, job_id)
    if job.status != "awaiting_payment":
        return HTMLResponse(f"<p>Job {escape(job.id)} is already {escape(job.status)}.</p>")
    payload = local.completed_event(job)
    signature = local.sign(payload, webhooks.webhook_secret(settings))
    result = receive(db, settings, payload, signature)
    return HTMLResponse(
        f"<p>Payment received (event <code>{escape(str(result['event_id']))}</code>). "
        f'Your job starts shortly: <a href="/jobs/{escape(job.id)}">status</a> '
        "(use your access token).</p>"
    )
