"""The Ops console: server-rendered pages for operators under /ops (see `routes`)."""

from api.ops.routes import router

__all__ = ["router"]
