"""`aegis demo`: one job end to end on the embedded default, through the real pieces.

Order (local checkout) -> signed `checkout.session.completed` into the webhook path ->
the payment fulfilled by the Stripe sensor's own rule -> the refinery job executed by
Dagster for the job's partition (fetch, parse, score, the spend gate, refine, certificate)
-> the dataset, the job's score and spend gate, its signed certificate checked by
`aegis verify`, and a verified audit chain. The default source proposes no spend, so no
person is needed; a source that does (a scanned PDF above the job's threshold) waits at
the gate, whose log says how to approve.
The demo's source is a local file, so it turns on the dev setting that allows file://
sources for this run only.

The demo and a `dagster dev` daemon on the same DAGSTER_HOME process each payment once,
in either order: the demo fulfils only its own event and tags its run with the sensor's
run_key (the event id), so the daemon never launches that payment again; if the daemon's
sensor took the payment first, the demo waits for that run instead of starting one. Under
both, a payment's run claims the payment in the database and a second one does nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

    from aegis_core.db.session import Database
    from aegis_core.settings import AegisSettings

INSTANCE_CONFIG = Path(__file__).resolve().parents[1] / "dagster.yaml"  # the one we ship
WAIT_S = 1800.0


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run one job end to end on the embedded default")
    demo.add_argument("--source", help="a source file or URL (default: a demo Discord export)")
    demo.add_argument("--description", default="Helpful answers to engineering support questions")
    demo.add_argument("--format", choices=["sharegpt", "chatml"], default="sharegpt")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    os.environ["AEGIS_ALLOW_INSECURE_SOURCES"] = "true"
    from aegis_core.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    home = Path(settings.home).resolve()
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        if INSTANCE_CONFIG.is_file():
            shutil.copyfile(INSTANCE_CONFIG, dagster_home / "dagster.yaml")
        else:
            (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    from aegis_cli.demo_data import write_demo_export
    from aegis_core import audit
    from aegis_core.db import migrate
    from aegis_core.db.models import Job
    from aegis_core.db.session import get_database

    url = settings.resolved_database_url
    migrate.upgrade(url)
    db = get_database(url)
    source = args.source or write_demo_export(home / "samples" / "support-chat.json").as_uri()
    if "://" not in source:
        source = Path(source).resolve().as_uri()
    job_id, event_id = order_and_pay(db, settings, source, args.description, args.format)
    ok = fulfil_and_run(dg.DagsterInstance.get(), db, job_id, event_id)
    with db.session() as session:
        row = session.get(Job, job_id)
        verdict = audit.verify(session)
    print(
        f"4. refinery   run {'succeeded' if ok else 'failed'}; job status {row.status}"
        + (f" ({row.halt_reason})" if row.halt_reason else "")
    )
    if row.model_backend:
        print(
            f"   scored     {row.model_backend} ({row.model_name}): complexity "
            f"{row.complexity_score}, estimated cost ${row.estimated_cost}; "
            f"spend gate: {_gate_summary(db, job_id)}"
        )
    if row.output_path and Path(row.output_path).is_file():
        print(f"   dataset    {row.output_path}")
        print(f"   stats      {json.dumps(row.dataset)}")
        first = Path(row.output_path).read_text().splitlines()[0]
        print(f"   first row  {first[:300]}{'...' if len(first) > 300 else ''}")
    certified = _certificate(db, job_id, row.output_path)
    print(f"6. audit      {verdict.describe()}")
    print(
        f"   browse the lineage: DAGSTER_HOME={os.environ['DAGSTER_HOME']} "
        "dagster-webserver -w workspace.yaml"
    )
    return 0 if ok and row.status == "complete" and certified and verdict.ok else 1


def _certificate(db: Database, job_id: str, dataset: str | None) -> bool:
    """Print the job's certificate files and `aegis verify`'s result; True when it holds."""
    from aegis_cli import main
    from aegis_core.certificates import latest

    with db.session() as session:
        cert = latest(session, job_id)
    if cert is None:
        print("5. certified  no certificate issued")
        return False
    print(f"5. certified  {cert.id}")
    print(f"   json       {cert.json_path}")
    print(f"   pdf        {cert.pdf_path}")
    command = ["verify", cert.json_path, *(["--dataset", dataset] if dataset else [])]
    print(f"   $ aegis {' '.join(command)}")
    return main(command) == 0


def _gate_summary(db: Database, job_id: str) -> str:
    from aegis_core.loop import tickets

    with db.session() as session:
        gate = tickets.gate_view(session, job_id)
    spend = ", ".join(f"{t['kind']} ${t['amount']} {t['status']}" for t in gate["tickets"])
    return f"{gate['state']}" + (f" ({spend})" if spend else ", no spend proposed")


def order_and_pay(
    db: Database, settings: AegisSettings, source: str, description: str, fmt: str
) -> tuple[str, str]:
    """A job ordered and paid through the local checkout stand-in: (job id, event id)."""
    from aegis_core import orders
    from aegis_core.payments import local, webhooks

    print(f"1. order      {source}")
    request = orders.parse_job_request(
        {"source_url": source, "description": description, "format": fmt}, settings
    )
    with db.session() as session:
        order = orders.place_order(session, request, settings, customer_id=None)
        job = order.job
    print(f"   job {job.id}, checkout {order.checkout.url} (local stand-in)")
    payload = local.completed_event(job)
    secret = webhooks.webhook_secret(settings)
    event = webhooks.verify(payload, local.sign(payload, secret), secret)
    with db.session() as session:
        webhooks.store(session, event)
    print(f"2. paid       signed event {event['id']} verified and stored")
    return job.id, event["id"]


def fulfil_and_run(instance: dg.DagsterInstance, db: Database, job_id: str, event_id: str) -> bool:
    """Fulfil this one payment by the sensor's rule and run the refinery for it once, unless
    the daemon's sensor already launched that run; True when the job completed."""
    from aegis_assets.definitions import defs
    from aegis_assets.partitions import job_partitions
    from aegis_core.db.models import Job
    from aegis_core.jobs import ACTIVE, JobStatus
    from aegis_core.payments.fulfilment import process_event
    from aegis_sensors.stripe import run_tags

    with db.session() as session:
        launch = process_event(session, event_id)
    daemon_run = _sensor_run(instance, event_id)
    if daemon_run is not None:
        print(f"3. fulfilled  by the Dagster daemon's sensor first: run {daemon_run.run_id}")
    elif launch is not None:
        instance.add_dynamic_partitions(job_partitions.name, [launch.job_id])
        print(f"3. fulfilled  job {job_id} in triage; run_key {event_id}, partition {job_id}")
        defs.resolve_job_def("refinery").execute_in_process(
            partition_key=launch.job_id,
            instance=instance,
            tags=run_tags(launch),
            raise_on_error=False,
        )
    # Whichever run holds the payment (ours, or the daemon's), wait for the job to settle.
    deadline, waiting = time.monotonic() + WAIT_S, False
    while True:
        with db.session() as session:
            status = session.get(Job, job_id).status
        if status not in ACTIVE or time.monotonic() > deadline:
            return status == JobStatus.COMPLETE
        if not waiting:
            print(f"   waiting    job {status}: the daemon's run holds this payment")
            waiting = True
        time.sleep(1.0)


def _sensor_run(instance: dg.DagsterInstance, event_id: str) -> dg.DagsterRun | None:
    """The run the Stripe sensor launched for this event, if any."""
    import dagster as dg

    from aegis_sensors.stripe import RUN_KEY_TAG, SENSOR_NAME_TAG, stripe_payments_sensor

    runs = instance.get_runs(
        filters=dg.RunsFilter(
            tags={RUN_KEY_TAG: event_id, SENSOR_NAME_TAG: stripe_payments_sensor.name}
        ),
        limit=1,
    )
    return runs[0] if runs else None
