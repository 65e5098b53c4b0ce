"""The database as a Dagster resource: the same `Database` the API uses."""

from __future__ import annotations

import dagster as dg

from aegis_core.db.session import Database, get_database
from aegis_core.settings import get_settings


class DatabaseResource(dg.ConfigurableResource):
    """Empty `url` means the settings' database (AEGIS_DATABASE_URL or the embedded SQLite)."""

    url: str = ""

    def get(self) -> Database:
        return get_database(self.url or get_settings().resolved_database_url)
