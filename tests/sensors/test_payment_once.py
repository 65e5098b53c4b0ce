"""A payment starts one run, ever: `aegis demo` and the daemon's Stripe sensor on one
instance, in either order; replays from an empty cursor; a second run for one payment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from aegis_assets.definitions import defs
from aegis_cli import demo_cmd
from aegis_core.db.models import Job, Payment
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_event, process_events
from aegis_core.refine import service
from aegis_core.settings import get_settings
from aegis_sensors.stripe import run_tags
from tests.utils import samples
from tests.utils.daemon import rewind, sensor_daemon, sensor_state
from tests.utils.payments import audit_trail, order_and_pay
from tests.utils.stripe_events import SECRET, checkout_completed, signed


@pytest.fixture
def source(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()
    return samples.discord_export(tmp_path / "export.json")


@pytest.fixture
def daemon(source: Path):
    """An instance whose runs execute as soon as the daemon launches them, and its `tick`."""
    with (
        dg.instance_for_test(
            synchronous_run_coordinator=True, synchronous_run_launcher=True
        ) as instance,
        sensor_daemon(instance) as tick,
    ):
        yield instance, tick


def _demo_pays(db: Database, source: Path) -> tuple[str, str]:
    return demo_cmd.order_and_pay(db, get_settings(), source.as_uri(), "Support", "sharegpt")


def _runs(instance: dg.DagsterInstance, job_id: str) -> list[dg.DagsterRun]:
    return instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": job_id}))


def _statuses(db: Database, *job_ids: str) -> list[str]:
    with db.session() as s:
        return [s.get(Job, job_id).status for job_id in job_ids]


def test_demo_then_daemon_processes_each_payment_once(daemon, db: Database, source: Path) -> None:
    instance, tick = daemon
    other, _ = order_and_pay(db, source)  # another customer paid; the sensor has not run yet
    job_id, event_id = _demo_pays(db, source)
    assert demo_cmd.fulfil_and_run(instance, db, job_id, event_id)
    (demo_run,) = _runs(instance, job_id)
    assert demo_run.tags["dagster/run_key"] == event_id
    assert _statuses(db, job_id, other) == ["complete", "awaiting_payment"]  # not the demo's
    demo_trail = [entry for entry in audit_trail(db) if entry[1] == job_id]
    tick()  # the daemon's sensor reads both events
    assert [r.run_id for r in _runs(instance, job_id)] == [demo_run.run_id]
    assert [entry for entry in audit_trail(db) if entry[1] == job_id] == demo_trail
    (other_run,) = _runs(instance, other)
    assert other_run.status == dg.DagsterRunStatus.SUCCESS
    assert _statuses(db, job_id, other) == ["complete", "complete"]
    cursor = sensor_state(instance, "stripe_payments_sensor").instigator_data.cursor
    # Replaying every stored event from an empty cursor changes no job and runs nothing.
    trail, runs = audit_trail(db), len(instance.get_runs())
    rewind(instance, "stripe_payments_sensor")
    tick()
    assert sensor_state(instance, "stripe_payments_sensor").instigator_data.cursor == cursor
    assert audit_trail(db) == trail and len(instance.get_runs()) == runs


def test_daemon_then_demo_processes_each_payment_once(
    daemon, db: Database, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance, tick = daemon
    job_id, event_id = _demo_pays(db, source)
    tick()  # the daemon's sensor takes the payment before the demo fulfils it
    (daemon_run,) = _runs(instance, job_id)
    assert daemon_run.status == dg.DagsterRunStatus.SUCCESS
    assert daemon_run.tags["dagster/sensor_name"] == "stripe_payments_sensor"
    trail = audit_trail(db)
    assert demo_cmd.fulfil_and_run(instance, db, job_id, event_id)
    assert (
        f"by the Dagster daemon's sensor first: run {daemon_run.run_id}" in capsys.readouterr().out
    )
    assert audit_trail(db) == trail
    tick()
    assert [r.run_id for r in _runs(instance, job_id)] == [daemon_run.run_id]
    assert _statuses(db, job_id) == ["complete"] and audit_trail(db) == trail


def _execute(instance: dg.DagsterInstance, launch) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("jobs", [launch.job_id])
    return defs.resolve_job_def("refinery").execute_in_process(
        partition_key=launch.job_id, instance=instance, tags=run_tags(launch)
    )


def test_a_second_run_for_one_payment_does_nothing(db: Database, source: Path) -> None:
    """Even when Dagster launches it (a run key lost, a re-execution): while the first run
    holds the job in triage, and after the job completed."""
    job_id, event_id = order_and_pay(db, source)
    with db.session() as s:
        launch = process_event(s, event_id)
    first = service.Trigger("stripe", "run-launched-elsewhere", event_id)
    assert service.start(db, job_id, first) is not None  # another run holds the payment
    trail = audit_trail(db)
    with dg.instance_for_test() as instance:
        second = _execute(instance, launch)
        assert second.success and not second.asset_materializations_for_node("raw_sources")
        assert _statuses(db, job_id) == ["triage"] and audit_trail(db) == trail
        with db.session() as s:  # as if that other run had never existed
            s.execute(update(Payment).where(Payment.job_id == job_id).values(run_id=None))
        assert _execute(instance, launch).success  # now the one run of this payment
        assert _statuses(db, job_id) == ["complete"]
        trail = audit_trail(db)
        again = _execute(instance, launch)
        assert not again.asset_materializations_for_node("refined_jsonl")
    assert _statuses(db, job_id) == ["complete"] and audit_trail(db) == trail


def test_only_an_operator_reruns_a_finished_job(db: Database, source: Path) -> None:
    job_id, event_id = order_and_pay(db, source)
    with db.session() as s:
        s.get(Job, job_id).status = "halted"
    assert service.start(db, job_id, service.Trigger("stripe", "r1", event_id)) is None
    assert _statuses(db, job_id) == ["halted"]
    job = service.start(db, job_id, service.Trigger("operator:process", "r2"))
    assert job is not None and _statuses(db, job_id) == ["triage"]


def test_replaying_every_event_changes_no_job(
    db: Database, db_url: str, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paid, unpaid-then-expired, wrong-amount and unknown-job events, all processed and the
    paid jobs completed; then everything again from an empty cursor."""
    monkeypatch.setenv("AEGIS_STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("AEGIS_ADMIN_KEY", "ops-key-for-tests")
    get_settings.cache_clear()
    from api.main import create_app

    with TestClient(create_app()) as client:
        jobs = []
        for _ in range(4):
            body = client.post(
                "/jobs/", json={"source_url": source.as_uri(), "description": "pairs"}
            ).json()
            jobs.append((body["job_id"], body["checkout_session_id"]))
        events = [
            checkout_completed(*jobs[0]),
            checkout_completed(*jobs[1]),
            checkout_completed(*jobs[1]),  # a second event for the same session
            checkout_completed(*jobs[2], event_type="checkout.session.expired"),
            checkout_completed(*jobs[3], amount=1),
        ]
        for event in events:
            payload, headers = signed(event)
            assert (
                client.post("/webhooks/stripe", content=payload, headers=headers).status_code == 200
            )
    with db.session() as s:
        launches = process_events(s, after=0).launches
    assert sorted(launch.job_id for launch in launches) == sorted([jobs[0][0], jobs[1][0]])
    with dg.instance_for_test() as instance:
        for launch in launches:
            assert _execute(instance, launch).success
        ids = [job_id for job_id, _ in jobs]
        assert _statuses(db, *ids) == ["complete", "complete", "halted", "awaiting_payment"]
        trail = audit_trail(db)
        with db.session() as s:
            assert process_events(s, after=0).launches == []
        for launch in launches:  # and if runs were launched anyway
            _execute(instance, launch)
    assert _statuses(db, *ids) == ["complete", "complete", "halted", "awaiting_payment"]
    assert audit_trail(db) == trail
