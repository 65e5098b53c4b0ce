"""Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa §3.3).

hashData = SHA-256(JCS(proof options)) || SHA-256(JCS(document)); the proof value is
`z` + base58btc(Ed25519(hashData)). JCS is the `rfc8785` library: a signature must not
depend on our own encoder, and verification reads documents from anywhere.
"""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import datetime
from typing import Any

import rfc8785
from nacl.exceptions import CryptoError
from nacl.signing import SigningKey, VerifyKey

from aegis_core.certificates import multikey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PURPOSE = "assertionMethod"
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class MalformedProof(ValueError):
    """The document or its proof is not a well-formed eddsa-jcs-2022 proof."""


class InvalidSignature(ValueError):
    """Well-formed, but the signature does not match the document and key."""


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedProof(f"not canonicalizable JSON: {exc}") from None


def _check_options(options: dict[str, Any]) -> None:
    if options.get("type") != PROOF_TYPE:
        raise MalformedProof(f"proof type must be {PROOF_TYPE}")
    if options.get("cryptosuite") != CRYPTOSUITE:
        raise MalformedProof(f"proof cryptosuite must be {CRYPTOSUITE}")
    created = options.get("created")
    if created is not None:
        if not isinstance(created, str) or not _DATETIME.match(created):
            raise MalformedProof("proof created must be an XML Schema dateTimeStamp")
        try:
            datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise MalformedProof("proof created is not a valid date and time") from None
    if not isinstance(options.get("verificationMethod"), str):
        raise MalformedProof("proof verificationMethod must be a URL string")
    if not isinstance(options.get("proofPurpose"), str):
        raise MalformedProof("proof proofPurpose is missing")


def hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    """The 64 bytes that are signed: the proof options' hash first, the document's second."""
    _check_options(options)
    return hashlib.sha256(_jcs(options)).digest() + hashlib.sha256(_jcs(document)).digest()


def sign(
    document: dict[str, Any],
    key: SigningKey,
    *,
    verification_method: str,
    created: str,
    purpose: str = PURPOSE,
) -> dict[str, Any]:
    """`document` plus a `proof` (Create Proof; the proof carries its @context). A shallow
    copy: the result shares `document`'s nested values."""
    if "proof" in document:
        raise ValueError("the document is already secured")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
    }
    if "@context" in document:
        options["@context"] = copy.deepcopy(document["@context"])
    signature = key.sign(hash_data(document, options)).signature
    return {**document, "proof": {**options, "proofValue": multikey.encode(signature)}}


def proof_of(secured: Any) -> dict[str, Any]:
    """The document's single proof, checked for shape (not for its signature)."""
    if not isinstance(secured, dict):
        raise MalformedProof("a secured document must be a JSON object")
    proof = secured.get("proof")
    if not isinstance(proof, dict):
        raise MalformedProof("the document has no single proof object")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    _check_options(options)
    return proof


def verify(secured: Any, public_key: bytes) -> None:
    """Verify Proof (§3.3.2): return quietly, or raise `MalformedProof`/`InvalidSignature`."""
    proof = proof_of(secured)
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    try:
        signature = multikey.decode(proof.get("proofValue"))
    except multikey.MultibaseError as exc:
        raise MalformedProof(f"proofValue: {exc}") from None
    if len(signature) != 64:
        raise MalformedProof("proofValue is not a 64-byte Ed25519 signature")
    document = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        context = options["@context"]
        expected = context if isinstance(context, list) else [context]
        actual = document.get("@context")
        actual = actual if isinstance(actual, list) else [actual]
        if actual[: len(expected)] != expected:
            raise InvalidSignature("the document's @context does not start with the proof's")
        document["@context"] = context
    try:
        VerifyKey(public_key).verify(hash_data(document, options), signature)
    except CryptoError:
        raise InvalidSignature("the signature does not match the document and key") from None
