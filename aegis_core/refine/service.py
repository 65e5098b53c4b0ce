"""A job's refinery steps: files under the job's folder, facts on the job row and in the
audit log.

A run's first step calls `start` with who asked for the run: a payment's run works only on
a job still in triage whose payment no other run has claimed (a payment starts one run,
ever); only an operator (or a manual launch) re-runs a finished or halted job. Every step
runs inside `halting`: any exception halts the job with the step and a one-line reason,
audited, and removes the step's partial files; `halt` is the same rule for a run that died
without raising (the run-status sensors call it).

The run's last two facts: `record_checks` stores the dataset's asset-check outcomes in the
audit log (a failed blocking check halts the job there), and `certify` issues the signed
certificate from them and only then completes the job."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.certificates import CheckOutcome, Issuer, issue_certificate
from aegis_core.certificates.issue import certifiable
from aegis_core.db.models import AuditCertificate, AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.errors import AegisError, Conflict, NotFound, SourceRefused
from aegis_core.jobs import ACTIVE, JobStatus, transition
from aegis_core.payments.fulfilment import claim_run
from aegis_core.refine import chunks_io, pipeline
from aegis_core.refine.fetch import FetchResult, fetch
from aegis_core.refine.parsers import parse_source
from aegis_core.refine.sniff import sniff

RESTARTABLE = (JobStatus.COMPLETE, JobStatus.HALTED)
MAX_REASON = 300


@dataclass(frozen=True)
class JobFiles:
    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source.bin"

    @property
    def source_info(self) -> Path:
        return self.root / "source.json"

    @property
    def chunks(self) -> Path:
        return self.root / "chunks.parquet"

    @property
    def dataset(self) -> Path:
        return self.root / "dataset.jsonl"

    def remove_partial(self) -> list[str]:
        """What a failed step leaves behind: `*.partial` files and an empty dataset."""
        if not self.root.is_dir():
            return []
        found = list(self.root.glob("*.partial"))
        if self.dataset.is_file() and self.dataset.stat().st_size == 0:
            found.append(self.dataset)
        for path in found:
            path.unlink(missing_ok=True)
        return sorted(path.name for path in found)

    def salt(self) -> str:
        """Per-job pseudonym key: stable across re-runs, never derivable from ids."""
        path = self.root / "pseudonym.key"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()


def files_for(data_dir: Path, job_id: str) -> JobFiles:
    return JobFiles(data_dir / "jobs" / job_id)


@dataclass(frozen=True)
class Trigger:
    """Who asked for a run: `stripe` (a payment; `event_id` is its event), `operator:<kind>`,
    or anything else (a launch from the Dagster UI, a test)."""

    kind: str
    run_id: str
    event_id: str | None = None

    @property
    def by_payment(self) -> bool:
        return self.kind == "stripe"


def start(db: Database, job_id: str, trigger: Trigger) -> Job | None:
    """The job for a run's first step, or None when the run has nothing to do: a payment's
    run for a job that left triage or whose payment another run claimed. A finished or
    halted job goes back to triage only when anyone but a payment asks."""
    with db.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status == JobStatus.AWAITING_PAYMENT:
            raise Conflict(f"job {job_id} is not paid; the refinery does not run")
        if trigger.by_payment:
            if not claim_run(session, job, trigger.event_id, trigger.run_id):
                return None
        elif job.status in RESTARTABLE:
            transition(
                session, job, JobStatus.TRIAGE, actor=trigger.kind, reason="re-run requested"
            )
        audit.append(
            session,
            job.id,
            "run_started",
            trigger.kind,
            {"run_id": trigger.run_id, "trigger": trigger.kind, "event_id": trigger.event_id},
        )
        return job


def current(db: Database, job_id: str) -> Job:
    """The job for a run's later step: it must still be in the works."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status not in ACTIVE:
            raise Conflict(f"job {job_id} is {job.status}; this run no longer works on it")
        return job


def one_line(exc: BaseException | str) -> str:
    """A halt reason: the message on one line; the type too when the error was unexpected."""
    text = " ".join(str(exc).split())
    if isinstance(exc, BaseException) and not isinstance(exc, AegisError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:MAX_REASON]


def halt(
    db: Database,
    job_id: str,
    step: str,
    reason: str,
    files: JobFiles | None = None,
    actor: str = "system",
) -> bool:
    """Halt a job still in the works with `step: reason` (audited) and remove its partial
    files. False, touching nothing, when the job is not in the works (unpaid, complete,
    already halted)."""
    with db.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.status not in ACTIVE:
            return False
        reason = f"{step}: {one_line(reason)}"
        transition(session, job, JobStatus.HALTED, actor=actor, reason=reason)
    if files is not None:
        files.remove_partial()
    return True


@contextmanager
def halting(db: Database, job_id: str, step: str, files: JobFiles | None) -> Iterator[None]:
    """Any exception inside halts the job (see `halt`) and then propagates."""
    try:
        yield
    except BaseException as exc:  # an interrupted run (KeyboardInterrupt) halts too
        try:
            halt(db, job_id, step, one_line(exc), files)
        except Exception as failed:  # the run-status sensors halt it later
            exc.add_note(f"halting job {job_id} failed too: {failed!r}")
        raise


def fetch_source(
    db: Database,
    job: Job,
    files: JobFiles,
    *,
    max_bytes: int,
    allow_insecure: bool,
    **fetch_options: Any,
) -> dict[str, Any]:
    result: FetchResult = fetch(
        job.input_path,
        files.source,
        max_bytes=max_bytes,
        allow_insecure=allow_insecure,
        **fetch_options,
    )
    fmt = sniff(result.path, result.content_type)
    if fmt == "binary":
        raise SourceRefused("source is binary data in no supported format")
    info = {
        "bytes": result.bytes,
        "sha256": result.sha256,
        "detected_format": fmt,
        "content_type": result.content_type,
        "final_url": result.final_url,
        "path": str(result.path),
    }
    files.source_info.write_text(json.dumps(info))
    with db.session() as session:
        audit.append(session, job.id, "source_fetched", "system", info)
    return info


