"""A failure never leaves a job half-done: real Dagster runs of the refinery job.

A malformed item is dropped and counted; anything a step raises halts the job with the
step and a one-line reason, audited, with its partial files removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from aegis_assets.definitions import defs
from aegis_core import audit
from aegis_core.db.models import AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.payments.fulfilment import process_event
from aegis_core.refine import pipeline, service
from aegis_core.refine.records import Sample
from aegis_core.settings import get_settings
from aegis_sensors.stripe import run_tags
from tests.utils.payments import order_and_pay

QUESTION = "My NAS will not boot after the firmware update, what should I check first?"
ANSWER = (
    "Check the boot order in the firmware settings and make sure the system disk is still "
    "listed first."
)
ISSUE_SOURCE = [
    {"messages": []},
    {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": ANSWER}]},
]


@pytest.fixture
def refinery(db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Pay for a job on `source` and run the refinery job for it as the Stripe sensor asks."""
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()

    def run(records: list) -> tuple[str, dg.ExecuteInProcessResult]:
        source = tmp_path / "x.json"
        source.write_text(json.dumps(records))
        job_id, event_id = order_and_pay(db, source)
        with db.session() as s:
            launch = process_event(s, event_id)
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("jobs", [job_id])
            result = defs.resolve_job_def("refinery").execute_in_process(
                partition_key=job_id, instance=instance, tags=run_tags(launch), raise_on_error=False
            )
        return job_id, result

    return run


def _job_dir(job_id: str) -> Path:
    return get_settings().resolved_data_dir / "jobs" / job_id


def _last_status_change(db: Database, job_id: str) -> AuditLog:
    with db.session() as s:
        return s.scalars(
            select(AuditLog)
            .where(AuditLog.job_id == job_id, AuditLog.action == "status_change")
            .order_by(AuditLog.seq.desc())
        ).first()


def test_an_empty_conversation_is_dropped_and_the_job_completes(refinery, db: Database) -> None:
    job_id, result = refinery(ISSUE_SOURCE)
    assert result.success
    with db.session() as s:
        job = s.get(Job, job_id)
        written = s.scalars(
            select(AuditLog).where(AuditLog.job_id == job_id, AuditLog.action == "dataset_written")
        ).one()
    assert job.status == "complete" and job.dataset["rows"] == 1
    assert job.dataset["dropped"] == {"empty": 1} == written.details["dropped"]
    (row,) = [json.loads(line) for line in Path(job.output_path).read_text().splitlines()]
    assert [turn["value"] for turn in row["conversations"][1:]] == [QUESTION, ANSWER]
    meta = result.asset_materializations_for_node("refined_jsonl")[0].metadata
    assert meta["dropped"].value == {"empty": 1}
    assert not list(_job_dir(job_id).glob("*.partial"))


def _explode(*_args, **_kwargs):
    raise RuntimeError("disk on fire\n  (second line of the message)")


def _parse_then_explode(*_args, **_kwargs) -> Iterator[Sample]:
    turns = [("user", QUESTION), ("assistant", ANSWER)]
    yield Sample("1", "conversation", turns=turns)
    _explode()


@pytest.mark.parametrize(
    ("step", "target", "replacement", "asset"),
    [
        ("fetch", (service, "sniff"), _explode, "raw_sources"),
        ("parse", (service, "parse_source"), _parse_then_explode, "parsed_chunks"),
        ("refine", (pipeline, "_mask_sample"), _explode, "refined_jsonl.refine"),
    ],
)
def test_an_unexpected_exception_in_any_step_halts_the_job(
    refinery, db: Database, monkeypatch: pytest.MonkeyPatch, step, target, replacement, asset
) -> None:
    monkeypatch.setattr(*target, replacement)
    job_id, result = refinery(ISSUE_SOURCE)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == asset
    reason = f"{step}: RuntimeError: disk on fire (second line of the message)"
    with db.session() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.halt_reason) == ("halted", reason)
        assert audit.verify(s).ok
    halted = _last_status_change(db, job_id)
    assert halted.details == {
        "from_status": halted.details["from_status"],
        "to_status": "halted",
        "reason": reason,
    }
    assert halted.details["from_status"] == ("refining" if step == "refine" else "triage")
    left = sorted(p.name for p in _job_dir(job_id).iterdir()) if _job_dir(job_id).exists() else []
    assert not [name for name in left if name.endswith(".partial")]
    assert "dataset.jsonl" not in left and ("chunks.parquet" in left) == (step == "refine")


def test_a_source_with_no_surviving_sample_halts_and_leaves_no_dataset(
    refinery, db: Database
) -> None:
    job_id, result = refinery([{"messages": []}, {"messages": [{"role": "user", "content": ""}]}])
    assert not result.success
    with db.session() as s:
        job = s.get(Job, job_id)
    assert job.status == "halted"
    assert job.halt_reason == (
        "refine: no sample passed cleaning, dedup and quality filtering (dropped: 2 empty)"
    )
    assert sorted(p.name for p in _job_dir(job_id).iterdir()) == [
        "chunks.parquet",
        "pseudonym.key",
        "source.bin",
        "source.json",
    ]


def test_an_interrupted_step_halts_the_job_too(db: Database, tmp_path: Path) -> None:
    """A cancel reaches the step as an interrupt (a BaseException): the job halts as well."""
    job_id, event_id = order_and_pay(db, tmp_path / "x.json")
    with db.session() as s:
        process_event(s, event_id)
    files = service.files_for(tmp_path / "data", job_id)
    files.root.mkdir(parents=True)
    (files.root / "dataset.jsonl.partial").write_bytes(b'{"half": ')
    with pytest.raises(KeyboardInterrupt), service.halting(db, job_id, "refine", files):
        raise KeyboardInterrupt
    with db.session() as s:
        assert s.get(Job, job_id).halt_reason == "refine: KeyboardInterrupt"
    assert not (files.root / "dataset.jsonl.partial").exists()


def test_a_source_without_any_usable_record_halts_at_parse(refinery, db: Database) -> None:
    job_id, result = refinery([{"id": 1}, {"messages": "not a list"}])
    assert not result.success
    with db.session() as s:
        job = s.get(Job, job_id)
    assert (job.status, job.halt_reason) == (
        "halted",
        "parse: no usable text found in the json source (2 records, 2 records_without_text)",
    )
    assert not list(_job_dir(job_id).glob("*.partial"))
