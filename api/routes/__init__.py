"""One module per resource; `ROUTERS` is what `api.main` mounts."""

from api.routes import customer, governance, health

ROUTERS = [health.router, governance.router, customer.router]
