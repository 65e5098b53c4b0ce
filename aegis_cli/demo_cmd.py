"""`aegis demo`: one job end to end on the embedded default, through the real pieces.

Order (local checkout) -> signed `checkout.session.completed` into the webhook path ->
the Stripe sensor's tick -> the refinery job executed by Dagster for the job's partition
-> the dataset, the job record and a verified audit chain. The demo's source is a local
file, so it turns on the dev setting that allows file:// sources for this run only.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


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
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    from aegis_assets.definitions import defs
    from aegis_cli.demo_data import write_demo_export
    from aegis_core import audit, orders
    from aegis_core.db import migrate
    from aegis_core.db.models import Job
    from aegis_core.db.session import get_database
    from aegis_core.payments import local, webhooks
    from aegis_sensors.stripe import stripe_payments_sensor
    from resources.database import DatabaseResource

    url = settings.resolved_database_url
    migrate.upgrade(url)
    db = get_database(url)
    source = args.source or write_demo_export(home / "samples" / "support-chat.json").as_uri()
    if "://" not in source:
        source = Path(source).resolve().as_uri()
    print(f"1. order      {source}")
    request = orders.parse_job_request(
        {"source_url": source, "description": args.description, "format": args.format}, settings
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

    instance = dg.DagsterInstance.get()
    cursor_key = "aegis-demo-stripe-cursor"
    cursor = instance.run_storage.get_cursor_values({cursor_key}).get(cursor_key)
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        resources={"database": DatabaseResource()},
    ) as ctx:
        tick = stripe_payments_sensor(ctx)
    if isinstance(tick, dg.SkipReason):
        print(f"   sensor: {tick.skip_message}")
        return 1
    for request_ in tick.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request_.partitions_def_name, request_.partition_keys)
    instance.run_storage.set_cursor_values({cursor_key: tick.cursor})
    print(f"3. sensor     {len(tick.run_requests)} run request(s), partition {job.id}")
    refinery = defs.get_job_def("refinery")
    ok = True
    for run in tick.run_requests:
        result = refinery.execute_in_process(
            partition_key=run.partition_key, instance=instance, tags=run.tags, raise_on_error=False
        )
        ok &= (result.success and run.partition_key == job.id) or run.partition_key != job.id
    with db.session() as session:
        row = session.get(Job, job.id)
        verdict = audit.verify(session)
    print(
        f"4. refinery   run {'succeeded' if ok else 'failed'}; job status {row.status}"
        + (f" ({row.halt_reason})" if row.halt_reason else "")
    )
    if row.output_path:
        print(f"   dataset    {row.output_path}")
        print(f"   stats      {json.dumps(row.dataset)}")
        first = Path(row.output_path).read_text().splitlines()[0]
        print(f"   first row  {first[:300]}{'...' if len(first) > 300 else ''}")
    print(f"5. audit      {verdict.describe()}")
    print(
        f"   browse the lineage: DAGSTER_HOME={os.environ['DAGSTER_HOME']} "
        "dagster-webserver -w workspace.yaml"
    )
    return 0 if ok and row.status == "complete" and verdict.ok else 1
