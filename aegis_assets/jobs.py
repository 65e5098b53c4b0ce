"""Asset jobs. The refinery job materializes one job's partition of every refinery asset."""

import dagster as dg

REFINERY_GROUP = "refinery"

refinery_job = dg.define_asset_job(
    "refinery",
    selection=dg.AssetSelection.groups(REFINERY_GROUP),
    description="Fetch, parse, score and refine one paid job (partition = job id).",
)
