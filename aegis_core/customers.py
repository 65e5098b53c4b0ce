"""Customers, their bearer keys and tiers.

A key is shown once at creation; only its SHA-256 is stored, so a leaked database does
not leak working keys. Each key carries the tier it was issued for.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import ApiKey, Customer, utcnow
from aegis_core.errors import AuthError, ValidationError

KEY_PREFIX = "agk_"


@dataclass(frozen=True)
class Tier:
    name: str
    requests_per_minute: int
    monthly_evaluations: int
    shadow_mode: bool


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        Tier("community", 60, 100, shadow_mode=False),
        Tier("professional", 100, 10_000, shadow_mode=True),
        Tier("enterprise", 1_000, 100_000, shadow_mode=True),
        Tier("financial_services", 2_000, 250_000, shadow_mode=True),
    )
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the customer and the key (with its tier) they used."""

    customer_id: str
    key_id: str
    tier: Tier


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def get_tier(name: str) -> Tier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValidationError(f"unknown tier {name!r}; one of {', '.join(TIERS)}") from None


def create_key(session: Session, *, customer_name: str, tier: str) -> tuple[Principal, str]:
    """Issue a key for `customer_name` (created on first use); returns it in plain text once."""
    tier_def = get_tier(tier)
    name = customer_name.strip()
    if not name:
        raise ValidationError("customer name must not be empty")
    customer = session.scalar(select(Customer).where(Customer.name == name))
    if customer is None:
        customer = Customer(id=f"cust_{secrets.token_hex(6)}", name=name, tier=tier_def.name)
        session.add(customer)
        session.flush()  # no ORM relationship: the customer row must exist first
    else:
        customer.tier = tier_def.name
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        customer_id=customer.id, key_hash=hash_key(key), prefix=key[:12], tier=tier_def.name
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        None,
        "api_key_created",
        "operator",
        {
            "customer_id": customer.id,
            "name": name,
            "tier": tier_def.name,
            "key_id": row.id,
            "key_prefix": row.prefix,
        },
    )
    return Principal(customer.id, row.id, tier_def), key


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Resolve an `Authorization: Bearer KEY` header, or raise `AuthError`."""
    if not authorization:
        raise AuthError("missing Authorization: Bearer token")
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise AuthError("invalid Authorization header; expected 'Bearer YOUR_API_KEY'")
    row = session.execute(
        select(ApiKey.id, ApiKey.customer_id, ApiKey.tier).where(
            ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise AuthError("invalid API key")
    return Principal(row.customer_id, row.id, TIERS[row.tier])


def revoke_key(session: Session, key_id: str) -> None:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise ValidationError(f"no key {key_id}")
    row.revoked_at = utcnow()
    audit.append(
        session,
        None,
        "api_key_revoked",
        "operator",
        {"customer_id": row.customer_id, "key_id": row.id, "key_prefix": row.prefix},
    )
