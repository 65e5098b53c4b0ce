"""The local checkout stand-in: a `checkout.session.completed` event in Stripe's shape.

Used only when no Stripe key is configured. The event is signed with the stripe
library's own `generate_signature_header`, so it goes through exactly the verification
a real Stripe delivery goes through.
"""

from __future__ import annotations

import json
import secrets
import time

import stripe

from aegis_core.db.models import Job
from aegis_core.payments import CURRENCY, FLAT_FEE_CENTS


def completed_event(job: Job, *, now: int | None = None) -> bytes:
    created = now or int(time.time())
    session = {
        "id": job.checkout_session_id,
        "object": "checkout.session",
        "amount_subtotal": FLAT_FEE_CENTS,
        "amount_total": FLAT_FEE_CENTS,
        "client_reference_id": job.id,
        "created": created,
        "currency": CURRENCY,
        "livemode": False,
        "metadata": {"job_id": job.id},
        "mode": "payment",
        "payment_intent": f"pi_local_{secrets.token_hex(12)}",
        "payment_status": "paid",
        "status": "complete",
    }
    event = {
        "id": f"evt_local_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": created,
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }
    return json.dumps(event, separators=(",", ":")).encode()


def sign(payload: bytes, secret: str) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload`."""
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret)
