"""What every refinery step shares: partitions and group, who asked for the run, and how a
step fails (it halts the job first).

Each step runs inside `service.halting`: whatever it raises halts the job with the step and
a one-line reason (audited, partial files removed) before Dagster sees the failure. A step
given `retries` is first retried by Dagster on an unexpected error (not a domain error),
the job untouched; only its last attempt halts the job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from aegis_assets.jobs import REFINERY_GROUP
from aegis_assets.partitions import job_partitions
from aegis_core.db.session import Database
from aegis_core.errors import AegisError
from aegis_core.refine import service
from resources.database import DatabaseResource
from resources.refinery import RefineryResource

COMMON = {"partitions_def": job_partitions, "group_name": REFINERY_GROUP}
# Dagster step key -> the job's step named in a halt reason.
STEPS = {
    "raw_sources": "fetch",
    "parsed_chunks": "parse",
    "scored_jobs": "score",
    "refined_jsonl.human_gate": "gate",
    "refined_jsonl.refine": "refine",
    "audit_certificate": "certificate",
}


def trigger(run: dg.DagsterRun) -> service.Trigger:
    """Who asked for the run, from the tags the sensors set."""
    return service.Trigger(
        kind=run.tags.get("aegis/trigger", "system"),
        run_id=run.run_id,
        event_id=run.tags.get("aegis/stripe_event"),
    )


@contextmanager
def step(
    context: dg.OpExecutionContext,
    name: str,
    database: DatabaseResource,
    refinery: RefineryResource,
    *,
    retries: int = 0,
    retry_delay_s: float = 0.0,
) -> Iterator[tuple[Database, service.JobFiles]]:
    """The job's database and files for one step; see the module docstring."""
    job_id = context.partition_key
    db, files = database.get(), refinery.files(job_id)
    try:
        try:
            yield db, files
        except Exception as exc:
            if context.retry_number < retries and not isinstance(exc, AegisError):
                context.log.warning(
                    f"{name}: {service.one_line(exc)}; retry {context.retry_number + 1} of "
                    f"{retries} in {retry_delay_s:g} s"
                )
                raise dg.RetryRequested(max_retries=retries, seconds_to_wait=retry_delay_s) from exc
            with service.halting(db, job_id, name, files):
                raise
        except GeneratorExit:
            raise
        except BaseException:  # an interrupted run (a cancel) halts the job too
            with service.halting(db, job_id, name, files):
                raise
    except (dg.RetryRequested, dg.Failure):
        raise
    except Exception as exc:
        reason = service.one_line(exc)
        raise dg.Failure(description=f"{name}: {reason}", metadata={"reason": reason}) from exc
