"""The ASGI app: `api.main:app` (`aegis serve` runs it under uvicorn)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from aegis_core.db import migrate
from aegis_core.settings import get_settings
from api.errors import install_error_handlers
from api.middleware import AEGIS_VERSION, AegisHeadersMiddleware
from api.routes import ROUTERS

VERCEL_PREVIEWS = r"https://[A-Za-z0-9-]+\.vercel\.app"


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Bring the database to the latest schema before serving (a no-op when it is)."""
    migrate.upgrade(get_settings().resolved_database_url)
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Aegis Refine", version=AEGIS_VERSION, lifespan=lifespan)
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_origin_regex=VERCEL_PREVIEWS,
        allow_methods=["POST", "GET", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Api-Key"],
    )
    app.add_middleware(AegisHeadersMiddleware)
    return app


app = create_app()
