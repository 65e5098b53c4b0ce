"""Persistence: models, engine/session handling, and Alembic migrations."""

from aegis_core.db.session import Database, get_database

__all__ = ["Database", "get_database"]
