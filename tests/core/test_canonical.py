"""The fast canonical encoder is byte-for-byte RFC 8785."""

from __future__ import annotations

import random

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
