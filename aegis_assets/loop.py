"""The Aegis loop in the job's graph: the `scored_jobs` asset and the `human_gate` op.

`scored_jobs` (after `parsed_chunks`): triage, score, route and propose through the model
resource, the governance decision and the spend tickets (`aegis_core.loop.scoring`); a
`halt` route or decision halts the job with the rationale.
`human_gate` (the first op of `refined_jsonl`'s graph): waits for a person's decision on
the job's spend tickets (`aegis_core.loop.gate.pass_gate`), polling at the gate resource's
interval, logging in the run; the job is `awaiting_gate` meanwhile. Approved tickets are
executed exactly once (claimed by this run; OCR done here where tesseract is installed,
else a test stub); a rejection or a timeout halts the job with the reason and fails the
run. An unexpected error is retried (GATE_RETRIES, a poll interval apart) before the job
halts: a retry of the same run takes its own execution claim over at once.
"""

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from aegis_assets.steps import COMMON, step
from aegis_core.loop import gate as loop_gate
from aegis_core.loop import scoring, tickets
from aegis_core.refine import service
from aegis_core.settings import get_settings
from resources.database import DatabaseResource
from resources.gate import GateResource
from resources.model import AegisModelResource
from resources.refinery import RefineryResource

GATE_RETRIES = 2
PROGRESS_EVERY_S = 60.0


def tickets_markdown(views: list[dict[str, Any]]) -> str:
    if not views:
        return "_no spend proposed_"
    rows = [
        f"| {t['id']} | {t['kind']} | {t['units']} | ${t['amount']} | {t['status']} | "
        f"{t['decided_by'] or ''} |"
        for t in views
    ]
    head = "| ticket | kind | units | amount | status | decided by |"
    return "\n".join([head, "| --- " * 6 + "|", *rows])


def _score_metadata(scored: scoring.Scored) -> dict[str, Any]:
    d = scored.decision
    return {
        "complexity_score": dg.MetadataValue.float(scored.score.complexity_score),
        "quality": dg.MetadataValue.float(scored.score.quality),
        "route": scored.triage.route,
        "triage_reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in scored.triage.reasons)),
        "score_rationale": dg.MetadataValue.text(scored.score.rationale),
        "model_backend": scored.score.backend,
        "model_id": scored.score.model_id,
        "estimated_cost": dg.MetadataValue.float(float(scored.estimated_cost)),
        "projected_spend": dg.MetadataValue.float(float(scored.projected_spend)),
        "features": dg.MetadataValue.json(scored.features.as_dict()),
        "decision_status": d["status"],
        "decision": dg.MetadataValue.json(
            {
                "decision_id": d["decision_id"],
                "status": d["status"],
                "gates_passed": d["gates_passed"],
                "gates_failed": d["gates_failed"],
                "failing_gates": d["failing_gates"],
                "rationale": d["rationale"],
            }
        ),
        "spend_tickets": dg.MetadataValue.md(tickets_markdown(scored.tickets)),
        "awaiting_approval": dg.MetadataValue.int(
            sum(t["status"] == tickets.T.PROPOSED for t in scored.tickets)
        ),
    }


@dg.asset(
    **COMMON,
    deps=["parsed_chunks"],
    description=(
        "Aegis triage and score (complexity, quality, route), the governance decision on the "
        "job's proposal, and its spend tickets under POLICY-DATA-REFINE-01."
    ),
)
def scored_jobs(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    refinery: RefineryResource,
    model: AegisModelResource,
) -> dg.MaterializeResult:
    """Score the job with the configured model backend and govern its proposal."""
    with step(context, "score", database, refinery) as (db, files):
        service.current(db, context.partition_key)
        aegis = model.get()
        try:
            scored = scoring.score_job(db, context.partition_key, files, aegis, get_settings())
        finally:
            aegis.close()
        context.log.info(
            f"{scored.score.backend} ({scored.score.model_id}): route {scored.triage.route}, "
            f"complexity {scored.score.complexity_score}, governance {scored.decision['status']}, "
            f"{len(scored.tickets)} spend ticket(s)"
        )
        if scored.halt_reason:
            raise scoring.JobHalted(scored.halt_reason)
    return dg.MaterializeResult(metadata=_score_metadata(scored))


def progress_log(
    say: Callable[[str], None], every_s: float = PROGRESS_EVERY_S
) -> Callable[[str], None]:
    """The gate's log for a run: every change, but "still waiting" at most every `every_s`
    (a day's wait at a 5 s poll would otherwise be 17,280 lines in the run's log)."""
    last = [-math.inf]

    def log(message: str) -> None:
        if message.startswith("waiting for a decision"):
            if time.monotonic() - last[0] < every_s:
                return
            last[0] = time.monotonic()
        say(message)

    return log


def _how_to_decide(views: list[dict[str, Any]]) -> str:
    waiting = [t["id"] for t in views if t["status"] == tickets.T.PROPOSED]
    return (
        f"{len(waiting)} spend ticket(s) wait for a person: POST /admin/gate/<id>/approve or "
        "/reject (X-Admin-Key, X-Operator-Email), or the job owner's "
        f"/v1/spend_tickets/<id>/approve; ids: {', '.join(waiting)}"
    )


@dg.op(
    ins={"scored": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
    description="Wait for a person's decision on the job's spend; execute what was approved.",
)
def human_gate(
    context: dg.OpExecutionContext,
    database: DatabaseResource,
    refinery: RefineryResource,
    gate: GateResource,
) -> Iterator[dg.Output]:
    job_id = context.partition_key
    poll_s = gate.poll()
    with step(context, "gate", database, refinery, retries=GATE_RETRIES, retry_delay_s=poll_s) as (
        db,
        files,
    ):
        service.current(db, job_id)
        with db.session() as session:
            views = [tickets.ticket_view(t) for t in tickets.current_tickets(session, job_id)]
        if any(t["status"] == tickets.T.PROPOSED for t in views):
            context.log.info(_how_to_decide(views))
        stub = gate.ocr_unavailable()
        if stub and any(t["kind"] == "ocr" for t in views):
            context.log.info(f"approved OCR will be a test stub here: {stub}")
        outcome = loop_gate.pass_gate(
            db,
            job_id,
            settings=get_settings(),
            actions=gate.actions(files),
            claimant=context.run_id,
            log=progress_log(context.log.info),
            poll_s=poll_s,
            timeout_s=gate.timeout(),
        )
    metadata = {
        "gate_state": outcome.state,
        "waited_s": dg.MetadataValue.float(round(outcome.waited_s, 3)),
        "polls": dg.MetadataValue.int(outcome.polls),
        "executed_now": dg.MetadataValue.int(sum(e.performed for e in outcome.executions)),
        "spend_tickets": dg.MetadataValue.md(tickets_markdown(outcome.tickets)),
        "executions": dg.MetadataValue.json(
            [{"ticket_id": e.ticket["id"], **e.result} for e in outcome.executions]
        ),
    }
    if not outcome.proceed:  # the domain halted the job with this reason already
        raise dg.Failure(
            description=f"gate: {outcome.reason}", metadata=metadata, allow_retries=False
        )
    yield dg.Output(None, metadata=metadata)
