"""A refinery run that ended without its job noticing halts the job.

A step that raises halts its job itself (`service.halting`). These run-status sensors catch
the rest: a run canceled, a run worker killed or lost, a run that never started. Dagster's
run monitoring (`run_monitoring` in dagster.yaml) marks a run that stopped answering as
failed, which lands here too. The job halts only while still in the works and when no
other run for its partition is alive (an operator's re-run may be on it).
"""

import dagster as dg

from aegis_assets.steps import STEPS
from aegis_core.refine import service
from resources.database import DatabaseResource
from resources.refinery import RefineryResource

ALIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _last_step(instance: dg.DagsterInstance, run_id: str) -> str:
    """The refinery step the run was in when it ended ("run" before any step started)."""
    started = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    return STEPS.get(started[-1].step_key or "", "run") if started else "run"


def halt_job_of(
    context: dg.RunStatusSensorContext,
    database: DatabaseResource,
    refinery: RefineryResource,
    ended: str,
    message: str | None,
) -> dg.SkipReason:
    run = context.dagster_run
    job_id = run.tags.get("aegis/job_id") or run.tags.get("dagster/partition")
    if not job_id:
        return dg.SkipReason(f"run {run.run_id} is not a refinery job's run")
    alive = [
        other
        for other in context.instance.get_run_ids(
            filters=dg.RunsFilter(tags={"dagster/partition": job_id}, statuses=ALIVE)
        )
        if other != run.run_id
    ]
    if alive:
        return dg.SkipReason(f"job {job_id}: run {alive[0]} is still alive")
    step = _last_step(context.instance, run.run_id)
    reason = f"run {run.run_id} {ended}" + (f": {message}" if message else "")
    if service.halt(database.get(), job_id, step, reason, refinery.files(job_id)):
        context.log.info(f"job {job_id} halted: {step}: {reason}")
        return dg.SkipReason(f"job {job_id} halted")
    return dg.SkipReason(f"job {job_id} was no longer in the works")


@dg.run_failure_sensor(
    monitor_all_code_locations=True,  # in-process runs (`aegis demo`) have no code location
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=10,
)
def refinery_run_failed_sensor(
    context: dg.RunFailureSensorContext, database: DatabaseResource, refinery: RefineryResource
) -> dg.SkipReason:
    """A failed run (a step error, a killed worker, a start or runtime timeout)."""
    return halt_job_of(context, database, refinery, "failed", context.failure_event.message)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.CANCELED,
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=10,
)
def refinery_run_canceled_sensor(
    context: dg.RunStatusSensorContext, database: DatabaseResource, refinery: RefineryResource
) -> dg.SkipReason:
    """A canceled run (from the UI, or a cancel that timed out)."""
    return halt_job_of(context, database, refinery, "was canceled", context.dagster_event.message)
