"""Every error a client sees is `{"error": "..."}` with the right status, never a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from aegis_core.errors import (
    AegisError,
    AuthError,
    Conflict,
    NotFound,
    RateLimited,
    SourceRefused,
    UpstreamError,
    ValidationError,
)

log = logging.getLogger("aegis.api")

STATUS_BY_ERROR: list[tuple[type[AegisError], int]] = [
    (ValidationError, 400),
    (SourceRefused, 400),
    (AuthError, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (UpstreamError, 502),
]


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def domain_error_response(exc: AegisError) -> JSONResponse:
    """The answer to a domain error: its family's status and `{"error": message}`."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            if isinstance(exc, RateLimited) and exc.body is not None:
                return JSONResponse(exc.body, status_code=429)
            return error_response(status, str(exc))
    log.exception("unmapped domain error")
    return error_response(500, str(exc) or "internal error")


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AegisError)
    async def _domain(_: Request, exc: AegisError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The governance document: unknown path or wrong method is 404.
        if exc.status_code in (404, 405):
            return error_response(404, "not found")
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client left before sending its whole body: nothing to answer, nothing wrong.
        log.debug("client disconnected before the request body arrived")
        return error_response(400, "client disconnected")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error")
