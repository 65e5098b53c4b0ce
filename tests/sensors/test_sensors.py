"""The sensors against a real Dagster instance: partitions, run requests, restarts."""

from __future__ import annotations

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from aegis_assets.definitions import defs
from aegis_assets.partitions import job_partitions
from aegis_core.db.session import Database
from aegis_core.settings import get_settings
from aegis_sensors.operator import operator_requests_sensor
from aegis_sensors.stripe import stripe_payments_sensor
from resources.database import DatabaseResource
from tests.utils.completed_job import finish_job
from tests.utils.stripe_events import SECRET, checkout_completed, signed


@pytest.fixture
def client(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("AEGIS_ADMIN_KEY", "ops-key-for-tests")
    get_settings.cache_clear()
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def _tick(sensor, instance: dg.DagsterInstance, db_url: str, cursor: str | None):
    """One evaluation, applying its partition requests as the daemon would."""
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        resources={"database": DatabaseResource(url=db_url)},
    ) as ctx:
        result = sensor(ctx)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def _pay(client: TestClient, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        body = client.post(
            "/jobs/", json={"source_url": "https://93.184.215.14/d.json", "description": "pairs"}
        ).json()
        event = checkout_completed(body["job_id"], body["checkout_session_id"])
        payload, headers = signed(event)
        for _ in range(2):  # Stripe may deliver twice
            client.post("/webhooks/stripe", content=payload, headers=headers)
        ids.append(body["job_id"])
    return ids


def test_stripe_sensor_adds_partitions_and_requests_runs(client, db: Database, db_url) -> None:
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(stripe_payments_sensor, instance, db_url, None), dg.SkipReason)
        job_ids = _pay(client, 3)
        result = _tick(stripe_payments_sensor, instance, db_url, None)
        assert sorted(r.partition_key for r in result.run_requests) == sorted(job_ids)
        assert all(r.run_key.startswith("evt_") for r in result.run_requests)
        assert stripe_payments_sensor.job_name == "refinery"
        assert sorted(instance.get_dynamic_partitions(job_partitions.name)) == sorted(job_ids)
        # A restart resumes from the saved cursor: nothing repeated...
        again = _tick(stripe_payments_sensor, instance, db_url, result.cursor)
        assert isinstance(again, dg.SkipReason)
        # ...and nothing lost: payments after the restart are picked up.
        later = _pay(client, 2)
        resumed = _tick(stripe_payments_sensor, instance, db_url, result.cursor)
        assert sorted(r.partition_key for r in resumed.run_requests) == sorted(later)
        assert len(instance.get_dynamic_partitions(job_partitions.name)) == 5


def test_stripe_sensor_rewound_cursor_reasks_with_same_run_keys(client, db_url) -> None:
    """A crash after the DB commit but before the cursor was saved repeats the tick; the
    same run keys come back, which Dagster launches only once."""
    with dg.instance_for_test() as instance:
        _pay(client, 2)
        first = _tick(stripe_payments_sensor, instance, db_url, None)
        replay = _tick(stripe_payments_sensor, instance, db_url, None)
        assert {r.run_key for r in replay.run_requests} == {r.run_key for r in first.run_requests}


def test_operator_sensor_launches_each_request_once(client, db: Database, db_url) -> None:
    from aegis_core.payments.fulfilment import process_events

    (job_id,) = _pay(client, 1)
    with db.session() as s:
        process_events(s, after=0)
    headers = {"X-Admin-Key": "ops-key-for-tests"}
    first = client.post(f"/jobs/{job_id}/process", headers=headers).json()
    with dg.instance_for_test() as instance:
        result = _tick(operator_requests_sensor, instance, db_url, None)
        assert [r.run_key for r in result.run_requests] == [first["request_id"]]
        assert result.run_requests[0].tags["aegis/trigger"] == "operator:process"
        assert instance.get_dynamic_partitions(job_partitions.name) == [job_id]
        assert isinstance(
            _tick(operator_requests_sensor, instance, db_url, result.cursor), dg.SkipReason
        )
        assert result.run_requests[0].asset_selection is None  # the whole refinery
        # `complete` re-issues the certificate of a complete job: that one asset runs.
        assert client.post(f"/jobs/{job_id}/complete", headers=headers).status_code == 409
        finish_job(db, get_settings().resolved_data_dir, job_id)
        second = client.post(f"/jobs/{job_id}/complete", headers=headers).json()
        later = _tick(operator_requests_sensor, instance, db_url, result.cursor)
        assert [r.run_key for r in later.run_requests] == [second["request_id"]]
        assert later.run_requests[0].asset_selection == [dg.AssetKey("audit_certificate")]
        assert later.run_requests[0].tags["aegis/trigger"] == "operator:complete"


def test_definitions_load_with_sensors_and_partitions() -> None:
    repo = defs.get_repository_def()
    assert {s.name for s in repo.sensor_defs} == {
        "stripe_payments_sensor",
        "operator_requests_sensor",
        "refinery_run_failed_sensor",
        "refinery_run_canceled_sensor",
    }
    assert repo.has_job("refinery")
