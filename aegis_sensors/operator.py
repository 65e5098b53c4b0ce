"""Operator requests (re-process, complete) become runs, one per request."""

import dagster as dg

from aegis_assets.certificate import audit_certificate
from aegis_assets.jobs import refinery_job
from aegis_assets.partitions import job_partitions
from aegis_core import operator
from resources.database import DatabaseResource

# What each kind of request runs: `process` the whole refinery, `complete` only the
# certificate (a re-issue from the recorded checks, nothing refetched or refined).
SELECTION = {"process": None, "complete": [audit_certificate.key]}


@dg.sensor(
    job=refinery_job, minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING
)
def operator_requests_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """`process` re-runs the refinery for the job; `complete` re-issues its certificate."""
    cursor = int(context.cursor or 0)
    with database.get().session() as session:
        rows = [(r.seq, r.id, r.job_id, r.kind) for r in operator.pending(session, cursor)]
    if not rows:
        return dg.SkipReason(f"no operator requests after #{cursor}")
    known = set(context.instance.get_dynamic_partitions(job_partitions.name))
    new_keys = sorted({job_id for _, _, job_id, _ in rows} - known)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=request_id,
                partition_key=job_id,
                asset_selection=SELECTION[kind],
                tags={"aegis/job_id": job_id, "aegis/trigger": f"operator:{kind}"},
            )
            for _, request_id, job_id, kind in rows
        ],
        dynamic_partitions_requests=[job_partitions.build_add_request(new_keys)]
        if new_keys
        else [],
        cursor=str(rows[-1][0]),
    )
