"""The code location: one `Definitions`, merged from each area's lists."""

import dagster as dg

from aegis_assets.jobs import refinery_job
from resources.database import DatabaseResource

defs = dg.Definitions(
    assets=[],
    jobs=[refinery_job],
    sensors=[],
    resources={"database": DatabaseResource()},
)