def parse(db: Database, job: Job, files: JobFiles) -> dict[str, Any]:
    info = json.loads(files.source_info.read_text())
    stats: dict[str, int] = {}
    samples = parse_source(files.source, info["detected_format"], salt=files.salt(), stats=stats)
    count = chunks_io.write_samples(samples, files.chunks)
    if count == 0 and not stats.get("pages_without_text"):  # scanned pages: the loop may OCR
        counts = ", ".join(f"{n} {what}" for what, n in sorted(stats.items()))
        raise SourceRefused(
            f"no usable text found in the {info['detected_format']} source"
            + (f" ({counts})" if counts else "")
        )
    result = {"chunks": count, "detected_format": info["detected_format"], **stats}
    with db.session() as session:
        audit.append(
            session,
            job.id,
            "source_parsed",
            "system",
            {"chunks": count, "detected_format": info["detected_format"], "counts": stats},
        )
    return result


def refine(
    db: Database,
    job: Job,
    files: JobFiles,
    *,
    quality_threshold: float,
    on_progress: Callable[[int], None] | None = None,
    extra: Sequence[Path] = (),
) -> pipeline.RefineStats:
    """Refine the parsed samples, then those of `extra` sample files (OCR output), into the
    job's dataset. The job stays `refining`: its checks and certificate come next."""
    with db.session() as session:
        row = session.get(Job, job.id)
        if row.status != JobStatus.REFINING:
            transition(session, row, JobStatus.REFINING, actor="system")
    sources = [files.chunks, *extra]
    repeated = pipeline.learn_repeated_lines(
        chain.from_iterable(chunks_io.read_document_texts(path) for path in sources)
    )
    stats = pipeline.refine(
        chain.from_iterable(chunks_io.read_samples(path) for path in sources),
        description=job.description,
        fmt=job.output_format,
        out_path=files.dataset,
        quality_threshold=quality_threshold,
        repeated=repeated,
        on_progress=on_progress,
    )
    if stats.rows == 0:
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(stats.dropped.items()))
        raise SourceRefused(
            "no sample passed cleaning, dedup and quality filtering"
            + (f" (dropped: {dropped})" if dropped else "")
        )
    with db.session() as session:
        row = session.get(Job, job.id)
        row.output_path = str(files.dataset)
        row.dataset = {
            "rows": stats.rows,
            "mean_quality": stats.mean_quality,
            "pii_masked": stats.pii_masked,
            "sha256": stats.sha256,
            "format": job.output_format,
            "dedup": stats.dedup,
            "dropped": stats.dropped,
        }
        audit.append(
            session,
            job.id,
            "dataset_written",
            "system",
            {
                "rows": stats.rows,
                "mean_quality": stats.mean_quality,
                "pii_masked": stats.pii_masked,
                "sha256": stats.sha256,
                "dedup": stats.dedup,
                "dropped": stats.dropped,
                "output_path": str(files.dataset),
            },
        )
    return stats


def record_checks(
    db: Database, job_id: str, sha256: str, checks: Sequence[CheckOutcome]
) -> list[CheckOutcome]:
    """Store the dataset's check outcomes in the audit log, bound to the dataset's SHA-256,
    for the certificate to record. A failed blocking check halts the job with its name and
    metadata (no certificate is issued); the failed blocking checks are returned."""
    failed = [c for c in checks if c.blocking and not c.passed]
    with db.session() as session:
        audit.append(
            session,
            job_id,
            "dataset_checked",
            "system",
            {"sha256": sha256, "checks": [c.as_dict() for c in checks]},
        )
    if failed:
        names = "; ".join(
            f"{c.name} ({', '.join(f'{k}={v}' for k, v in c.metadata.items())})" for c in failed
        )
        halt(db, job_id, "checks", f"blocking asset check failed: {names}")
    return failed


def recorded_checks(session: Session, job: Job) -> list[dict[str, Any]]:
    """The check outcomes recorded for the job's current dataset (the latest record)."""
    sha256 = (job.dataset or {}).get("sha256")
    row = session.scalar(
        select(AuditLog)
        .where(AuditLog.job_id == job.id, AuditLog.action == "dataset_checked")
        .order_by(AuditLog.seq.desc())
        .limit(1)
    )
    if row is None or sha256 is None or row.details.get("sha256") != sha256:
        raise Conflict(f"job {job.id}: no asset-check results recorded for its current dataset")
    checks = list(row.details.get("checks") or [])
    failed = [c["name"] for c in checks if c.get("blocking") and not c.get("passed")]
    if failed:
        raise Conflict(f"job {job.id}: blocking asset check failed: {', '.join(failed)}")
    return checks


def certify(
    db: Database, job_id: str, files: JobFiles, issuer: Issuer, *, actor: str = "system"
) -> AuditCertificate:
    """Issue the job's certificate from its recorded checks, then complete the job (a
    complete job gets a new certificate and stays complete)."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        refusal = certifiable(job)
        if refusal:
            raise Conflict(refusal)
        checks = recorded_checks(session, job)
    certificate = issue_certificate(db, job_id, files, issuer, checks=checks, actor=actor)
    with db.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job.status != JobStatus.COMPLETE:
            complete(session, job)
    return certificate


def complete(session: Session, job: Job) -> None:
    """The one place a job completes: `certify`, once the certificate row is stored."""
    transition(
        session,
        job,
        JobStatus.COMPLETE,
        actor="system",
        reason="certificate issued, dataset delivered",
    )
