"""A job's refinery steps: files under the job's folder, facts on the job row and in the
audit log. Any `SourceRefused` halts the job with its reason before it propagates."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aegis_core import audit
from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.errors import Conflict, NotFound, SourceRefused
from aegis_core.jobs import JobStatus, transition
from aegis_core.refine import chunks_io, pipeline
from aegis_core.refine.fetch import FetchResult, fetch
from aegis_core.refine.parsers import parse_source
from aegis_core.refine.sniff import sniff

RESTARTABLE = (JobStatus.COMPLETE, JobStatus.HALTED)


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

    def salt(self) -> str:
        """Per-job pseudonym key: stable across re-runs, never derivable from ids."""
        path = self.root / "pseudonym.key"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()


def files_for(data_dir: Path, job_id: str) -> JobFiles:
    return JobFiles(data_dir / "jobs" / job_id)


@contextmanager
def halting_on_refusal(db: Database, job_id: str, step: str) -> Iterator[None]:
    try:
        yield
    except SourceRefused as exc:
        with db.session() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status != JobStatus.HALTED:
                transition(session, job, JobStatus.HALTED, actor="system", reason=f"{step}: {exc}")
        raise


def start(db: Database, job_id: str, actor: str = "system") -> Job:
    """The job, moved back to triage if an operator re-runs a finished or halted job."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status == JobStatus.AWAITING_PAYMENT:
            raise Conflict(f"job {job_id} is not paid; the refinery does not run")
        if job.status in RESTARTABLE:
            transition(session, job, JobStatus.TRIAGE, actor=actor, reason="re-run requested")
        return job


def fetch_source(
    db: Database,
    job: Job,
    files: JobFiles,
    *,
    max_bytes: int,
    allow_insecure: bool,
    **fetch_options: Any,
) -> dict[str, Any]:
    with halting_on_refusal(db, job.id, "fetch"):
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
    with halting_on_refusal(db, job.id, "parse"):
        samples = parse_source(
            files.source, info["detected_format"], salt=files.salt(), stats=stats
        )
        count = chunks_io.write_samples(samples, files.chunks)
        if count == 0:
            raise SourceRefused(f"no usable text found in the {info['detected_format']} source")
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
) -> pipeline.RefineStats:
    with db.session() as session:
        row = session.get(Job, job.id)
        if row.status != JobStatus.REFINING:
            transition(session, row, JobStatus.REFINING, actor="system")
    repeated = pipeline.learn_repeated_lines(chunks_io.read_document_texts(files.chunks))
    with halting_on_refusal(db, job.id, "refine"):
        stats = pipeline.refine(
            chunks_io.read_samples(files.chunks),
            description=job.description,
            fmt=job.output_format,
            out_path=files.dataset,
            quality_threshold=quality_threshold,
            repeated=repeated,
            on_progress=on_progress,
        )
        if stats.rows == 0:
            raise SourceRefused("no sample passed cleaning, dedup and quality filtering")
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
        # Until the certificate asset exists, a written dataset completes the job.
        transition(session, row, JobStatus.COMPLETE, actor="system", reason="dataset delivered")
    return stats
