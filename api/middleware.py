"""Headers on every response: version, request id and tenant (pure ASGI, no per-call task)."""

from __future__ import annotations

import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:
    AEGIS_VERSION = version("aegis-refine")
except PackageNotFoundError:  # running from a source tree without an install
    AEGIS_VERSION = "0.0.0"


class AegisHeadersMiddleware:
    """Sets `X-AEGIS-Version`, `-Request-Id`, `-Tenant`, and the customer headers that
    authentication leaves in `scope["state"]["aegis_headers"]`."""

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

        await self.app(scope, receive, send_with_headers)
