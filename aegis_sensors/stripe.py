"""Paid checkouts become refinery runs, one per payment."""

import dagster as dg

from aegis_assets.jobs import refinery_job
from aegis_assets.partitions import job_partitions
from aegis_core.payments.fulfilment import process_events
from resources.database import DatabaseResource

BATCH = 200


@dg.sensor(
    job=refinery_job, minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING
)
def stripe_payments_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """Reads stored Stripe events after the cursor; a paid job gets a partition and a run."""
    cursor = int(context.cursor or 0)
    with database.get().session() as session:
        result = process_events(session, after=cursor, limit=BATCH)
    if not result.seen:
        return dg.SkipReason(f"no Stripe events after #{cursor}")
    job_ids = sorted({launch.job_id for launch in result.launches})
    known = set(context.instance.get_dynamic_partitions(job_partitions.name))
    new_keys = [j for j in job_ids if j not in known]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=launch.event_id,
                partition_key=launch.job_id,
                tags={
                    "aegis/job_id": launch.job_id,
                    "aegis/trigger": "stripe",
                    "aegis/stripe_event": launch.event_id,
                },
            )
            for launch in result.launches
        ],
        dynamic_partitions_requests=[job_partitions.build_add_request(new_keys)]
        if new_keys
        else [],
        cursor=str(result.cursor),
    )
