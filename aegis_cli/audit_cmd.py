"""`aegis audit verify|tail`: check the hash chain; exit 1 naming the first bad row."""

from __future__ import annotations

import argparse
import json

from sqlalchemy import select

from aegis_cli.db_cmd import add_url_option, resolve_url
from aegis_core import audit
from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database


def register(sub: argparse._SubParsersAction) -> None:
    cmds = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_cmd")
    cmds.required = True
    ver = cmds.add_parser("verify", help="verify the whole hash chain")
    add_url_option(ver)
    ver.add_argument("--json", action="store_true", help="print the result as JSON")
    ver.set_defaults(handler=_verify)
    tail = cmds.add_parser("tail", help="print the last entries")
    add_url_option(tail)
    tail.add_argument("-n", type=int, default=20)
    tail.set_defaults(handler=_tail)


def _verify(args: argparse.Namespace) -> int:
    db = Database(resolve_url(args))
    try:
        with db.session() as session:
            result = audit.verify(session)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(result.__dict__))
    else:
        print(result.describe())
    return 0 if result.ok else 1


def _tail(args: argparse.Namespace) -> int:
    db = Database(resolve_url(args))
    try:
        with db.session() as session:
            rows = session.scalars(select(AuditLog).order_by(AuditLog.seq.desc()).limit(args.n))
            for row in reversed(rows.all()):
                print(
                    f"{row.seq:>6} {row.created_at} {row.actor:<16} {row.action:<20} "
                    f"job={row.job_id or '-'} {json.dumps(row.details, sort_keys=True)}"
                )
    finally:
        db.dispose()
    return 0
