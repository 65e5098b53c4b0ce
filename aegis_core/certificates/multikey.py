"""Multibase base58btc and the Multikey encoding of Ed25519 keys (W3C Controlled Identifiers).

A public key is `z` + base58btc(0xED 0x01 || 32 bytes) (so it starts `z6Mk`); a secret key
`z` + base58btc(0x80 0x26 || 32-byte seed). Base58 is small enough to keep here: the W3C
test vector (tests/core/certificates) pins it byte for byte.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"


class MultibaseError(ValueError):
    """Not a base58btc multibase value of the expected kind."""


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for ch in text:
        try:
            number = number * 58 + _INDEX[ch]
        except KeyError:
            raise MultibaseError(f"{ch!r} is not a base58btc character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    """Multibase base58btc: `z` + base58."""
    return "z" + b58encode(data)


def decode(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise MultibaseError("expected a base58btc multibase string (starting with 'z')")
    return b58decode(value[1:])


def _key(value: object, prefix: bytes, what: str) -> bytes:
    raw = decode(value)
    if len(raw) != 34 or not raw.startswith(prefix):
        raise MultibaseError(f"not an Ed25519 {what} key (multicodec 0x{prefix.hex()})")
    return raw[2:]


def encode_public(key: bytes) -> str:
    return encode(ED25519_PUB + key)


def decode_public(value: object) -> bytes:
    """The 32 raw bytes of a `publicKeyMultibase` (any other multicodec is refused)."""
    return _key(value, ED25519_PUB, "public")


def encode_secret(seed: bytes) -> str:
    return encode(ED25519_PRIV + seed)


def decode_secret(value: object) -> bytes:
    return _key(value, ED25519_PRIV, "secret")
