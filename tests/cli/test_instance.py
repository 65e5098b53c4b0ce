"""The Dagster instance aegis writes into DAGSTER_HOME is the one Dagster really loads: the
shipped run queue (per-job limit), run monitoring, and SQLite or PostgreSQL storage where a
run executes and is recorded."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml

from aegis_cli import instance
from aegis_core.settings import get_settings


@dg.op
def _one() -> int:
    return 1


@dg.job(tags={"aegis/job_id": "job-1"})
def _tiny() -> None:
    _one()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default DAGSTER_HOME (<AEGIS_HOME>/dagster); restored after the test."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # recorded: prepare() sets it
    monkeypatch.delenv(instance.PG_URL_ENV, raising=False)
    return tmp_path / ".aegis" / "dagster"


def _execute_tiny() -> tuple[dg.DagsterInstance, str]:
    inst = dg.DagsterInstance.get()
    result = _tiny.execute_in_process(instance=inst)
    assert result.success
    return inst, result.run_id


def test_the_embedded_default_runs_on_sqlite_with_the_shipped_run_queue(home: Path) -> None:
    assert instance.prepare(get_settings()) == home.resolve()
    config = (home / "dagster.yaml").read_text()
    assert config.startswith(instance.MARKER) and "storage" not in yaml.safe_load(config)
    inst, run_id = _execute_tiny()
    with inst:
        queue = inst.get_concurrency_config().run_queue_config
        assert type(inst.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert queue.max_concurrent_runs == 8
        assert queue.tag_concurrency_limits == [
            {"key": "aegis/job_id", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert inst.run_monitoring_enabled
        assert inst.get_run_by_id(run_id).tags["aegis/job_id"] == "job-1"
    assert (home / "history" / "runs.db").is_file()


def test_with_a_postgres_url_runs_events_and_schedules_are_stored_there(
    home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(instance.PG_URL_ENV, pg_url)  # a plain postgresql:// URL
    instance.prepare(get_settings())
    assert "postgres_url:\n      env: AEGIS_DAGSTER_PG_URL" in (home / "dagster.yaml").read_text()
    assert pg_url.split("@")[-1] not in (home / "dagster.yaml").read_text()  # no URL on disk
    inst, run_id = _execute_tiny()
    with inst:
        for storage in (inst.run_storage, inst.event_log_storage, inst.schedule_storage):
            assert type(storage).__module__.startswith("dagster_postgres"), storage
        inst.add_dynamic_partitions("jobs", ["job-1"])
    with psycopg.connect(pg_url) as conn:
        (runs,) = conn.execute("SELECT count(*) FROM runs WHERE run_id = %s", (run_id,)).fetchone()
        (events,) = conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s", (run_id,)
        ).fetchone()
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables").fetchall()}
    assert runs == 1 and events > 0 and {"jobs", "job_ticks", "instigators"} <= tables
    assert not (home / "history").exists()


def test_the_aegis_database_cannot_be_dagsters_too(
    home: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AEGIS_DATABASE_URL", pg_url)
    monkeypatch.setenv(
        instance.PG_URL_ENV, pg_url.replace("postgresql://", "postgresql+psycopg://")
    )
    get_settings.cache_clear()
    with pytest.raises(instance.InstanceConfigError, match="database of its own"):
        instance.prepare(get_settings())


def test_a_users_own_instance_config_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = tmp_path / "their-dagster"
    theirs.mkdir()
    (theirs / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(theirs))
    monkeypatch.delenv(instance.PG_URL_ENV, raising=False)
    assert instance.prepare(get_settings()) == theirs.resolve()
    assert (theirs / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_a_written_config_follows_the_storage_setting(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance.prepare(get_settings())
    monkeypatch.setenv(instance.PG_URL_ENV, "postgresql://dagster@db.internal/dagster")
    instance.prepare(get_settings())
    assert "postgres:" in (home / "dagster.yaml").read_text()
    monkeypatch.delenv(instance.PG_URL_ENV)
    instance.prepare(get_settings())
    assert "postgres:" not in (home / "dagster.yaml").read_text()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgresql://u:p%40w@h:6543/d?sslmode=require",
            "postgresql+psycopg2://u:p%40w@h:6543/d?sslmode=require",
        ),
        ("postgresql+psycopg://h/d", "postgresql+psycopg2://h/d"),
        ("postgresql+psycopg2://h/d", "postgresql+psycopg2://h/d"),
    ],
)
def test_dagster_gets_the_psycopg2_driver(given: str, used: str) -> None:
    assert instance.dagster_pg_url(given) == used
