"""One module per resource; `ROUTERS` is what `api.main` mounts."""

from api.routes import health

ROUTERS = [health.router]
