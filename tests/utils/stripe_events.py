"""Stripe events in Stripe's shape, signed with the stripe library's own code."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import stripe

SECRET = "whsec_test_aegis_secret"


def checkout_completed(
    job_id: str,
    session_id: str,
    *,
    paid: bool = True,
    amount: int = 2000,
    event_id: str | None = None,
    event_type: str = "checkout.session.completed",
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_total": amount,
                "currency": "usd",
                "client_reference_id": job_id,
                "metadata": {"job_id": job_id},
                "mode": "payment",
                "payment_intent": f"pi_{uuid.uuid4().hex[:24]}",
                "payment_status": "paid" if paid else "unpaid",
                "status": "complete",
            }
        },
    }


def signed(
    event: dict[str, Any], secret: str = SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}
