"""One module per resource; `ROUTERS` is what `api.main` mounts."""

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
