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

In front of that sits an orjson path (~10 us for a decision record instead of ~90): orjson
already writes JCS strings and the JCS spelling of every finite non-integral float that
it writes without an exponent. Its output is used when it holds no exponent, no `-0.0`
and no 4-byte UTF-8 character (keys sort by UTF-16 units), once its integral floats
(`-3.0`) are written as integers, and only if reading it back gives the value again
(NaN, which orjson writes as null, and tuples do not); anything else takes the path
above.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from typing import Any

import orjson
import rfc8785

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_INTEGRAL_FLOAT_TAIL = re.compile(rb"\.0(?=[,\]}]|$)")  # `-3.0` -> `-3`
_BELOW_4_BYTE_UTF8 = bytes(range(0xF0))

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
            if abs(value) >= 2**53:  # int() would print digits JCS does not (1e21 - 65536)
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


def _orjson_canonical(value: Any) -> bytes | None:
    """JCS bytes through orjson, or None when the output could differ from JCS."""
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a big integer, a lone surrogate, a type
        return None
    if not out.isascii() and out.translate(None, _BELOW_4_BYTE_UTF8):
        return None  # a character beyond the BMP: keys would sort by UTF-16 units
    if b"-0.0" in out or _has_exponent(out):
        return None
    if b".0" in out:
        # Also hits ".0," inside a string; reading back then differs, and we fall back.
        out = _INTEGRAL_FLOAT_TAIL.sub(b"", out)
    return out if orjson.loads(out) == value else None


def _has_exponent(out: bytes) -> bool:
    """A number written with an exponent (or a string that looks like one)."""
    for mark in (b"e-", b"e+"):
        at = out.find(mark)
        while at > 0:
            if 0x30 <= out[at - 1] <= 0x39:
                return True
            at = out.find(mark, at + 2)
    return False


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 encoding of `value` as UTF-8 bytes."""
    fast = _orjson_canonical(value)
    if fast is not None:
        return fast
    state = _Prepared()
    try:
        text = _ENCODER.encode(_prepare(value, state))
        if state.numbers:
            text = state.fill(text)
    except _NeedsSlowPath:
        return rfc8785.dumps(value)
    return text.encode("utf-8")
