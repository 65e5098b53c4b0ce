"""The dataset's fingerprint, computed the same way by the issuer, the API and a verifier."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def file_digest(path: Path) -> tuple[str, int, int]:
    """SHA-256 hex, size in bytes and line count of a file, read once."""
    digest, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), size, lines + (last != b"\n")
