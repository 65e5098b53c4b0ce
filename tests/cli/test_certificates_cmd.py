"""`aegis keys signing ...` and `aegis verify`: exit codes and reasons, in process."""

from __future__ import annotations

import functools
import http.server
import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aegis_cli import main
from aegis_core.certificates import Issuer, issue_certificate
from aegis_core.db import migrate
from aegis_core.db.session import Database
from aegis_core.settings import get_settings
from tests.utils.completed_job import completed_job


@pytest.fixture
def issued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(certificate JSON, dataset) signed with this test's own embedded default key."""
    monkeypatch.setenv("AEGIS_PUBLIC_BASE_URL", "https://refine.example.com")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'aegis.db'}"
    migrate.upgrade(url)
    db = Database(url)
    job_id, files = completed_job(db, tmp_path / "data")
    row = issue_certificate(db, job_id, files, Issuer.from_settings(get_settings()))
    db.dispose()
    return Path(row.json_path), files.dataset


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_generate_rotate_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys" / "signing.key"
    code, out = _run(capsys, "keys", "signing", "generate", "--path", str(path))
    assert code == 0 and "0600" in out and "z6Mk" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    code, out = _run(capsys, "keys", "signing", "generate", "--path", str(path))
    assert code == 2 and "rotate" in out
    code, out = _run(capsys, "keys", "signing", "rotate", "--path", str(path))
    assert code == 0 and "retired" in out
    code, out = _run(capsys, "keys", "signing", "show", "--path", str(path))
    doc = json.loads(out)
    assert code == 0 and len(doc["assertionMethod"]) == 2
    assert "secretKeyMultibase" not in out
    code, out = _run(capsys, "keys", "signing", "show", "--path", str(tmp_path / "none.key"))
    assert code == 2 and "no signing key" in out


def test_verify_a_good_certificate(issued, tmp_path: Path, capsys) -> None:
    cert, dataset = issued
    code, out = _run(capsys, "verify", str(cert))  # the keys this installation publishes
    assert code == 0 and "valid" in out
    code, out = _run(capsys, "keys", "signing", "show")
    did = tmp_path / "did.json"
    did.write_text(out)
    code, out = _run(capsys, "verify", str(cert), "--did", str(did), "--dataset", str(dataset))
    assert code == 0 and "matches SHA-256" in out
    code, out = _run(capsys, "verify", str(cert), "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def _write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_verify_names_each_reason(issued, tmp_path: Path, capsys) -> None:
    cert_path, dataset = issued
    cert = json.loads(cert_path.read_text())

    forged = json.loads(json.dumps(cert))
    forged["credentialSubject"]["ledger"]["revenue"]["amount"] = "2000.00"
    code, out = _run(capsys, "verify", str(_write(tmp_path / "forged.json", forged)))
    assert code == 1 and "signature invalid" in out

    other_home = tmp_path / "other"
    code, out = _run(
        capsys, "keys", "signing", "generate", "--path", str(other_home / "signing.key")
    )
    code, out = _run(capsys, "keys", "signing", "show", "--path", str(other_home / "signing.key"))
    other_did = _write(tmp_path / "other-did.json", json.loads(out))
    code, out = _run(capsys, "verify", str(cert_path), "--did", str(other_did))
    assert code == 1 and "key not in the DID document" in out

    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(dataset.read_bytes().replace(b"router 3", b"router 4"))
    code, out = _run(capsys, "verify", str(cert_path), "--dataset", str(changed))
    assert code == 1 and "dataset hash mismatch" in out

    no_proof = {k: v for k, v in cert.items() if k != "proof"}
    code, out = _run(capsys, "verify", str(_write(tmp_path / "bare.json", no_proof)))
    assert code == 1 and "malformed certificate" in out
    (tmp_path / "junk.json").write_text("{not json")
    code, out = _run(capsys, "verify", str(tmp_path / "junk.json"))
    assert code == 1 and "malformed certificate" in out
    code, out = _run(capsys, "verify", str(tmp_path / "absent.json"))
    assert code == 1 and "cannot read" in out


def test_a_rotated_key_verifies_its_old_certificates(issued, capsys) -> None:
    cert, dataset = issued
    assert _run(capsys, "keys", "signing", "rotate")[0] == 0
    code, out = _run(capsys, "verify", str(cert), "--dataset", str(dataset))
    assert code == 0, out


@pytest.fixture
def did_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www" / ".well-known"
    root.mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/did.json", root
    finally:
        server.shutdown()
        server.server_close()


def test_verify_fetches_a_did_document_by_url(issued, did_server, capsys) -> None:
    cert, _ = issued
    url, root = did_server
    code, out = _run(capsys, "verify", str(cert), "--did", url)
    assert code == 1 and "cannot fetch" in out
    (root / "did.json").write_text(_run(capsys, "keys", "signing", "show")[1])
    code, out = _run(capsys, "verify", str(cert), "--did", url)
    assert code == 0, out
