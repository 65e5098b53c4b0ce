"""The fast canonical encoder is byte-for-byte RFC 8785."""

from __future__ import annotations

import math
import random
import struct

import pytest
import rfc8785

from aegis_core.canonical import canonical_bytes

CASES = [
    {"b": 1, "a": [1.0, 2.5, -0.0, 0.1, 1e-7, 1e-5, 123456789.125, 1e20, 1e21, 5e-324]},
    {"z": 'é\u2028\n\t"\\\x01', "y": None, "x": True, "w": {"k": [{}, []]}},
    {"\U0001f600": 1, "\uffff": 2, "a": 3},
    {"largest_safe": 9007199254740991, "neg": -9007199254740991},
    {"gates": {"risk": {"value": 4.2e-05, "threshold": 0.95, "confidence": 0.999958}}},
]


@pytest.mark.parametrize("value", CASES)
def test_matches_rfc8785(value: object) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


def test_matches_rfc8785_on_random_documents() -> None:
    rng = random.Random(8785)

    def scalar() -> object:
        kind = rng.randrange(6)
        if kind == 0:
            return rng.uniform(-1e6, 1e6)
        if kind == 1:
            return rng.choice([0.0, 1.0, 1e-3, 1e-6, 3e-5, 1e15, 1e16, 1e22]) * rng.choice([1, -1])
        if kind == 2:
            return rng.randrange(-(2**40), 2**40)
        if kind == 3:
            return "".join(
                chr(rng.choice([0x41, 0x7F, 0x1F, 0xE9, 0x2028, 0x1F600]))
                for _ in range(rng.randrange(5))
            )
        return rng.choice([True, False, None])

    def doc(depth: int) -> object:
        if depth == 0 or rng.random() < 0.3:
            return scalar()
        if rng.random() < 0.5:
            return [doc(depth - 1) for _ in range(rng.randrange(4))]
        return {
            f"k{rng.randrange(100)}{chr(rng.choice([0x61, 0xE9]))}": doc(depth - 1)
            for _ in range(rng.randrange(4))
        }

    for _ in range(2000):
        value = doc(4)
        assert canonical_bytes(value) == rfc8785.dumps(value), value


def test_refuses_what_jcs_cannot_encode() -> None:
    with pytest.raises(ValueError):
        canonical_bytes({"x": float("nan")})
    with pytest.raises(ValueError):  # beyond 2**53 an integer would silently lose digits
        canonical_bytes({"x": 2**53 + 1})


def test_placeholder_collision_falls_back_to_the_exact_encoder(monkeypatch) -> None:
    monkeypatch.setattr("aegis_core.canonical.secrets.token_hex", lambda n: "fixed")
    crafted = {"a": 3e-05, "b": "\x00fixed:0\x00"}  # a string that looks like the placeholder
    assert canonical_bytes(crafted) == rfc8785.dumps(crafted)


def test_random_floats_and_lookalike_strings_match_rfc8785() -> None:
    """Every float spelling (orjson's exponent range differs from JCS between 1e-7 and
    1e-5) and strings that look like the numbers the fast path rewrites."""
    rng = random.Random(20)
    floats = [
        struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)
    ]
    floats += [rng.uniform(-1, 1) * 10 ** rng.uniform(-9, 22) for _ in range(3000)]
    floats += [-0.0, 0.0, -3.0, 1e16, 1e21 - 65536, 9007199254740992.0]
    strings = ["v1.0,", "x 1.0}", "1e-5", "-0.0]", "3.0", "e-mail", "\\u00e9.0,"]
    for x in floats:
        if math.isfinite(x):
            value = {"x": x, "s": rng.choice(strings), "l": [x, rng.choice(strings)]}
            assert canonical_bytes(value) == rfc8785.dumps(value), x


def test_a_decision_record_takes_the_fast_path() -> None:
    from aegis_core.canonical import _orjson_canonical

    record = {
        "gates": {"utility": {"threshold": -3.0, "value": -0.640297, "confidence": None}},
        "confidence": 0.998821,
        "risk": 0.000042,
        "failing_gates": ["complexity"],
        "proposal_summary": "Add caching layer (état, time-sensitive)",
        "input_context": {"risk_baseline": 0.05, "n": 3, "ok": True},
    }
    assert _orjson_canonical(record) == rfc8785.dumps(record)
    assert _orjson_canonical({"x": float("nan")}) is None  # orjson would write null
    assert _orjson_canonical({"t": (1, 2)}) is None  # read back as a list: exact path
