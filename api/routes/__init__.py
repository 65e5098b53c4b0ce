"""One module per resource; `ROUTERS` is what `api.main` mounts, `HOT_ROUTES` the bare
ASGI endpoints it answers ahead of FastAPI's routing (each also declared in a router)."""

from api.ops import router as ops_router
from api.routes import (
    activity,
    certificates,
    checkout,
    customer,
    gate,
    governance,
    health,
    jobs,
    webhooks,
)

ROUTERS = [
    health.router,
    governance.router,
    customer.router,
    jobs.router,
    webhooks.router,
    checkout.router,
    gate.router,
    certificates.router,
    activity.router,
    ops_router,
]

HOT_ROUTES = {("POST", "/evaluate"): governance.evaluate_endpoint}
