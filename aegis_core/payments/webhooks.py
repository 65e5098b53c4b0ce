"""Receiving Stripe webhooks: verify the raw bytes, store each event once. Nothing else.

Stripe delivers at least once, retries, and does not order events; the event id is the
primary key of the dedupe, so a redelivery is acknowledged and stores nothing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import stripe
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aegis_core.db.models import StripeEvent
from aegis_core.errors import ValidationError
from aegis_core.input_policy import read_json
from aegis_core.settings import AegisSettings

TOLERANCE_SECONDS = 300
MAX_EVENT_ID = 255  # Stripe's documented maximum id length; the column's width
MAX_EVENT_TYPE = 100  # the column's width; Stripe's longest event types are about 60


def webhook_secret(settings: AegisSettings) -> str:
    """The configured secret, or one generated once for the local checkout stand-in."""
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    path = Path(settings.home).resolve() / "local_webhook_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"whsec_local_{secrets.token_hex(24)}")
    return path.read_text().strip()


def verify(payload: bytes, signature_header: str | None, secret: str) -> dict[str, Any]:
    """The event as a plain dict, or `ValidationError` (bad signature, stale, malformed)."""
    if not signature_header:
        raise ValidationError("missing Stripe-Signature header")
    try:
        # The library's own check; its `construct_event` would also parse the payload, and
        # crashes on a signed list or deep nesting, so the parse is ours (the input policy).
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise ValidationError(f"invalid Stripe signature: {exc.user_message or exc}") from None
    except ValueError as exc:
        raise ValidationError(f"malformed Stripe event: {exc}") from None
    parsed = read_json(payload)
    if parsed.error is not None:
        raise ValidationError(f"malformed Stripe event: {parsed.error}")
    return _event_shape(parsed.value)


def _event_shape(body: Any) -> dict[str, Any]:
    """What `store` relies on: an object whose `id` and `type` are strings that fit."""
    if not isinstance(body, dict):
        raise ValidationError("malformed Stripe event: the payload must be a JSON object")
    for name, limit in (("id", MAX_EVENT_ID), ("type", MAX_EVENT_TYPE)):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise ValidationError(f"malformed Stripe event: {name} must be a non-empty string")
        if len(value) > limit:
            raise ValidationError(f"malformed Stripe event: {name} is longer than {limit}")
    return body


def store(session: Session, event: dict[str, Any]) -> bool:
    """Insert the event unless its id is known; True when it was new."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(StripeEvent.__table__)
        .values(
            event_id=event["id"],
            type=event["type"],
            livemode=bool(event.get("livemode", False)),
            payload=event,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(StripeEvent.__table__.c.seq)
    )
    return session.connection().execute(stmt).first() is not None
