"""did:web: the issuer's DID, its DID document, and finding a proof's key in a document.

The DID names the host (port colon percent-encoded, `did:web:example.com%3A8443`); the
document lives at `https://<host>/.well-known/did.json`. Every DID URL in it is absolute
(`did:web:host#key-id`), as the did:web method requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from aegis_core.certificates import multikey
from aegis_core.certificates.keys import PublicKey
from aegis_core.settings import AegisSettings

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
KEY_TYPES = ("Multikey", "Ed25519VerificationKey2020")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeyNotPublished(ValueError):
    """The proof's key is not usable from this DID document (absent, wrong purpose...)."""


def did_from_domain(domain: str) -> str:
    """`example.com`, `example.com:8443` or `example.com%3A8443` -> the did:web DID."""
    host, _, port = unquote(domain.strip()).lower().partition(":")
    if not _HOST.match(host) or (port and not port.isdigit()):
        raise ValueError(f"{domain!r} is not a host name with an optional port")
    return f"did:web:{host}" + (f"%3A{port}" if port else "")


def issuer_did(settings: AegisSettings) -> str:
    """AEGIS_DID_DOMAIN if set, else the host (and non-default port) of AEGIS_PUBLIC_BASE_URL."""
    if settings.did_domain:
        return did_from_domain(settings.did_domain)
    url = urlsplit(settings.public_base_url)
    if not url.hostname:
        raise ValueError("AEGIS_PUBLIC_BASE_URL has no host to derive the did:web DID from")
    port = url.port if url.port and url.port != _DEFAULT_PORTS.get(url.scheme) else None
    return f"did:web:{quote(url.hostname, safe='.-')}" + (f"%3A{port}" if port else "")


def document_url(did: str) -> str:
    """Where a did:web document is fetched from (did:web "Read": https, .well-known)."""
    if not did.startswith("did:web:"):
        raise ValueError(f"{did!r} is not a did:web DID")
    host, *path = did.removeprefix("did:web:").split(":")
    return f"https://{unquote(host)}/" + ("/".join(path) if path else ".well-known") + "/did.json"


def method_id(did: str, key_id: str) -> str:
    return f"{did}#{key_id}"


def document(did: str, keys: Sequence[PublicKey]) -> dict[str, Any]:
    """The DID document: every published key as a Multikey usable for assertions."""
    methods = [
        {
            "id": method_id(did, key.key_id),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_multibase,
        }
        for key in keys
    ]
    return {
        "@context": CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def _absolute(ref: Any, base: str) -> Any:
    return base + ref if isinstance(ref, str) and ref.startswith("#") else ref


def find_key(doc: Any, method: str, purpose: str = "assertionMethod") -> bytes:
    """The raw Ed25519 key `method` names, if `doc` publishes it for `purpose`."""
    did, hash_, fragment = method.partition("#")
    if not hash_ or not fragment or not did.startswith("did:"):
        raise KeyNotPublished(f"verificationMethod {method!r} is not a DID URL with a fragment")
    if not isinstance(doc, dict) or doc.get("id") != did:
        found = doc.get("id") if isinstance(doc, dict) else None
        raise KeyNotPublished(f"the DID document is for {found!r}, the proof names {did}")
    listed = doc.get("verificationMethod")
    methods = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    purposes = doc.get(purpose) if isinstance(doc.get(purpose), list) else []
    methods += [item for item in purposes if isinstance(item, dict)]
    entry = next((m for m in methods if _absolute(m.get("id"), did) == method), None)
    if entry is None:
        raise KeyNotPublished(f"key {method} is not in the DID document")
    refs = {_absolute(p.get("id") if isinstance(p, dict) else p, did) for p in purposes}
    if method not in refs:
        raise KeyNotPublished(f"key {method} is not listed under {purpose}")
    if entry.get("controller") != did:
        raise KeyNotPublished(f"key {method} is not controlled by {did}")
    if entry.get("type") not in KEY_TYPES:
        raise KeyNotPublished(f"key {method} has type {entry.get('type')!r}, not Multikey")
    try:
        return multikey.decode_public(entry.get("publicKeyMultibase"))
    except multikey.MultibaseError as exc:
        raise KeyNotPublished(f"key {method}: {exc}") from None
