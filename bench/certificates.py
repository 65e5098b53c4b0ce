"""Certificate signing, verification and PDF rendering.

    python bench/certificates.py --repeat 200 --pdf-repeat 20 --extra-entries 0 200

For each size (a completed job's audit entries plus `--extra-entries` more), issues one
real certificate on a fresh SQLite database, then times on it, in process:
  * sign: JCS (rfc8785) of the credential and proof options, SHA-256, Ed25519;
  * verify: the same hashing plus Ed25519 verification, the key found in the DID document;
  * PDF: the HTML template rendered by WeasyPrint with the signed JSON attached (warm, and
    the first render of the process);
  * issue: the whole `issue_certificate` (gather from the DB, hash the dataset, sign,
    write JSON and PDF, store the row, audit).
Targets: sign + verify < 5 ms, PDF < 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aegis_core import audit  # noqa: E402
from aegis_core.certificates import Issuer, issue_certificate, keys, pdf, proof, verify  # noqa: E402
from aegis_core.certificates import did as did_web  # noqa: E402
from aegis_core.db import migrate  # noqa: E402
from aegis_core.db.session import Database  # noqa: E402
from aegis_core.settings import AegisSettings  # noqa: E402
from tests.utils.completed_job import completed_job  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Wall-clock median and p95, and median CPU time of this process, in milliseconds
    (CPU time is the steadier figure on a shared machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    p95 = wall[min(len(wall) - 1, int(len(wall) * 0.95))]
    return statistics.median(wall), p95, statistics.median(cpu)


def run(extra: int, repeat: int, pdf_repeat: int, first: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="aegis-bench-cert-"))
    url = f"sqlite:///{root / 'aegis.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = AegisSettings(home=root / ".aegis", public_base_url="https://refine.example.com")
    issuer = Issuer.from_settings(settings)
    job_id, files = completed_job(db, root / "data")
    with db.session() as session:
        audit.append_many(
            session,
            [
                (job_id, "enrich_batch", "agent", {"count": i, "amount": "0.01"})
                for i in range(extra)
            ],
        )
    if first:
        start = time.perf_counter()
        row = issue_certificate(db, job_id, files, issuer)
        cold_issue = (time.perf_counter() - start) * 1000
    row = issue_certificate(db, job_id, files, issuer)
    signed = json.loads(Path(row.json_path).read_text())
    json_bytes = Path(row.json_path).read_bytes()
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    doc = did_web.document(issuer.did, keys.published(settings.resolved_signing_key_path))
    method = signed["proof"]["verificationMethod"]
    created = signed["proof"]["created"]

    def sign() -> None:
        proof.sign(unsigned, issuer.key.signing_key, verification_method=method, created=created)

    def check() -> None:
        assert verify.verify_certificate(signed, doc).ok

    def sign_and_verify() -> None:
        sign()
        check()

    def render() -> None:
        pdf.render(signed, json_bytes, issuer.key.public_multibase)

    entries = len(signed["credentialSubject"]["decisions"])
    print(f"certificate: {entries} audit entries, {len(json_bytes):,} bytes of JSON")
    if first:
        print(f"  first issue in this process (fonts, template): {cold_issue:8.1f} ms")

    def issue() -> None:
        issue_certificate(db, job_id, files, issuer)

    for name, fn, n in (
        ("sign", sign, repeat),
        ("verify", check, repeat),
        ("sign + verify", sign_and_verify, repeat),
        ("PDF render (warm)", render, pdf_repeat),
        ("issue_certificate (warm)", issue, pdf_repeat),
    ):
        median, p95, cpu = timed(fn, n)
        print(
            f"  {name:<26} median {median:8.2f} ms  p95 {p95:8.2f} ms  "
            f"CPU median {cpu:8.2f} ms  (n={n})"
        )
    size = len(pdf.render(signed, json_bytes, issuer.key.public_multibase))
    print(f"  PDF size {size:,} bytes")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--pdf-repeat", type=int, default=20)
    parser.add_argument("--extra-entries", type=int, nargs="+", default=[0, 200])
    args = parser.parse_args()
    for index, extra in enumerate(args.extra_entries):
        run(extra, args.repeat, args.pdf_repeat, first=index == 0)


if __name__ == "__main__":
    main()
