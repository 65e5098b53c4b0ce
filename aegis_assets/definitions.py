"""The code location: one `Definitions`, merged from each area's lists."""

import dagster as dg

from aegis_assets.jobs import refinery_job
from aegis_assets.refinery import ASSETS
from aegis_sensors.definitions import SENSORS
from resources.database import DatabaseResource
from resources.gate import GateResource
from resources.model import AegisModelResource
from resources.refinery import RefineryResource

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[refinery_job],
    sensors=SENSORS,
    resources={
        "database": DatabaseResource(),
        "refinery": RefineryResource(),
        "model": AegisModelResource(),
        "gate": GateResource(),
    },
)
