"""The AEGIS Governance REST API: /evaluate, /sandbox/evaluate, /risk-check, /health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from aegis_core import evaluations
from aegis_core.db.session import Database
from aegis_core.evaluations import CallContext
from aegis_core.governance import health_check
from aegis_core.settings import get_settings
from api.deps import DatabaseDep
from api.middleware import AEGIS_VERSION

router = APIRouter(tags=["governance"])
AuthHeader = Annotated[str | None, Header(alias="Authorization")]


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


@router.post("/evaluate")
async def evaluate(request: Request, db: DatabaseDep, authorization: AuthHeader = None):
    """Evaluate a proposal through the six gates; persisted and audited."""
    ctx = context(request)
    try:
        payload = await evaluations.evaluate_request(db, ctx, authorization, await request.body())
    finally:
        request.state.aegis_headers = identity_headers(ctx)
    return JSONResponse(payload)


@router.post("/sandbox/evaluate")
async def sandbox_evaluate(request: Request, db: DatabaseDep):
    """Evaluate without a key: 10 per IP per day, never persisted."""
    client_ip = request.client.host if request.client else "unknown"
    return JSONResponse(
        await call(request, evaluations.sandbox_request, db, client_ip, await request.body())
    )


@router.post("/risk-check")
async def risk_check(request: Request, db: DatabaseDep, authorization: AuthHeader = None):
    """Quick `risk_score < threshold` comparison; no gates, no audit trail."""
    body = await request.body()
    return JSONResponse(
        await call(request, evaluations.risk_check_request, db, authorization, body)
    )


@router.get("/health")
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
