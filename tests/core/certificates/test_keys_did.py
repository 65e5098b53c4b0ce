"""Signing keys (file mode, rotation, first use) and the did:web document."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from aegis_core.certificates import did as did_web
from aegis_core.certificates import keys, multikey
from aegis_core.settings import AegisSettings


def test_generate_writes_a_private_key_file_and_publishes_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    key = keys.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.load(path).public == key.public
    assert key.public_multibase.startswith("z6Mk")
    assert [k.key_id for k in keys.published(path)] == [key.key_id]
    assert "secretKeyMultibase" not in keys.ring_path(path).read_text()
    with pytest.raises(keys.SigningKeyError, match="rotate"):
        keys.generate(path)
    assert keys.load(path).public == key.public  # the refused call changed nothing


def test_rotation_keeps_retired_keys_published(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    first = keys.generate(path)
    old, second = keys.rotate(path)
    _, third = keys.rotate(path)
    assert old.public == first.public
    assert keys.load(path).key_id == third.key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = {k.key_id: k for k in keys.published(path)}
    assert list(ring) == [first.key_id, second.key_id, third.key_id]
    assert ring[first.key_id].retired and ring[second.key_id].retired
    assert ring[third.key_id].retired is None


def test_a_tampered_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    keys.generate(path)
    other = keys.IssuerKey.new()
    text = path.read_text().replace(keys.load(path).public_multibase, other.public_multibase)
    path.write_text(text)
    with pytest.raises(keys.SigningKeyError, match="does not match"):
        keys.load(path)


def test_the_embedded_default_generates_once_and_says_so(tmp_path: Path, caplog) -> None:
    settings = AegisSettings(home=tmp_path / ".aegis")
    with caplog.at_level(logging.WARNING, logger="aegis.certificates"):
        key = keys.issuer_key(settings)
    assert "generated a new signing key" in caplog.text
    caplog.clear()
    assert keys.issuer_key(settings).public == key.public
    assert caplog.text == ""


@pytest.mark.parametrize(
    "overrides",
    [{"stage": "production"}, {"stage": "staging"}, {"signing_key_path": "mounted/signing.key"}],
)
def test_a_missing_key_is_an_error_outside_the_embedded_default(
    tmp_path: Path, overrides: dict
) -> None:
    settings = AegisSettings(home=tmp_path / ".aegis", **overrides)
    with pytest.raises(keys.SigningKeyMissing, match="aegis keys signing generate"):
        keys.issuer_key(settings)
    with pytest.raises(keys.SigningKeyMissing):
        keys.published_keys(settings)
    assert not settings.resolved_signing_key_path.exists()


@pytest.mark.parametrize(
    ("settings", "did"),
    [
        ({"public_base_url": "https://refine.example.com"}, "did:web:refine.example.com"),
        ({"public_base_url": "https://refine.example.com:443/app"}, "did:web:refine.example.com"),
        ({"public_base_url": "http://127.0.0.1:8000"}, "did:web:127.0.0.1%3A8000"),
        (
            {"public_base_url": "https://Refine.Example.COM:8443"},
            "did:web:refine.example.com%3A8443",
        ),
        ({"did_domain": "aegis.example.org"}, "did:web:aegis.example.org"),
        ({"did_domain": "localhost:3000"}, "did:web:localhost%3A3000"),
        ({"did_domain": "localhost%3A3000"}, "did:web:localhost%3A3000"),
    ],
)
def test_the_issuer_did(settings: dict, did: str) -> None:
    assert did_web.issuer_did(AegisSettings(**settings)) == did


@pytest.mark.parametrize("domain", ["example.com/path", "exa mple.com", "example.com:http", ""])
def test_a_did_domain_must_be_a_host(domain: str) -> None:
    with pytest.raises(ValueError):
        did_web.did_from_domain(domain)


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ],
)
def test_did_web_resolution_urls_follow_the_method_spec(did: str, url: str) -> None:
    assert did_web.document_url(did) == url


def _document(tmp_path: Path) -> tuple[dict, list[keys.PublicKey]]:
    path = tmp_path / "signing.key"
    keys.generate(path)
    keys.rotate(path)
    published = keys.published(path)
    return did_web.document("did:web:example.com%3A8443", published), published


def test_the_did_document_lists_every_key_as_an_absolute_multikey(tmp_path: Path) -> None:
    doc, published = _document(tmp_path)
    did = "did:web:example.com%3A8443"
    assert doc["id"] == did
    assert "https://w3id.org/security/multikey/v1" in doc["@context"]
    ids = [f"{did}#{k.key_id}" for k in published]
    assert [m["id"] for m in doc["verificationMethod"]] == ids
    assert doc["assertionMethod"] == ids
    for method, key in zip(doc["verificationMethod"], published, strict=True):
        assert method["type"] == "Multikey" and method["controller"] == did
        assert method["publicKeyMultibase"].startswith("z6Mk")
        assert did_web.find_key(doc, method["id"]) == multikey.decode_public(key.public_multibase)


def _break(doc: dict, how: str, method: str) -> None:
    if how == "wrong_id":
        doc["id"] = "did:web:evil.example"
    elif how == "absent":
        doc["verificationMethod"] = [m for m in doc["verificationMethod"] if m["id"] != method]
    elif how == "not_for_assertions":
        doc["assertionMethod"].remove(method)
    elif how == "other_controller":
        doc["verificationMethod"][0]["controller"] = "did:web:evil.example"
    elif how == "other_type":
        doc["verificationMethod"][0]["type"] = "JsonWebKey2020"
    elif how == "other_codec":
        secp256k1 = multikey.encode(b"\xe7\x01" + bytes(33))
        doc["verificationMethod"][0]["publicKeyMultibase"] = secp256k1


@pytest.mark.parametrize(
    "how",
    ["wrong_id", "absent", "not_for_assertions", "other_controller", "other_type", "other_codec"],
)
def test_a_key_the_document_does_not_vouch_for_is_refused(tmp_path: Path, how: str) -> None:
    doc, _ = _document(tmp_path)
    method = doc["verificationMethod"][0]["id"]
    _break(doc, how, method)
    with pytest.raises(did_web.KeyNotPublished):
        did_web.find_key(doc, method)


def test_relative_references_resolve_against_the_document(tmp_path: Path) -> None:
    doc, published = _document(tmp_path)
    method = doc["verificationMethod"][0]["id"]
    doc["verificationMethod"][0]["id"] = "#" + published[0].key_id
    doc["assertionMethod"][0] = "#" + published[0].key_id
    assert did_web.find_key(doc, method) == multikey.decode_public(published[0].public_multibase)
