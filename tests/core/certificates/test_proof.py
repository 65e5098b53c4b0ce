"""eddsa-jcs-2022 against the W3C test vector, and the Multikey/base58btc encoding."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from aegis_core.certificates import multikey, proof

# The W3C "Data Integrity EdDSA Cryptosuites v1.0" test vector for eddsa-jcs-2022
# (w3c/vc-di-eddsa, TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/signedJCS.json).
KEY_PAIR = {
    "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "privateKeyMultibase": "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
}
SIGNED_JCS = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/'
    'examples/v2"],"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","type":["Verifiable'
    'Credential","AlumniCredential"],"name":"Alumni Credential","description":"A minimum viab'
    'le example of an Alumni Credential.","issuer":"https://vc.example/issuers/5678","validFr'
    'om":"2023-01-01T00:00:00Z","credentialSubject":{"id":"did:example:abcdefgh","alumniOf":'
    '"The School of Examples"},"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-'
    '2022","created":"2023-02-24T23:36:38Z","verificationMethod":"https://vc.example/issuers/'
    '5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2","proofPurpose":"assertionMethod",'
    '"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/ex'
    'amples/v2"],"proofValue":"z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjm'
    'eEuCBEsddF9LsVogtuTsijJKh4"}}'
)


def _vector_key() -> SigningKey:
    return SigningKey(multikey.decode_secret(KEY_PAIR["privateKeyMultibase"]))


def test_the_key_pair_decodes_and_matches() -> None:
    key = _vector_key()
    assert multikey.encode_public(bytes(key.verify_key)) == KEY_PAIR["publicKeyMultibase"]
    assert multikey.encode_secret(bytes(key)) == KEY_PAIR["privateKeyMultibase"]


def test_signing_reproduces_the_w3c_vector_byte_for_byte() -> None:
    published = json.loads(SIGNED_JCS)
    unsigned = {k: v for k, v in published.items() if k != "proof"}
    signed = proof.sign(
        unsigned,
        _vector_key(),
        verification_method=published["proof"]["verificationMethod"],
        created=published["proof"]["created"],
    )
    assert signed["proof"]["proofValue"] == published["proof"]["proofValue"]
    assert json.dumps(signed, separators=(",", ":"), ensure_ascii=False) == SIGNED_JCS


def test_the_w3c_vector_verifies_and_a_changed_copy_does_not() -> None:
    published = json.loads(SIGNED_JCS)
    public = multikey.decode_public(KEY_PAIR["publicKeyMultibase"])
    proof.verify(published, public)
    changed = copy.deepcopy(published)
    changed["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    with pytest.raises(proof.InvalidSignature):
        proof.verify(changed, public)
    other = SigningKey(b"\x01" * 32)
    with pytest.raises(proof.InvalidSignature):
        proof.verify(published, bytes(other.verify_key))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda p: p.update(type="Ed25519Signature2020"), proof.MalformedProof),
        (lambda p: p.update(cryptosuite="eddsa-rdfc-2022"), proof.MalformedProof),
        (lambda p: p.update(created="yesterday"), proof.MalformedProof),
        (lambda p: p.update(created="2023-02-30T00:00:00Z"), proof.MalformedProof),
        (lambda p: p.pop("verificationMethod"), proof.MalformedProof),
        (lambda p: p.update(proofValue="u" + p["proofValue"][1:]), proof.MalformedProof),
        (lambda p: p.update(proofValue="z" + "0" * 80), proof.MalformedProof),
        (lambda p: p.update(proofValue=p["proofValue"][:-4]), proof.MalformedProof),
        (lambda p: p.update({"@context": ["https://example.org/other"]}), proof.InvalidSignature),
    ],
)
def test_malformed_proofs_are_named(change, error) -> None:
    secured = json.loads(SIGNED_JCS)
    change(secured["proof"])
    with pytest.raises(error):
        proof.verify(secured, multikey.decode_public(KEY_PAIR["publicKeyMultibase"]))


def test_numbers_outside_jcs_are_malformed_not_crashes() -> None:
    secured = json.loads(SIGNED_JCS)
    secured["credentialSubject"]["big"] = 2**60
    with pytest.raises(proof.MalformedProof):
        proof.verify(secured, multikey.decode_public(KEY_PAIR["publicKeyMultibase"]))


@settings(derandomize=True, database=None)
@given(st.binary(max_size=80))
def test_base58_round_trips_with_leading_zeros(data: bytes) -> None:
    assert multikey.b58decode(multikey.b58encode(data)) == data


def test_multikey_refuses_other_codecs() -> None:
    with pytest.raises(multikey.MultibaseError):
        multikey.decode_public(multikey.encode(b"\xe7\x01" + b"\x02" * 33))  # secp256k1-pub
    with pytest.raises(multikey.MultibaseError):
        multikey.decode_public(KEY_PAIR["privateKeyMultibase"])
    with pytest.raises(multikey.MultibaseError):
        multikey.decode_public("z0OIl")  # not base58 characters
