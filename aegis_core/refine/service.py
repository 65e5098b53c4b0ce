"""A job's refinery steps: files under the job's folder, facts on the job row and in the
audit log.

A run's first step calls `start` with who asked for the run: a payment's run works only on
a job still in triage whose payment no other run has claimed (a payment starts one run,
ever); only an operator (or a manual launch) re-runs a finished or halted job. Every step
runs inside `halting`: any exception halts the job with the step and a one-line reason,
audited, and removes the step's partial files; `halt` is the same rule for a run that died
without raising (the run-status sensors call it)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import Job
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
    job's dataset, and complete the job."""
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
        complete(session, row)
    return stats


def complete(session: Session, job: Job) -> None:
    """The one place a job completes. Until the certificate asset exists, a written dataset
    completes the job (`refine` calls this); then the certificate step will."""
    transition(session, job, JobStatus.COMPLETE, actor="system", reason="dataset delivered")
