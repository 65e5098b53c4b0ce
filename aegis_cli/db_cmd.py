"""`aegis db upgrade|current`."""

from __future__ import annotations

import argparse

from aegis_core.db import migrate
from aegis_core.settings import get_settings


def add_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="database URL (default: AEGIS_DATABASE_URL or SQLite)")


def resolve_url(args: argparse.Namespace) -> str:
    return args.url or get_settings().resolved_database_url


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_cmd", required=True)
    up = db.add_parser("upgrade", help="bring the database to the latest schema")
    add_url_option(up)
    up.set_defaults(handler=_upgrade)
    cur = db.add_parser("current", help="print the schema revision")
    add_url_option(cur)
    cur.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    url = resolve_url(args)
    migrate.upgrade(url)
    print(f"database at revision {migrate.current_revision(url)}")
    return 0


def _current(args: argparse.Namespace) -> int:
    print(migrate.current_revision(resolve_url(args)) or "empty (run `aegis db upgrade`)")
    return 0
