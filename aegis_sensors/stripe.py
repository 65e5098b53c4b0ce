"""Paid checkouts become refinery runs, one per payment."""

import dagster as dg

from aegis_assets.jobs import refinery_job
from aegis_assets.partitions import job_partitions
from aegis_core.payments.fulfilment import Launch, process_events
from resources.database import DatabaseResource

BATCH = 200
# Dagster's own tags for a sensor's run (dagster._core.storage.tags): the daemon launches
# one run per (sensor, run_key), counting in-process runs that carry both tags.
RUN_KEY_TAG, SENSOR_NAME_TAG = "dagster/run_key", "dagster/sensor_name"


def run_request(launch: Launch) -> dg.RunRequest:
    """The run a payment asks for: its event id is the run_key."""
    return dg.RunRequest(
        run_key=launch.event_id,
        partition_key=launch.job_id,
        tags={
            "aegis/job_id": launch.job_id,
            "aegis/trigger": "stripe",
            "aegis/stripe_event": launch.event_id,
        },
    )


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
        run_requests=[run_request(launch) for launch in result.launches],
        dynamic_partitions_requests=[job_partitions.build_add_request(new_keys)]
        if new_keys
        else [],
        cursor=str(result.cursor),
    )


def run_tags(launch: Launch) -> dict[str, str]:
    """The tags of the sensor's run for `launch`, for a run launched outside the daemon
    (`aegis demo`): the daemon then counts that run as this sensor's and never repeats it."""
    request = run_request(launch)
    return {
        **request.tags,
        RUN_KEY_TAG: launch.event_id,
        SENSOR_NAME_TAG: stripe_payments_sensor.name,
    }
