"""Keys are stored hashed and resolve to a customer and tier; counters stop at their limit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from aegis_core import audit, customers, limits
from aegis_core.db.models import ApiKey
from aegis_core.db.session import Database
from aegis_core.errors import AuthError, ValidationError


def test_key_is_hashed_and_authenticates(db: Database) -> None:
    with db.session() as s:
        principal, key = customers.create_key(s, customer_name="Acme", tier="professional")
    assert key.startswith("agk_") and principal.customer_id.startswith("cust_")
    with db.session() as s:
        stored = s.scalars(select(ApiKey)).one()
        assert key not in {
            stored.key_hash,
            stored.prefix,
        } and stored.key_hash == customers.hash_key(key)
        who = customers.authenticate(s, f"Bearer {key}")
        assert (who.customer_id, who.tier.name) == (principal.customer_id, "professional")
        assert audit.verify(s).ok
        assert key not in str(s.scalars(select(audit.chain.AuditLog.details)).all())


def test_same_customer_name_reuses_customer_id(db: Database) -> None:
    with db.session() as s:
        first, _ = customers.create_key(s, customer_name="Acme", tier="community")
        second, _ = customers.create_key(s, customer_name="Acme", tier="enterprise")
        other, _ = customers.create_key(s, customer_name="Globex", tier="community")
    assert first.customer_id == second.customer_id != other.customer_id
    assert (first.tier.name, second.tier.name) == ("community", "enterprise")


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer nope", "Basic abc", "agk_x", "Bearer  "]
)
def test_bad_credentials_are_refused(db: Database, header: str | None) -> None:
    with db.session() as s, pytest.raises(AuthError):
        customers.authenticate(s, header)


def test_revoked_key_is_refused(db: Database) -> None:
    with db.session() as s:
        principal, key = customers.create_key(s, customer_name="Acme", tier="community")
        customers.revoke_key(s, principal.key_id)
    with db.session() as s, pytest.raises(AuthError):
        customers.authenticate(s, f"Bearer {key}")


def test_unknown_tier_is_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(ValidationError, match="unknown tier"):
        customers.create_key(s, customer_name="Acme", tier="platinum")


def test_counter_stops_at_limit_and_windows_are_separate(db: Database) -> None:
    with db.session() as s:
        results = [limits.consume(s, "rate", "k1", "2026-11-24T10:00", 3) for _ in range(5)]
        other = limits.consume(s, "rate", "k1", "2026-11-24T10:01", 3)
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0, 0]
    assert other.allowed and other.remaining == 2


def test_counter_is_exact_under_concurrency(db: Database) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        for _ in range(25):
            with db.session() as s:
                usage = limits.consume(s, "rate", "shared", "w", 60)
            with lock:
                allowed.append(usage.allowed)

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 60 and allowed.count(False) == 40
