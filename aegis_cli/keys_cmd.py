"""`aegis keys create|revoke`: bearer keys for the Governance API.

`create` prints the key alone on stdout (so `KEY=$(aegis keys create ...)` works) and
the customer it belongs to on stderr; the key is never shown again.
"""

from __future__ import annotations

import argparse
import json
import sys

from aegis_cli.db_cmd import add_url_option, resolve_url
from aegis_core import customers
from aegis_core.db import migrate
from aegis_core.db.session import Database
from aegis_core.errors import AegisError


def register(sub: argparse._SubParsersAction) -> None:
    cmds = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_cmd")
    cmds.required = True
    create = cmds.add_parser("create", help="issue a key (customer created on first use)")
    create.add_argument("--customer", required=True, help="customer name")
    create.add_argument("--tier", required=True, choices=sorted(customers.TIERS))
    create.add_argument("--json", action="store_true", help="print key, customer and tier as JSON")
    add_url_option(create)
    create.set_defaults(handler=_create)
    revoke = cmds.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    add_url_option(revoke)
    revoke.set_defaults(handler=_revoke)


def _create(args: argparse.Namespace) -> int:
    url = resolve_url(args)
    migrate.upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            principal, key = customers.create_key(
                session, customer_name=args.customer, tier=args.tier
            )
    except AegisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    if args.json:
        print(
            json.dumps(
                {
                    "key": key,
                    "customer_id": principal.customer_id,
                    "tier": principal.tier.name,
                    "key_id": principal.key_id,
                }
            )
        )
    else:
        print(key)
        print(
            f"customer {principal.customer_id} ({args.customer}), tier {principal.tier.name}, "
            f"key id {principal.key_id}; store the key now, it is not shown again",
            file=sys.stderr,
        )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    db = Database(resolve_url(args))
    try:
        with db.session() as session:
            customers.revoke_key(session, args.key_id)
    except AegisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(f"revoked {args.key_id}")
    return 0
