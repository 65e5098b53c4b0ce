"""The outermost layers: headers on every response, a JSON 500 for anything that escapes,
and CORS whose refusals answer JSON too (pure ASGI, no per-call task); and the shortcut
to the hot routes' bare ASGI endpoints."""

from __future__ import annotations

import logging
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("aegis.api")

try:
    AEGIS_VERSION = version("aegis-refine")
except PackageNotFoundError:  # running from a source tree without an install
    AEGIS_VERSION = "0.0.0"


class AegisHeadersMiddleware:
    """Sets `X-AEGIS-Version`, `-Request-Id`, `-Tenant`, and the customer headers that
    authentication leaves in `scope["state"]["aegis_headers"]`.

    It is the outermost layer, so an exception that escapes everything inside (Starlette's
    error middleware answers 500 and then re-raises, which makes the server drop the
    connection) ends here: answered as `{"error": "internal error"}` if nothing was sent
    yet, swallowed if the 500 already went out, so a keep-alive connection survives.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = f"req-{uuid.uuid4().hex}"
        state["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = {
                    "x-aegis-version": AEGIS_VERSION,
                    "x-aegis-request-id": request_id,
                    "x-aegis-tenant": "anonymous",
                    **state.get("aegis_headers", {}),
                }
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.decode().lower() not in extra
                ]
                headers += [(k.encode(), str(v).encode()) for k, v in extra.items()]
                message["headers"] = headers
            await send(message)

        started = False
        done = False

        async def send_tracked(message: Message) -> None:
            nonlocal started, done
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                done = True
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            if done:  # the error handler already answered (and logged) it
                return
            if started:  # a response cut short: only closing the connection is honest
                raise
            log.exception("unhandled error outside the routes")
            response = JSONResponse({"error": "internal error"}, status_code=500)
            await response(scope, receive, send_with_headers)


class JSONCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight answers `{"error": ...}` like
    every other 4xx (Starlette answers it in plain text)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        message = bytes(response.body).decode()
        return JSONResponse({"error": message}, status_code=response.status_code, headers=headers)


class HotRoutes:
    """Sends `(method, path)` pairs straight to bare ASGI endpoints, skipping FastAPI's
    router, per-route wrappers and dependency solving. Installed inside the input policy
    and Starlette's error middleware, so both still hold; the endpoint answers its own
    domain errors. Every other request goes on to FastAPI."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], ASGIApp]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.routes.get((scope["method"], get_route_path(scope)))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)
