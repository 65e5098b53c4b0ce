"""An app per test, bound to the parametrized database, and a key factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from aegis_core import customers
from aegis_core.db.session import Database
from aegis_core.settings import get_settings


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    from api.main import create_app

    with TestClient(create_app(), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def make_key(db: Database) -> Callable[..., tuple[str, str]]:
    """`make_key(tier, name)` -> (bearer key, customer id)."""

    def make(tier: str = "professional", name: str = "Acme") -> tuple[str, str]:
        with db.session() as session:
            principal, key = customers.create_key(session, customer_name=name, tier=tier)
        return key, principal.customer_id

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
