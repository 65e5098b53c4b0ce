"""`aegis verify CERT.json [--did FILE_OR_URL] [--dataset FILE.jsonl]`: offline verification.

Exit 0 when the certificate holds; 1 with the reason otherwise (malformed certificate,
key not in the DID document, signature invalid, dataset hash mismatch). The DID document
is a file, an http(s) URL, a did:web DID (fetched from its https location), or, when
omitted, the keys this installation publishes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from aegis_core.certificates import did as did_web
from aegis_core.certificates import keys, verify
from aegis_core.errors import AegisError
from aegis_core.settings import get_settings

FETCH_TIMEOUT_S = 10.0


class CannotLoad(Exception):
    """An input that cannot be read at all (as opposed to one that does not verify)."""


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("verify", help="verify a signed audit certificate offline")
    cmd.add_argument("certificate", type=Path, help="the certificate JSON")
    cmd.add_argument("--did", help="DID document: a file, an http(s) URL or a did:web DID")
    cmd.add_argument("--dataset", type=Path, help="the JSONL the certificate is about")
    cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    cmd.set_defaults(handler=_verify)


def _fetch(url: str) -> Any:
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_S, follow_redirects=False)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise CannotLoad(f"cannot fetch the DID document {url}: {exc}") from None


def did_document(source: str | None) -> Any:
    if source is None:
        settings = get_settings()
        try:
            published = keys.published(settings.resolved_signing_key_path)
        except AegisError as exc:
            raise CannotLoad(str(exc)) from None
        if not published:
            raise CannotLoad("no local signing keys: pass --did FILE_OR_URL")
        return did_web.document(did_web.issuer_did(settings), published)
    if source.startswith("did:web:"):
        return _fetch(did_web.document_url(source))
    if source.startswith(("https://", "http://")):
        return _fetch(source)
    return _read_json(Path(source), "DID document")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise CannotLoad(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CannotLoad(f"the {what} {path} is not JSON: {exc}") from None


def _verify(args: argparse.Namespace) -> int:
    try:
        try:
            cert = _read_json(args.certificate, "certificate")
        except CannotLoad as exc:
            if args.certificate.is_file():  # readable but not JSON: a malformed certificate
                raise CannotLoad(f"{verify.MALFORMED}: {exc}") from None
            raise
        doc = did_document(args.did)
        if args.dataset is not None and not args.dataset.is_file():
            raise CannotLoad(f"cannot read the dataset {args.dataset}")
    except CannotLoad as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result = verify.verify_certificate(cert, doc, args.dataset)
    if args.json:
        print(json.dumps(result.__dict__))
    else:
        print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1
