"""Creating the Checkout Session for a job's flat fee.

With a Stripe test key the real API is called through the `stripe` library (with an
idempotency key derived from the job id, so a retried request cannot create a second
session). Without one, a local checkout page of this app stands in: it shows the order
and, on "Pay", delivers a `checkout.session.completed` event signed exactly as Stripe
signs it into the same webhook endpoint.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import stripe

from aegis_core.errors import UpstreamError, ValidationError
from aegis_core.payments import CURRENCY, FLAT_FEE_CENTS
from aegis_core.settings import AegisSettings

PRODUCT_NAME = "Aegis Refine dataset job (flat fee)"


class PaymentProviderError(UpstreamError):
    """Stripe could not create the session (HTTP 502); nothing was stored."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    local: bool


def stripe_client(settings: AegisSettings) -> stripe.StripeClient:
    key = settings.stripe_secret_key or ""
    if key.startswith(("sk_live_", "rk_live_")):
        raise ValidationError("live Stripe keys are refused: this deployment runs in test mode")
    base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(key, base_addresses=base, max_network_retries=2)


def create_session(job_id: str, description: str, settings: AegisSettings) -> CheckoutSession:
    base = settings.public_base_url.rstrip("/")
    if not settings.stripe_secret_key:
        return CheckoutSession(
            f"cs_test_local_{secrets.token_hex(12)}", f"{base}/checkout/{job_id}", local=True
        )
    client = stripe_client(settings)
    try:
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "price_data": {
                            "currency": CURRENCY,
                            "unit_amount": FLAT_FEE_CENTS,
                            "product_data": {
                                "name": PRODUCT_NAME,
                                "description": description[:500],
                            },
                        },
                        "quantity": 1,
                    }
                ],
                "client_reference_id": job_id,
                "metadata": {"job_id": job_id},
                "payment_intent_data": {"metadata": {"job_id": job_id}},
                "success_url": f"{base}/jobs/{job_id}?paid=1",
                "cancel_url": f"{base}/jobs/{job_id}?cancelled=1",
            },
            options={"idempotency_key": f"checkout:{job_id}"},
        )
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe refused to create the checkout session: {exc}") from exc
    return CheckoutSession(session.id, session.url, local=False)
