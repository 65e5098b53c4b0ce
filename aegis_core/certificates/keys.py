"""The issuer's Ed25519 signing key and its key ring.

The key file (mode 0600) holds the current key as a Multikey pair; the key ring next to
it (`<name>.keyring.json`, public keys only) lists every key ever used, so the DID
document keeps publishing retired keys and older certificates still verify. Rotation
writes the ring before the new key: a key is published before it signs anything.

A missing key is generated on first use only for the embedded default (stage `dev`,
no AEGIS_SIGNING_KEY_PATH), with a warning; anywhere else it is an error.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aegis_core.certificates import multikey
from aegis_core.errors import AegisError
from aegis_core.settings import AegisSettings

log = logging.getLogger("aegis.certificates")


class SigningKeyError(AegisError):
    """The signing key or its ring cannot be used as they are."""


class SigningKeyMissing(SigningKeyError):
    """No signing key where the settings say it is."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class PublicKey:
    """One published key: `key_id` is the DID URL fragment (`did:web:host#<key_id>`)."""

    key_id: str
    public_multibase: str
    created: str
    retired: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.key_id,
            "publicKeyMultibase": self.public_multibase,
            "created": self.created,
            "retired": self.retired,
        }


@dataclass(frozen=True)
class IssuerKey:
    key_id: str
    signing_key: SigningKey
    created: str

    @property
    def public_multibase(self) -> str:
        return multikey.encode_public(bytes(self.signing_key.verify_key))

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.public_multibase, self.created)

    @classmethod
    def new(cls) -> IssuerKey:
        key = SigningKey.generate()
        created = _now()
        fingerprint = hashlib.sha256(bytes(key.verify_key)).hexdigest()[:8]
        return cls(f"key-{created[:10].replace('-', '')}-{fingerprint}", key, created)

    def file_text(self) -> str:
        return json.dumps(
            {
                "type": "Multikey",
                "id": self.key_id,
                "created": self.created,
                "publicKeyMultibase": self.public_multibase,
                "secretKeyMultibase": multikey.encode_secret(bytes(self.signing_key)),
            },
            indent=2,
        )


def ring_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name.removesuffix(".key") + ".keyring.json")


def load(key_path: Path) -> IssuerKey:
    try:
        data = json.loads(key_path.read_text())
    except FileNotFoundError:
        raise SigningKeyMissing(
            f"no signing key at {key_path}: run `aegis keys signing generate`"
        ) from None
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot read the signing key {key_path}: {exc}") from None
    try:
        key = SigningKey(multikey.decode_secret(data["secretKeyMultibase"]))
        issuer = IssuerKey(str(data["id"]), key, str(data.get("created", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise SigningKeyError(f"{key_path} is not an Aegis signing key: {exc}") from None
    if data.get("publicKeyMultibase") not in (None, issuer.public_multibase):
        raise SigningKeyError(f"{key_path}: the public key does not match the secret key")
    return issuer


def _read_ring(path: Path) -> list[PublicKey]:
    if not path.exists():
        return []
    try:
        items = json.loads(path.read_text())["keys"]
        ring = [
            PublicKey(i["id"], i["publicKeyMultibase"], i.get("created", ""), i.get("retired"))
            for i in items
        ]
        for entry in ring:
            multikey.decode_public(entry.public_multibase)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SigningKeyError(f"cannot read the key ring {path}: {exc}") from None
    return ring


def _write(path: Path, text: str, mode: int) -> Path:
    """Write a sibling temporary file with `mode`; the caller links or renames it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def _save_ring(key_path: Path, ring: list[PublicKey]) -> None:
    path = ring_path(key_path)
    text = json.dumps({"keys": [entry.as_dict() for entry in ring]}, indent=2)
    os.replace(_write(path, text, 0o644), path)


@contextmanager
def _locked(key_path: Path) -> Iterator[None]:
    """One writer of the key and its ring at a time (generate, rotate, first use)."""
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(key_path.with_name(f".{key_path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate(key_path: Path) -> IssuerKey:
    """A new key at `key_path` (0600), published in the ring; refuses to replace one."""
    with _locked(key_path):
        if key_path.exists():
            raise SigningKeyError(
                f"a signing key already exists at {key_path}; use `aegis keys signing rotate`"
            )
        key = IssuerKey.new()
        ring = [e for e in _read_ring(ring_path(key_path)) if e.key_id != key.key_id]
        _save_ring(key_path, [*ring, key.public])
        tmp = _write(key_path, key.file_text(), 0o600)
        try:
            os.link(tmp, key_path)  # never over a key another process just wrote
        finally:
            tmp.unlink()
        return key


def rotate(key_path: Path) -> tuple[IssuerKey, IssuerKey]:
    """Retire the current key (it stays published) and make a new one current."""
    with _locked(key_path):
        old = load(key_path)
        new = IssuerKey.new()
        retired = _now()
        ring = [e for e in _read_ring(ring_path(key_path)) if e.key_id != old.key_id]
        ring.append(PublicKey(old.key_id, old.public_multibase, old.created, retired))
        _save_ring(key_path, [*ring, new.public])
        os.replace(_write(key_path, new.file_text(), 0o600), key_path)
        return old, new


def published(key_path: Path) -> list[PublicKey]:
    """Every key the DID document lists: the ring, plus the current key if it is missing."""
    ring = _read_ring(ring_path(key_path))
    if key_path.exists():
        current = load(key_path).public
        if all(e.key_id != current.key_id for e in ring):
            ring.append(current)
    return ring


def may_generate(settings: AegisSettings) -> bool:
    """Only the embedded default generates its key on first use."""
    return settings.stage == "dev" and settings.signing_key_path is None


def issuer_key(settings: AegisSettings) -> IssuerKey:
    """The current signing key; the embedded default makes one on first use (and says so)."""
    path = settings.resolved_signing_key_path
    if path.exists() or not may_generate(settings):
        if not path.exists():
            raise SigningKeyMissing(
                f"no signing key at {path} (stage {settings.stage}): run "
                "`aegis keys signing generate` or set AEGIS_SIGNING_KEY_PATH"
            )
        return load(path)
    try:
        key = generate(path)
    except SigningKeyError:
        if path.exists():  # another process generated it first
            return load(path)
        raise
    log.warning(
        "generated a new signing key %s at %s (embedded default, stage dev); "
        "certificates it signs verify only while it stays published",
        key.key_id,
        path,
    )
    return key


def published_keys(settings: AegisSettings) -> list[PublicKey]:
    """What the DID document publishes; creates the dev key on first use like `issuer_key`."""
    path = settings.resolved_signing_key_path
    keys = published(path)
    if not keys:
        issuer_key(settings)
        keys = published(path)
    return keys
