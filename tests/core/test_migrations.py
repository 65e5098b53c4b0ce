"""`aegis db upgrade` creates the schema the models describe, on both engines."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from aegis_core.db import migrate
from aegis_core.db.models import Base
from aegis_core.db.session import make_engine


def test_models_match_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_cli_upgrade_on_empty_postgres_uses_jsonb(pg_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "db", "upgrade", "--url", pg_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    head = ScriptDirectory.from_config(migrate.alembic_config(pg_url)).get_current_head()
    assert f"revision {head}" in proc.stdout
    with psycopg.connect(pg_url) as conn:
        types = dict(
            conn.execute(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
                " WHERE data_type IN ('json', 'jsonb')"
            ).fetchall()
        )
    assert types and set(types.values()) == {"jsonb"}
    assert "audit_log.details" in types


def test_upgrade_is_idempotent(db_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "db", "upgrade", "--url", db_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
