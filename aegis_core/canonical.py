"""RFC 8785 (JCS) canonical JSON, with a fast path.

The `rfc8785` library is exact but pure Python, and hashing every decision record with
it was the largest cost of POST /evaluate. For the common shape of our data, the
standard library's C encoder already produces JCS bytes: keys sorted (identical to
UTF-16 order when every key is in the Basic Multilingual Plane), the same string
escapes, and shortest round-trip float digits. They differ only in how some numbers are
spelled: integral floats (JCS writes `1`, Python `1.0`), and small numbers (Python writes
`4.2e-05`, JCS `0.000042`). `canonical_bytes` turns integral floats into ints, lets
`rfc8785` spell each small number, and falls back to `rfc8785` for the whole value
whenever anything else could differ, so the output is always JCS.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import rfc8785

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


class _NeedsSlowPath(Exception):
    pass


class _Prepared:
    """Floats Python would spell in exponent form are swapped for unique placeholder
    strings, spelled by `rfc8785` afterwards (a single number is cheap even there)."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.numbers: list[str] = []

    def small_float(self, value: float) -> str:
        self.numbers.append(rfc8785.dumps(value).decode())
        return f"\x00{self.nonce}:{len(self.numbers) - 1}\x00"

    def fill(self, text: str) -> str:
        for index, number in enumerate(self.numbers):
            token = json.dumps(f"\x00{self.nonce}:{index}\x00")
            if text.count(token) != 1:  # the input itself held a token: never guess
                raise _NeedsSlowPath
            text = text.replace(token, number)
        return text


def _prepare(value: Any, state: _Prepared) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) >= 2**53:  # JCS spells large integers as doubles
            raise _NeedsSlowPath
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and Infinity have no canonical JSON form")
        if value.is_integer():
            if abs(value) >= 1e21:
                raise _NeedsSlowPath
            return int(value)
        if abs(value) < 1e-4:  # Python switches to exponent form before JavaScript does
            return state.small_float(value)
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if any(ord(ch) > 0xFFFF for ch in key):
                raise _NeedsSlowPath
            out[key] = _prepare(item, state)
        return out
    if isinstance(value, list | tuple):
        return [_prepare(item, state) for item in value]
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 encoding of `value` as UTF-8 bytes."""
    state = _Prepared()
    try:
        text = _ENCODER.encode(_prepare(value, state))
        if state.numbers:
            text = state.fill(text)
    except _NeedsSlowPath:
        return rfc8785.dumps(value)
    return text.encode("utf-8")
