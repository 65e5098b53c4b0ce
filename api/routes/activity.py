"""`GET /activity`: the public, redacted live feed of what the refinery does.

JSON (`?limit=`, `?after=<seq>`) or Server-Sent Events (`Accept: text/event-stream`, or
`/activity/stream`): each event's `id:` is its seq, so a client that reconnects with
`Last-Event-ID` (browsers do) resumes where it left off. A stream sends heartbeats and
closes after `AEGIS_ACTIVITY_STREAM_S` (the client then reconnects). What an event may
show is decided in `aegis_core.activity`. Public, so limited: requests per client address
per minute (in the database, across workers) and open streams per API process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response

from aegis_core import activity, limits
from aegis_core.input_policy import MAX_SAFE_INTEGER
from api.deps import DatabaseDep, SettingsDep
from api.errors import error_response
from api.openapi import errors

router = APIRouter(tags=["activity"])

REQUESTS_PER_MINUTE = 120  # per client address: JSON requests and stream openings
MAX_STREAMS = 32  # open event streams per API process
STREAM_BACKLOG = 20  # events a new stream starts with (when it does not resume)
POLL_S = 1.0
HEARTBEAT_S = 15.0
RETRY_MS = 3000
EVENT_STREAM = "text/event-stream"
_open_streams = 0


class ActivityEvent(BaseModel):
    seq: int = Field(description="Position in the audit log; resume after it with ?after=.")
    at: str | None = Field(description="When it happened (UTC, ISO 8601).")
    action: str = Field(description="e.g. status_change, propose_spend, human_approve.")
    job: str | None = Field(description="The first 8 characters of the job's id.")
    actor: str = Field(description="A role: system, agent, policy, operator, customer, stripe.")
    details: dict[str, str | int | float] = Field(
        description="Only the whitelisted fields of this action (see the README)."
    )


class ActivityFeed(BaseModel):
    events: list[ActivityEvent] = Field(description="Oldest first.")
    next_after: int = Field(description="Pass as ?after= to get only what comes next.")


Limit = Annotated[int, Query(ge=1, le=activity.MAX_LIMIT, description="At most this many.")]
After = Annotated[
    int | None,
    Query(ge=0, le=MAX_SAFE_INTEGER, description="Only events with a larger seq."),
]
FEED = {
    "description": "Recent public events (JSON), or an event stream when asked for one",
    "model": ActivityFeed,
    "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
}


def _allowed(db: DatabaseDep, client: str) -> bool:
    with db.session() as session:
        window = limits.minute_window(datetime.now(UTC))
        usage = limits.consume(session, "activity", client, window, REQUESTS_PER_MINUTE)
    return usage.allowed


def _recent(db: DatabaseDep, limit: int) -> tuple[list[dict[str, Any]], int]:
    with db.session() as session:
        return activity.recent(session, limit)


def _after(db: DatabaseDep, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    with db.session() as session:
        return activity.events_after(session, after, limit)


def _limited() -> Response:
    seconds = 60 - datetime.now(UTC).second
    return error_response(
        429,
        f"too many /activity requests from this address: at most {REQUESTS_PER_MINUTE} a minute",
        headers={"Retry-After": str(seconds)},
    )


def _last_event_id(request: Request) -> int | None:
    value = request.headers.get("last-event-id", "").strip()
    if value.isascii() and value.isdigit() and int(value) <= MAX_SAFE_INTEGER:
        return int(value)
    return None


async def _events(db: DatabaseDep, after: int | None, lifetime_s: float) -> AsyncIterator[Any]:
    global _open_streams
    _open_streams += 1
    try:
        yield ServerSentEvent(comment="aegis activity", retry=RETRY_MS)
        deadline = time.monotonic() + lifetime_s
        if after is None:
            events, cursor = await run_in_threadpool(_recent, db, STREAM_BACKLOG)
        else:
            events, cursor = await run_in_threadpool(_after, db, after, activity.MAX_LIMIT)
        while True:
            for event in events:
                yield ServerSentEvent(orjson.dumps(event).decode(), id=str(event["seq"]))
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if len(events) < activity.MAX_LIMIT:
                await anyio.sleep(min(POLL_S, left))
            events, cursor = await run_in_threadpool(_after, db, cursor, activity.MAX_LIMIT)
    finally:
        _open_streams -= 1


async def _stream(
    request: Request, db: DatabaseDep, settings: SettingsDep, after: int | None
) -> Response:
    if _open_streams >= MAX_STREAMS:
        return error_response(
            429, "too many open activity streams: try again shortly", {"Retry-After": "5"}
        )
    lifetime = settings.activity_stream_s
    resume = _last_event_id(request)
    return EventSourceResponse(
        _events(db, resume if resume is not None else after, lifetime),
        ping=min(HEARTBEAT_S, max(0.5, lifetime / 3)),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/activity",
    summary="The public activity feed (redacted)",
    operation_id="activity",
    response_model=None,
    responses={200: FEED, **errors(429)},
)
async def feed(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    limit: Limit = activity.DEFAULT_LIMIT,
    after: After = None,
) -> Response:
    """Recent events, oldest first: the latest `limit`, or those after `after`. With
    `Accept: text/event-stream`, a live stream instead (each event's `id` is its seq;
    `Last-Event-ID` resumes; heartbeats; closes after a while, so reconnect)."""
    if not await run_in_threadpool(_allowed, db, _client(request)):
        return _limited()
    if EVENT_STREAM in request.headers.get("accept", ""):
        return await _stream(request, db, settings, after)
    if after is None:
        events, cursor = await run_in_threadpool(_recent, db, limit)
    else:
        events, cursor = await run_in_threadpool(_after, db, after, limit)
    body = orjson.dumps({"events": events, "next_after": cursor})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/activity/stream", include_in_schema=False)
async def stream(
    request: Request, db: DatabaseDep, settings: SettingsDep, after: After = None
) -> Response:
    """The same feed as Server-Sent Events, whatever the Accept header says."""
    if not await run_in_threadpool(_allowed, db, _client(request)):
        return _limited()
    return await _stream(request, db, settings, after)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
