"""scored_jobs in real Dagster runs with the `openai` backend: a model's `halt` (its route,
or the governance decision on its score) halts the job with the rationale and proposes no
spend; a model that gives no valid answer halts it with the reason, never a fallback; and
one job end to end against the real llama.cpp server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from aegis_assets.definitions import defs
from aegis_core.db.models import GovernanceDecision, Job, SpendTicket
from aegis_core.db.session import Database
from aegis_core.settings import get_settings
from tests.utils import samples
from tests.utils.fake_openai import Reply, fake_chat_server
from tests.utils.llama_server import MODEL_ALIAS, RESPONSE_FORMAT
from tests.utils.spend import audit_entries, paid_job

TRIAGE_REFINE = json.dumps({"route": "refine", "reasons": ["clean support chats"]})


@pytest.fixture
def job_on(db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A paid job (no customer) on a Discord export."""
    monkeypatch.setenv("AEGIS_DATABASE_URL", db_url)
    monkeypatch.setenv("AEGIS_ALLOW_INSECURE_SOURCES", "true")
    get_settings.cache_clear()
    job_id = paid_job(db, "5.00")
    source = samples.discord_export(tmp_path / "export.json")
    with db.session() as s:
        s.get(Job, job_id).input_path = source.as_uri()
    return job_id


def _run(job_id: str, model: dict[str, Any]) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("jobs", [job_id])
        return defs.resolve_job_def("refinery").execute_in_process(
            partition_key=job_id,
            instance=instance,
            run_config={"resources": {"model": {"config": model}}},
            raise_on_error=False,
        )


def _job(db: Database, job_id: str) -> Job:
    with db.session() as s:
        return s.get(Job, job_id)


@pytest.mark.parametrize(
    ("replies", "reason"),
    [
        (
            [
                Reply(json.dumps({"route": "halt", "reasons": ["the export is a bot log"]})),
                Reply(json.dumps({"complexity": 10, "quality": 5, "rationale": "bots only"})),
            ],
            "score: triage: the export is a bot log",
        ),
        (
            [
                Reply(TRIAGE_REFINE),
                Reply(json.dumps({"complexity": 90, "quality": 80, "rationale": "tangled"})),
            ],
            "score: governance halt (complexity): ",
        ),
    ],
    ids=["route", "governance"],
)
def test_a_halt_from_the_model_or_the_governance_engine_halts_the_job(
    job_on: str, db: Database, replies: list[Reply], reason: str
) -> None:
    with fake_chat_server(*replies) as server:
        result = _run(job_on, {"backend": "openai", "base_url": server.url, "retries": 0})
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "scored_jobs"
    job = _job(db, job_on)
    assert job.status == "halted" and job.halt_reason.startswith(reason)
    assert (job.model_backend, job.model_name) == ("openai", "aegis-14b")
    with db.session() as s:
        (decision,) = s.scalars(
            select(GovernanceDecision).where(GovernanceDecision.job_id == job_on)
        )
        assert decision.customer_id is None  # the owner is an access token, not a customer
        assert not s.scalars(select(SpendTicket).where(SpendTicket.job_id == job_on)).all()
    (scored,) = audit_entries(db, job_on, "scored")
    assert scored.actor == "agent" and scored.details["outcome"] == "halt"
    assert scored.details["decision_id"] == decision.id
    assert scored.details["status"] == decision.status
    if "governance" in reason:
        assert decision.status == "halt" and job.complexity_score == 0.9
        assert decision.record["gates"]["complexity"]["value"] == pytest.approx(0.1)


def test_no_valid_answer_halts_the_job_with_the_reason(job_on: str, db: Database) -> None:
    with fake_chat_server(Reply("this is not JSON")) as server:
        result = _run(job_on, {"backend": "openai", "base_url": server.url, "retries": 1})
    assert not result.success and len(server.requests) == 2
    job = _job(db, job_on)
    assert job.status == "halted"
    assert job.halt_reason.startswith(
        "score: ModelError: openai model: triage failed after 2 attempts: answer is not JSON"
    )
    assert job.model_backend is None and not audit_entries(db, job_on, "scored")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # ~25 s of model answers a run
def test_one_job_through_the_openai_backend_and_a_real_model_server(
    job_on: str, db: Database, llama_base_url: str
) -> None:
    model = {
        "backend": "openai",
        "base_url": llama_base_url,
        "model": MODEL_ALIAS,
        "response_format": RESPONSE_FORMAT,
        "timeout_s": 60.0,
    }
    result = _run(job_on, model)
    job = _job(db, job_on)
    assert (job.model_backend, job.model_name) == ("openai", MODEL_ALIAS)
    (scored,) = audit_entries(db, job_on, "scored")
    assert scored.details["model_backend"] == "openai" and 0 <= job.complexity_score <= 1
    # The engine's rule on the model's score decides: complexity above 0.5 halts the job.
    halts = 1 - job.complexity_score < 0.5
    assert scored.details["status"] == "halt" if halts else scored.details["status"] != "halt"
    assert result.success != halts and job.status == ("halted" if halts else "complete")
    if not halts:
        meta = result.asset_materializations_for_node("scored_jobs")[0].metadata
        assert meta["model_backend"].value == "openai" and meta["model_id"].value == MODEL_ALIAS
        assert Path(job.output_path).read_text().count("\n") == job.dataset["rows"]
