"""`aegis keys create|revoke`: bearer keys for the Governance API; `aegis keys signing
generate|rotate|show`: the certificate signing key and its DID document.

`create` prints the key alone on stdout (so `KEY=$(aegis keys create ...)` works) and
the customer it belongs to on stderr; the key is never shown again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aegis_cli.db_cmd import add_url_option, resolve_url
from aegis_core import customers
from aegis_core.certificates import did as did_web
from aegis_core.certificates import keys as signing
from aegis_core.db import migrate
from aegis_core.db.session import Database
from aegis_core.errors import AegisError
from aegis_core.settings import get_settings


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
    _register_signing(cmds)


def _register_signing(cmds: argparse._SubParsersAction) -> None:
    group = cmds.add_parser("signing", help="the certificate signing key (Ed25519)")
    sub = group.add_subparsers(dest="signing_cmd")
    sub.required = True
    for name, handler, text in (
        ("generate", _signing_generate, "write a new signing key (refuses to replace one)"),
        ("rotate", _signing_rotate, "make a new key current; the old one stays published"),
        ("show", _signing_show, "print the DID document that publishes the keys"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument(
            "--path", type=Path, help="key file (default AEGIS_SIGNING_KEY_PATH or <home>/keys)"
        )
        cmd.set_defaults(handler=handler)


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


def _key_path(args: argparse.Namespace) -> Path:
    return (args.path or get_settings().resolved_signing_key_path).resolve()


def _describe(key: signing.IssuerKey) -> str:
    method = did_web.method_id(did_web.issuer_did(get_settings()), key.key_id)
    return f"{method} publicKeyMultibase {key.public_multibase}"


def _signing_generate(args: argparse.Namespace) -> int:
    path = _key_path(args)
    try:
        key = signing.generate(path)
    except AegisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"signing key written to {path} (mode 0600); key ring {signing.ring_path(path)}")
    print(_describe(key))
    return 0


def _signing_rotate(args: argparse.Namespace) -> int:
    path = _key_path(args)
    try:
        old, new = signing.rotate(path)
    except AegisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"retired {old.key_id} (still published: its certificates keep verifying)")
    print(f"current {_describe(new)}")
    return 0


def _signing_show(args: argparse.Namespace) -> int:
    try:
        published = signing.published(_key_path(args))
    except AegisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not published:
        print(f"error: no signing key at {_key_path(args)}", file=sys.stderr)
        return 2
    print(json.dumps(did_web.document(did_web.issuer_did(get_settings()), published), indent=2))
    return 0
