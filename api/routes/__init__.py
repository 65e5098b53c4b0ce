"""One module per resource; `ROUTERS` is what `api.main` mounts, `HOT_ROUTES` the bare
ASGI endpoints it answers ahead of FastAPI's routing (each also declared in a router)."""

from api.routes import (
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
]

HOT_ROUTES = {("POST", "/evaluate"): governance.evaluate_endpoint}
