"""The ASGI app: `api.main:app` (`aegis serve` runs it under uvicorn)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aegis_core.db import migrate
from aegis_core.settings import get_settings
from api import openapi
from api.errors import install_error_handlers
from api.input_policy import InputPolicyMiddleware
from api.middleware import AEGIS_VERSION, AegisHeadersMiddleware, HotRoutes, JSONCORSMiddleware
from api.routes import HOT_ROUTES, ROUTERS

VERCEL_PREVIEWS = r"https://[A-Za-z0-9-]+\.vercel\.app"


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Bring the database to the latest schema before serving (a no-op when it is)."""
    migrate.upgrade(get_settings().resolved_database_url)
    yield


class AegisAPI(FastAPI):
    """FastAPI with the headers and CORS layers outside Starlette's error middleware, so
    even a 500 carries the `X-AEGIS-*` and CORS headers."""

    cors_origins: tuple[str, ...] = ()

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        cors = JSONCORSMiddleware(
            inner,
            allow_origins=list(self.cors_origins),
            allow_origin_regex=VERCEL_PREVIEWS,
            allow_methods=["POST", "GET", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "X-Api-Key"],
        )
        return AegisHeadersMiddleware(cors)


def create_app() -> FastAPI:
    settings = get_settings()
    app = AegisAPI(
        title="Aegis Refine",
        version=AEGIS_VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Governed dataset refinery and the AEGIS governance API. Every error "
        'answers `{"error": "..."}`; every response carries `X-AEGIS-Version`, '
        "`X-AEGIS-Request-Id` and `X-AEGIS-Tenant`.",
    )
    app.cors_origins = tuple(settings.cors_origins)
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(HotRoutes, routes=HOT_ROUTES)  # inside the input policy
    app.add_middleware(
        InputPolicyMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
    )
    return app


app = create_app()
# For servers without uvicorn's proxy-headers option (granian): the same middleware, which
# trusts FORWARDED_ALLOW_IPS (default 127.0.0.1) for the client address and scheme.
behind_proxy = ProxyHeadersMiddleware(
    app, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
)
