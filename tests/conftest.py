"""Shared fixtures: every model test runs on SQLite and on PostgreSQL.

Under `CI=true` a missing PostgreSQL is a failure, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aegis_core.db import migrate
from aegis_core.db.session import Database
from aegis_core.settings import get_settings
from tests.utils.postgres import fresh_database, postgres_server

os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    try:
        with postgres_server() as url:
            yield url
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true and could not be started: {exc}")
        pytest.skip(f"no PostgreSQL available: {exc}")


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own."""
    with fresh_database(pg_admin_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated database URL, once per engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'aegis.db'}"
        migrate.upgrade(url)
        yield url
    else:
        with fresh_database(request.getfixturevalue("pg_admin_url")) as url:
            migrate.upgrade(url)
            yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own `.aegis` home; no test reads the developer's state."""
    monkeypatch.setenv("AEGIS_HOME", str(tmp_path / ".aegis"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def llama_base_url() -> Iterator[str]:
    """A real llama.cpp OpenAI-compatible server (SmolLM2-135M); base URL ending in /v1.
    Under `CI=true` a missing server is a failure, never a skip."""
    from tests.utils.llama_server import llama_server, missing

    reason = missing()
    if reason:
        if IN_CI:
            pytest.fail(f"the llama.cpp server is required under CI=true: {reason}")
        pytest.skip(reason)
    with llama_server() as url:
        yield url
