"""What untrusted JSON may contain, checked once, where a body enters (the API's edge).

The rules exist because the layers behind them fail on such input with a crash, not a
refusal: PostgreSQL text and JSONB refuse NUL characters, UTF-8 encoders refuse lone
surrogates, canonical JSON (RFC 8785) has no form for NaN, Infinity or integers beyond
2^53 - 1, and Python's JSON parser raises `RecursionError` on deep nesting. So:

* the body is UTF-8 (an optional byte order mark is dropped) with no NUL character,
  raw or escaped as `\\u0000`, and no lone surrogate (`\\ud800`);
* numbers are finite (no `NaN`, `Infinity`, or `1e400`, which overflows to infinity)
  and integers lie within +/-(2^53 - 1);
* arrays and objects nest at most `max_depth` levels.

A body that is simply not JSON is not refused here: `JsonBody.error` says why, and each
route answers in its own documented words. The common body pays for a few C-level byte
scans, one parse and a cheap hook per number; the walk over the parsed value (which
names the offending place) runs only when something could break a rule: an escape
that could spell a NUL or a surrogate, a number the hooks flag, or more brackets than
the depth limit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aegis_core.errors import ValidationError

MAX_SAFE_INTEGER = 2**53 - 1
DEFAULT_MAX_DEPTH = 32
# The escapes that can spell a NUL or a surrogate (a valid pair, an emoji, also matches:
# the walk then finds nothing wrong).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class _Suspect(Exception):
    """Raised by the parse hooks; the walk then finds and names the offending value."""


def _float(text: str) -> float:
    value = float(text)
    if value - value:  # NaN for an overflow to +/-inf
        raise _Suspect
    return value


def _int(text: str) -> int:
    value = int(text)
    if len(text) > 15 and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _Suspect
    return value


def _constant(text: str) -> float:  # NaN, Infinity, -Infinity
    raise _Suspect


class InputRefused(ValidationError):
    """Input that breaks the edge policy (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A request body read once: its parsed value, or why it is not JSON."""

    raw: bytes
    value: Any = None
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not self.raw.strip()


def check_text(text: str, where: str) -> None:
    """Refuse a NUL character or a lone surrogate in `text` (a URL, a header, a field)."""
    if "\x00" in text:
        raise InputRefused(f"{where} must not contain NUL characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputRefused(f"{where} must not contain lone surrogates") from None


def read_json(raw: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> JsonBody:
    """Parse `raw` under the policy: `InputRefused` for hostile input; a `JsonBody` whose
    `error` is set when the body is empty or simply not JSON."""
    if b"\x00" in raw:
        raise InputRefused("request body must not contain NUL bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputRefused(
            f"request body must be UTF-8 (invalid byte at position {exc.start})"
        ) from None
    if not text.strip():
        return JsonBody(raw, error="the body is empty")
    suspect = False
    try:
        try:
            value = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant)
        except _Suspect:  # parse again plainly, so that the walk can name the place
            value, suspect = json.loads(text), True
    except RecursionError:
        raise InputRefused(f"JSON nests deeper than {max_depth} levels") from None
    except ValueError as exc:
        return JsonBody(raw, error=str(exc))
    if (
        suspect
        or raw.count(b"[") + raw.count(b"{") > max_depth
        or (b"\\u" in raw and _RISKY_ESCAPE.search(raw))
    ):
        check_value(value, max_depth=max_depth)
    return JsonBody(raw, value)


def read_form(raw: bytes, *, max_fields: int = 20) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (the Ops console's forms) under the same
    rules: UTF-8 once percent-decoded, no NUL or lone surrogate in a name or value, each
    name once, at most `max_fields` fields."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError:
        raise InputRefused("a form body must be percent-encoded UTF-8") from None
    except ValueError:
        raise InputRefused(f"a form has at most {max_fields} fields") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        check_text(name, "a form field name")
        check_text(value, f"the form field {name}")
        if name in form:
            raise InputRefused(f"the form field {name} is given twice")
        form[name] = value
    return form


def check_value(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Walk a parsed JSON value (iteratively: depth cannot exhaust the stack)."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            check_text(item, _where(path, "a string"))
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise InputRefused(
                    f"{_where(path, 'a number')} is an integer beyond +/-(2^53 - 1), "
                    "which JSON numbers cannot hold exactly"
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InputRefused(
                    f"{_where(path, 'a number')} must be finite "
                    "(NaN, Infinity and numbers beyond the float range are not allowed)"
                )
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise InputRefused(f"JSON nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    check_text(key, f"an object key in {_where(path, 'the body')}")
                    stack.append((child, depth + 1, (*path, key)))
            else:
                stack.extend((child, depth + 1, (*path, i)) for i, child in enumerate(item))


def _where(path: tuple[str | int, ...], unnamed: str) -> str:
    """`metadata.items[2]` for a path; `unnamed` for the top level."""
    if not path:
        return unnamed
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = part if part.isprintable() and len(part) <= 40 else repr(part[:40])
            text += f".{shown}" if text else shown
    return text
