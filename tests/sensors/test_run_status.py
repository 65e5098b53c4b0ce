"""A run that ends without its job noticing halts the job: the run-status sensors, ticked
by the daemon's own sensor loop against a real instance."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from aegis_assets.definitions import defs
from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_event
from aegis_core.refine import pipeline, service
from aegis_core.settings import get_settings
from aegis_sensors.stripe import run_tags
from tests.utils import samples
from tests.utils.daemon import sensor_daemon
from tests.utils.payments import audit_trail, order_and_pay


@pytest.fixture
def daemon(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The instance and the daemon's `tick`, its code server seeing this test's settings."""
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()
    with dg.instance_for_test() as instance, sensor_daemon(instance) as tick:
        tick()  # a run-status sensor's first tick only sets its cursor to "now"
        yield instance, tick


def _paid_job(db: Database, tmp_path: Path):
    job_id, event_id = order_and_pay(db, samples.discord_export(tmp_path / "export.json"))
    with db.session() as s:
        launch = process_event(s, event_id)
    return job_id, launch


def _queued_run(instance: dg.DagsterInstance, launch) -> dg.DagsterRun:
    """A run for the job created as the daemon creates it, not started yet."""
    job = defs.resolve_job_def("refinery")
    return instance.create_run_for_job(
        job_def=job,
        tags={**run_tags(launch), "dagster/partition": launch.job_id},
        status=dg.DagsterRunStatus.NOT_STARTED,
    )


def _status(db: Database, job_id: str) -> tuple[str, str | None]:
    with db.session() as s:
        job = s.get(Job, job_id)
        return job.status, job.halt_reason


@contextmanager
def _steps_that_cannot_halt() -> Iterator[None]:
    """As if the run worker died mid-step: the step's own halt never happens."""
    original = service.halting

    @contextmanager
    def silent(*_args, **_kwargs) -> Iterator[None]:
        yield

    service.halting = silent
    try:
        yield
    finally:
        service.halting = original


def test_a_run_that_failed_without_its_step_noticing_halts_the_job(
    daemon, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance, tick = daemon
    job_id, launch = _paid_job(db, tmp_path)

    def disk_error(*_args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pipeline, "_mask_sample", disk_error)
    instance.add_dynamic_partitions("jobs", [job_id])
    with _steps_that_cannot_halt():
        result = defs.resolve_job_def("refinery").execute_in_process(
            partition_key=job_id, instance=instance, tags=run_tags(launch), raise_on_error=False
        )
    assert not result.success
    assert _status(db, job_id) == ("refining", None)  # stuck, as before the sensors
    job_dir = get_settings().resolved_data_dir / "jobs" / job_id
    assert (job_dir / "dataset.jsonl.partial").exists()
    tick()
    status, reason = _status(db, job_id)
    assert status == "halted"
    assert reason.startswith(f"refine: run {result.run_id} failed: ")
    assert "\n" not in reason and "refined_jsonl" in reason
    assert not list(job_dir.glob("*.partial"))
    before = audit_trail(db)
    tick()  # the same failure is not handled twice
    assert audit_trail(db) == before


def test_a_canceled_run_halts_its_job(daemon, db: Database, tmp_path: Path) -> None:
    instance, tick = daemon
    job_id, launch = _paid_job(db, tmp_path)
    run = _queued_run(instance, launch)
    instance.report_run_canceled(run, "canceled from the UI")
    tick()
    assert _status(db, job_id) == (
        "halted",
        f"run: run {run.run_id} was canceled: canceled from the UI",
    )


def test_a_job_with_another_live_run_is_left_to_that_run(
    daemon, db: Database, tmp_path: Path
) -> None:
    instance, tick = daemon
    job_id, launch = _paid_job(db, tmp_path)
    first, second = _queued_run(instance, launch), _queued_run(instance, launch)
    instance.report_run_failed(first, "Run execution process exited unexpectedly (SIGKILL)")
    tick()
    assert _status(db, job_id) == ("triage", None)
    instance.report_run_canceled(second)
    tick()
    assert _status(db, job_id)[0] == "halted"


def test_a_failed_run_of_a_finished_job_changes_nothing(
    daemon, db: Database, tmp_path: Path
) -> None:
    instance, tick = daemon
    job_id, launch = _paid_job(db, tmp_path)
    instance.add_dynamic_partitions("jobs", [job_id])
    assert (
        defs.resolve_job_def("refinery")
        .execute_in_process(partition_key=job_id, instance=instance, tags=run_tags(launch))
        .success
    )
    before = audit_trail(db)
    instance.report_run_failed(_queued_run(instance, launch), "lost")
    tick()
    assert _status(db, job_id) == ("complete", None) and audit_trail(db) == before
