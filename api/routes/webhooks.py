"""`POST /webhooks/stripe`: verify the raw body, store the event once, answer fast."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool

from aegis_core.db.session import Database
from aegis_core.payments import webhooks
from aegis_core.settings import AegisSettings
from api.deps import DatabaseDep, SettingsDep
from api.openapi import body, errors, ok
from api.schemas import StripeEvent, WebhookAck

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def receive(
    db: Database, settings: AegisSettings, payload: bytes, signature: str | None
) -> dict[str, object]:
    """Shared by the real endpoint and the local checkout's "Pay" button."""
    event = webhooks.verify(payload, signature, webhooks.webhook_secret(settings))
    with db.session() as session:
        stored = webhooks.store(session, event)
    return {"received": True, "event_id": event["id"], "duplicate": not stored}


@router.post(
    "/stripe",
    response_model=None,
    responses={200: ok(WebhookAck, "Stored, or acknowledged as a duplicate"), **errors()},
    openapi_extra=body(StripeEvent),
)
async def stripe_webhook(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    stripe_signature: Annotated[
        str | None,
        Header(alias="Stripe-Signature", description="Stripe's signature over the raw body."),
    ] = None,
) -> dict[str, object]:
    """Stripe retries and duplicates deliveries: a known event id is acknowledged, not stored."""
    payload = await request.body()
    return await run_in_threadpool(receive, db, settings, payload, stripe_signature)
