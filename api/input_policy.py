"""The input policy at the edge, for every route (pure ASGI: no task, no extra copy).

Refuses before any route runs: a NUL in the URL (400), a body over
`AEGIS_MAX_BODY_BYTES` (413, from `Content-Length` alone when it says so), and a body
that breaks `aegis_core.input_policy` (400). A body is read once and parsed once; the
parse is left in `scope["state"]["aegis_body"]` (see `body_of`) so routes do not parse it
again, and the bytes are replayed to the app unchanged.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aegis_core.input_policy import InputRefused, JsonBody, check_text, read_form, read_json
from api.errors import error_response

STATE_KEY = "aegis_body"


class InputPolicyMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_text(scope["path"], "the URL path")
            query: bytes = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                raise InputRefused("the query string must not contain NUL characters")
        except InputRefused as exc:
            await error_response(400, str(exc))(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nobody to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if body:
            try:
                parsed = read_json(body, max_depth=self.max_depth)
            except InputRefused as exc:
                await error_response(400, str(exc))(scope, receive, send)
                return
            scope.setdefault("state", {})[STATE_KEY] = parsed
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the server refuses a malformed length itself
        return 0

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body is larger than {self.max_body_bytes} bytes"
        await error_response(413, message)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, then the real channel (so a disconnect is still noticed)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def body_of(request: Request) -> JsonBody | bytes:
    """What the edge parsed; the raw bytes where it parsed nothing (an empty body)."""
    parsed: Any = request.scope.get("state", {}).get(STATE_KEY)
    return parsed if isinstance(parsed, JsonBody) else await request.body()


async def form_of(request: Request) -> dict[str, str]:
    """The request's urlencoded form, read under the policy (`InputRefused` -> 400). The
    edge passed the bytes through untouched: a form is not JSON, so it parsed nothing."""
    parsed = await body_of(request)
    return read_form(parsed.raw if isinstance(parsed, JsonBody) else parsed)
