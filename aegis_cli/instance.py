"""The Dagster instance every `aegis` command shares: DAGSTER_HOME and its dagster.yaml.

Dagster reads its instance config only from `$DAGSTER_HOME/dagster.yaml` (a dagster.yaml in
the working directory is ignored), so the project's `dagster.yaml` is written there, with a
PostgreSQL `storage` block added when `AEGIS_DAGSTER_PG_URL` is set. `aegis dev` and
`aegis demo` resolve the same folder from the same settings, so they share one instance
and one database.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from aegis_core.settings import AegisSettings

ROOT = Path(__file__).resolve().parents[1]
INSTANCE_CONFIG = ROOT / "dagster.yaml"  # the one the project ships
WORKSPACE = ROOT / "workspace.yaml"
PG_URL_ENV = "AEGIS_DAGSTER_PG_URL"
MARKER = "# Written by aegis from the project's dagster.yaml"
# Dagster reads the URL from the environment when the instance loads: never on disk.
POSTGRES_STORAGE = f"""
# Run, event log and schedule storage on PostgreSQL ({PG_URL_ENV} is set).
storage:
  postgres:
    postgres_url:
      env: {PG_URL_ENV}
"""


class InstanceConfigError(RuntimeError):
    """The Dagster instance cannot be set up as asked; the message says why."""


def dagster_home(settings: AegisSettings) -> Path:
    """`$DAGSTER_HOME` if set, else `<AEGIS_HOME>/dagster`."""
    configured = os.environ.get("DAGSTER_HOME")
    return Path(configured).resolve() if configured else (settings.home / "dagster").resolve()


def instance_yaml(settings: AegisSettings) -> str:
    """The dagster.yaml text for these settings: the project's, plus PostgreSQL storage when
    `AEGIS_DAGSTER_PG_URL` is set."""
    text = INSTANCE_CONFIG.read_text()
    pg_url = os.environ.get(PG_URL_ENV)
    if not pg_url:
        return f"{MARKER}; SQLite storage in this folder.\n{text}"
    if "storage" in (yaml.safe_load(text) or {}):
        raise InstanceConfigError(f"{INSTANCE_CONFIG} already sets storage; {PG_URL_ENV} cannot")
    _refuse_shared_database(pg_url, settings.resolved_database_url)
    return f"{MARKER}; PostgreSQL storage from ${PG_URL_ENV}.\n{text}{POSTGRES_STORAGE}"


def dagster_pg_url(url: str) -> str:
    """The URL with the psycopg2 driver named: dagster-postgres sends `NOTIFY channel, :id`,
    which psycopg 3 (SQLAlchemy 2.1's default for `postgresql://`) binds server-side and
    PostgreSQL rejects. Any PostgreSQL URL gets psycopg2 (a dagster-postgres dependency)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def _refuse_shared_database(pg_url: str, app_url: str) -> None:
    """Dagster's schedule storage has a `jobs` table, as Aegis has: one database each."""
    dagster, app = make_url(pg_url), make_url(app_url)
    same = (dagster.host, dagster.port or 5432, dagster.database) == (
        app.host,
        app.port or 5432,
        app.database,
    )
    if app.get_backend_name() == "postgresql" and same:
        raise InstanceConfigError(
            f"{PG_URL_ENV} names the Aegis database itself; give Dagster a database of its own "
            "on the same server (both have a table named `jobs`)"
        )


def prepare(settings: AegisSettings) -> Path:
    """Write `dagster.yaml` into DAGSTER_HOME and export DAGSTER_HOME; returns the folder.

    A dagster.yaml there that aegis did not write (no marker line) is the user's own
    instance and is left as it is, except in aegis's default folder, which aegis owns.
    """
    home = dagster_home(settings)
    if os.environ.get(PG_URL_ENV):  # read by every Dagster process started from here
        os.environ[PG_URL_ENV] = dagster_pg_url(os.environ[PG_URL_ENV])
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    wanted = instance_yaml(settings)
    current = target.read_text() if target.exists() else None
    owned = home == (settings.home / "dagster").resolve()
    if current != wanted and (current is None or owned or current.startswith(MARKER)):
        target.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def initialize() -> None:
    """Open the instance once, which creates (or upgrades) its storage: the webserver and the
    daemon starting on a fresh instance at the same moment would each stamp the schema
    (SQLite then has two alembic heads and neither can open it)."""
    import dagster as dg

    with dg.DagsterInstance.get():
        pass
