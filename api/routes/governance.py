"""The AEGIS Governance REST API: /evaluate, /sandbox/evaluate, /risk-check, /health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from aegis_core import evaluations
from aegis_core.db.session import Database
from aegis_core.errors import AegisError
from aegis_core.evaluations import CallContext
from aegis_core.governance import health_check
from aegis_core.settings import get_settings
from api.deps import DatabaseDep, get_db
from api.errors import domain_error_response
from api.input_policy import body_of
from api.middleware import AEGIS_VERSION
from api.openapi import bearer_auth, body, errors, ok
from api.schemas import (
    Decision,
    EvaluateRequest,
    Health,
    RiskCheckRequest,
    RiskCheckResult,
    SandboxDecision,
    SandboxLimitBody,
)

router = APIRouter(tags=["governance"])
# Documented as the `customerKey` security scheme rather than as a parameter.
AuthHeader = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
CUSTOMER = bearer_auth("customerKey")


def context(request: Request) -> CallContext:
    """A call context whose identity the headers middleware will echo."""
    ctx = CallContext(request_id=request.state.request_id)
    request.state.aegis_context = ctx
    return ctx


async def call(request: Request, fn: Callable[..., Any], db: Database, *args: Any) -> Any:
    """Run `fn(db, ctx, *args)` off the event loop; identity headers are set either way."""
    ctx = context(request)
    try:
        return await run_in_threadpool(fn, db, ctx, *args)
    finally:
        request.state.aegis_headers = identity_headers(ctx)


def identity_headers(ctx: CallContext) -> dict[str, str]:
    headers: dict[str, str] = {}
    if ctx.principal is not None:
        headers["x-aegis-tenant"] = ctx.principal.customer_id
        headers["x-aegis-customer"] = ctx.principal.customer_id
        headers["x-aegis-tier"] = ctx.principal.tier.name
    if ctx.rate_remaining is not None:
        headers["x-aegis-rate-remaining"] = str(ctx.rate_remaining)
    return headers


@router.post(
    "/evaluate",
    response_model=None,
    responses={200: ok(Decision, "The decision (whatever its status)"), **errors(403, 429)},
    openapi_extra={**body(EvaluateRequest, required=False), **CUSTOMER},
)
async def evaluate(request: Request) -> Response:
    """Evaluate a proposal through the six gates; persisted and audited."""
    return await evaluate_response(request)


async def evaluate_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /evaluate as a bare ASGI app, which `api.main` answers ahead of FastAPI's
    routing and dependency machinery (a third of the request's CPU); the route above
    documents it and answers the same where that shortcut is not installed."""
    request = Request(scope, receive)
    try:
        response = await evaluate_response(request)
    except AegisError as exc:
        response = domain_error_response(exc)
    await response(scope, receive, send)


async def evaluate_response(request: Request) -> Response:
    db = get_db(get_settings())
    ctx = context(request)
    try:
        payload = await evaluations.evaluate_request(
            db, ctx, request.headers.get("authorization"), await body_of(request)
        )
    finally:
        request.state.aegis_headers = identity_headers(ctx)
    return Response(orjson.dumps(payload), media_type="application/json")


SANDBOX_429 = {
    429: {"model": SandboxLimitBody, "description": "10 sandbox evaluations per IP per day."}
}


@router.post(
    "/sandbox/evaluate",
    response_model=None,
    responses={200: ok(SandboxDecision), **errors(overrides=SANDBOX_429)},
    openapi_extra=body(EvaluateRequest, required=False),
)
async def sandbox_evaluate(request: Request, db: DatabaseDep) -> JSONResponse:
    """Evaluate without a key: 10 per IP per day, never persisted."""
    client_ip = request.client.host if request.client else "unknown"
    return JSONResponse(
        await call(request, evaluations.sandbox_request, db, client_ip, await body_of(request))
    )


@router.post(
    "/risk-check",
    response_model=None,
    responses={200: ok(RiskCheckResult), **errors(403, 429)},
    openapi_extra={**body(RiskCheckRequest), **CUSTOMER},
)
async def risk_check(
    request: Request, db: DatabaseDep, authorization: AuthHeader = None
) -> JSONResponse:
    """Quick `risk_score < threshold` comparison; no gates, no audit trail."""
    raw = await body_of(request)
    return JSONResponse(await call(request, evaluations.risk_check_request, db, authorization, raw))


@router.get(
    "/health",
    response_model=None,
    responses={
        200: ok(Health, "Every subsystem is healthy"),
        503: {"model": Health, "description": "One or more subsystems are degraded"},
        **errors(),
    },
)
def health(db: DatabaseDep) -> JSONResponse:
    """Per-subsystem checks; 503 when any is degraded."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        settings = get_settings()
        checks["config"] = {"ok": True}
    except Exception as exc:  # a broken environment is exactly what this reports
        settings = None
        checks["config"] = {"ok": False, "error": type(exc).__name__}
    try:
        checks["gates"] = {"ok": bool(health_check())}
    except Exception as exc:
        checks["gates"] = {"ok": False, "error": type(exc).__name__}
    try:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    ok = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if ok else "degraded",
        "version": AEGIS_VERSION,
        "stage": settings.stage if settings else "unknown",
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
