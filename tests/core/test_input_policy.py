"""The input policy: what it refuses, and that it refuses nothing else."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aegis_core.canonical import canonical_bytes
from aegis_core.input_policy import MAX_SAFE_INTEGER, InputRefused, read_json

SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
SAFE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SAFE_TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=150, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(value=SAFE_JSON, ascii_only=st.booleans())
def test_safe_json_is_accepted_unchanged_and_hashable(value: object, ascii_only: bool) -> None:
    raw = json.dumps({"v": value}, ensure_ascii=ascii_only).encode()
    parsed = read_json(raw, max_depth=64)
    assert parsed.error is None and parsed.value == {"v": value}
    canonical_bytes(parsed.value)  # what is accepted can be hashed


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"a": "x\\u0000"}', "a must not contain NUL"),
        (b'{"a": "x\x00"}', "NUL bytes"),
        (b'{"a": ["\\ud83d"]}', "a[0] must not contain lone surrogates"),
        (b'{"a": {"\\udfff": 1}}', "object key"),
        (b'{"a": "\\uDBFF\\u0041"}', "lone surrogates"),
        (b'{"a": "\\uDc00"}', "lone surrogates"),
        (b'{"a": "\xed\xa0\x80"}', "UTF-8"),
        (b'{"a": NaN}', "a must be finite"),
        (b'{"a": -Infinity}', "finite"),
        (b'{"a": 1e400}', "finite"),
        (b'{"a": 9007199254740992}', "2^53"),
        (b'{"a": -9007199254740992}', "2^53"),
        (b"[" * 33 + b"]" * 33, "deeper than 32"),
        (b"[" * 100_000 + b"]" * 100_000, "deeper than 32"),
    ],
)
def test_hostile_input_is_refused_with_its_place(raw: bytes, fragment: str) -> None:
    with pytest.raises(InputRefused, match=fragment.replace("[", r"\[").replace("^", r"\^")):
        read_json(raw)


def test_depth_limit_is_exact_and_strings_do_not_count() -> None:
    assert read_json(b"[" * 32 + b"]" * 32).value is not None
    assert read_json(b'["' + b"[{" * 100 + b'"]').value == ["[{" * 100]


def test_not_json_is_reported_not_refused() -> None:
    assert read_json(b"{not json").error
    assert read_json(b"  ").empty and read_json(b"  ").error
    assert read_json(b"\xef\xbb\xbf{}").value == {}  # a UTF-8 byte order mark is allowed
