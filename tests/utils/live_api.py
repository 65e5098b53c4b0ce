"""The real app under uvicorn on a given database, with a customer key and the admin key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from aegis_core import customers
from aegis_core.db import migrate
from aegis_core.db.session import Database
from tests.utils.postgres import fresh_database
from tests.utils.server import uvicorn_app
from tests.utils.stripe_events import SECRET

ADMIN_KEY = "adm_live_api_tests_0123456789"
MAX_BODY_BYTES = 64 * 1024
# An IP literal: a global address needs no DNS to resolve (the tests run offline).
SOURCE_URL = "https://93.184.215.14/chats.json"


@dataclass(frozen=True)
class LiveAPI:
    base: str
    db_url: str
    customer_key: str

    @property
    def customer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.customer_key}"}

    @property
    def admin(self) -> dict[str, str]:
        return {"X-Admin-Key": ADMIN_KEY}


@contextmanager
def live_api(db_url: str, home: Path) -> Iterator[LiveAPI]:
    migrate.upgrade(db_url)
    database = Database(db_url)
    with database.session() as session:
        _, key = customers.create_key(session, customer_name="Fuzz Co", tier="enterprise")
    database.dispose()
    env = {
        "AEGIS_DATABASE_URL": db_url,
        "AEGIS_HOME": str(home),
        "AEGIS_ADMIN_KEY": ADMIN_KEY,
        "AEGIS_STRIPE_WEBHOOK_SECRET": SECRET,
        "AEGIS_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "AEGIS_STRIPE_SECRET_KEY": "",
    }
    with uvicorn_app(env, quiet=True) as base:
        yield LiveAPI(base, db_url, key)


@contextmanager
def served(engine: str, request: pytest.FixtureRequest, home: Path) -> Iterator[LiveAPI]:
    """`live_api` on a new SQLite file or a new PostgreSQL database (for module fixtures)."""
    if engine == "sqlite":
        with live_api(f"sqlite:///{home / 'aegis.db'}", home / ".aegis") as api:
            yield api
    else:
        with (
            fresh_database(request.getfixturevalue("pg_admin_url")) as url,
            live_api(url, home / ".aegis") as api,
        ):
            yield api
