"""The refinery assets materialized per job partition on a real Dagster instance."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from aegis_assets.definitions import defs
from aegis_assets.partitions import job_partitions
from aegis_assets.refinery import ASSETS
from aegis_core import audit
from aegis_core.db.models import AuditLog, Job
from aegis_core.db.session import Database
from aegis_core.jobs import create_job, transition
from aegis_core.refine.formats import row_turns, validate
from aegis_core.settings import get_settings
from resources.database import DatabaseResource
from resources.gate import GateResource
from resources.model import AegisModelResource
from resources.refinery import RefineryResource
from tests.utils import samples


@pytest.fixture
def paid_job(db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    get_settings.cache_clear()

    def make(source: Path, fmt: str = "sharegpt") -> str:
        with db.session() as s:
            job = create_job(
                s,
                source_url=source.as_uri(),
                description="Support dataset",
                output_format=fmt,
                auto_approve_threshold=Decimal("5"),
                actor="customer",
            )
            transition(s, job, "triage", actor="stripe")
            return job.id

    return make


def _materialize(job_id: str, db_url: str, tmp_path: Path, **resource_options):
    resources = {
        "database": DatabaseResource(url=db_url),
        "refinery": RefineryResource(
            data_dir=str(tmp_path / "data"), allow_insecure_sources=True, **resource_options
        ),
        "model": AegisModelResource(),
        "gate": GateResource(),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(job_partitions.name, [job_id])
        return dg.materialize(
            ASSETS,
            partition_key=job_id,
            instance=instance,
            resources=resources,
            raise_on_error=False,
        )


@pytest.mark.parametrize(
    ("maker", "fmt", "detected"),
    [
        (samples.discord_export, "sharegpt", "discord"),
        (samples.html_page, "chatml", "html"),
        (samples.pdf_doc, "sharegpt", "pdf"),
        (samples.jsonl_records, "chatml", "jsonl"),
        (samples.json_records, "sharegpt", "json"),
        (samples.markdown_doc, "chatml", "markdown"),
    ],
)
def test_each_format_refines_to_valid_jsonl(
    paid_job, db: Database, db_url: str, tmp_path: Path, maker, fmt: str, detected: str
) -> None:
    job_id = paid_job(maker(tmp_path / f"source.{detected}"), fmt)
    result = _materialize(job_id, db_url, tmp_path)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    raw_meta = result.asset_materializations_for_node("raw_sources")[0].metadata
    assert raw_meta["detected_format"].value == detected
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "valid_for_format": True,
        "no_pii_left": True,
        "has_rows": True,
        "no_duplicate_rows": True,
    }
    certificate = result.asset_materializations_for_node("audit_certificate")[0].metadata
    assert certificate["verdict"].value == "pass"
    with db.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "complete" and job.dataset["rows"] > 0
        assert certificate["dataset_sha256"].value == job.dataset["sha256"]
        lines = Path(job.output_path).read_text().splitlines()
        assert audit.verify(s).ok
        actions = [r.action for r in s.scalars(select(AuditLog).where(AuditLog.job_id == job_id))]
    assert {"source_fetched", "source_parsed", "dataset_written", "certificate_issued"} <= set(
        actions
    )
    key = "conversations" if fmt == "sharegpt" else "messages"
    for line in lines:  # loaded as trainers load them
        row = json.loads(line)
        assert list(row) == [key]
        turns = row_turns(row)
        validate(turns)
        assert turns[0] == ("system", "Support dataset")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b'{"records": [1, 2', "invalid JSON"),
        (b"%PDF-1.4\n%%EOF garbage that is not a pdf", "PDF"),
        (b"x" * 3000, "limit"),
    ],
)
def test_bad_sources_halt_the_job_with_a_reason(
    paid_job, db: Database, db_url: str, tmp_path: Path, content: bytes, reason: str
) -> None:
    source = tmp_path / "bad"
    source.write_bytes(content)
    job_id = paid_job(source)
    result = _materialize(job_id, db_url, tmp_path, max_source_bytes=2048)
    assert not result.success
    with db.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "halted" and reason in job.halt_reason
        halted = s.scalars(
            select(AuditLog).where(AuditLog.job_id == job_id, AuditLog.action == "status_change")
        ).all()[-1]
        assert halted.details["to_status"] == "halted" and reason in halted.details["reason"]


def test_unpaid_job_does_not_run(db: Database, db_url: str, tmp_path: Path, monkeypatch) -> None:
    with db.session() as s:
        job = create_job(
            s,
            source_url="https://example.com/x",
            description="d",
            output_format="chatml",
            auto_approve_threshold=Decimal("1"),
            actor="customer",
        )
    result = _materialize(job.id, db_url, tmp_path)
    assert not result.success
    with db.session() as s:
        assert s.get(Job, job.id).status == "awaiting_payment"


def test_job_partitions_the_refinery() -> None:
    assert defs.get_repository_def().get_job("refinery").partitions_def == job_partitions
