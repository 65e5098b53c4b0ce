"""Customer routes: a customer's own decisions, listed, fetched and exported."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from aegis_core import decisions
from aegis_core.db.session import Database
from aegis_core.errors import ValidationError
from aegis_core.evaluations import CallContext, admit
from api.deps import DatabaseDep
from api.openapi import errors, ok
from api.routes.governance import CUSTOMER, AuthHeader, call
from api.schemas import DecisionList, DecisionRecord

router = APIRouter(prefix="/customer", tags=["customer"])
Month = Annotated[str | None, Query(description="YYYY-MM; default the current month.")]
CSV = {"text/csv": {"schema": {"type": "string"}}}


def _list(
    db: Database, ctx: CallContext, authorization: str | None, month: str | None, limit: str | None
) -> dict[str, Any]:
    principal = admit(db, ctx, authorization)
    month_value = decisions.parse_month(month)
    limit_value = decisions.parse_limit(limit)
    with db.session() as session:
        rows, total = decisions.list_for_month(
            session, principal.customer_id, month_value, limit_value
        )
    return {
        "decisions": rows,
        "total": total,
        "month": month_value,
        "_customer_id": principal.customer_id,
        "_request_id": ctx.request_id,
    }


def _export(
    db: Database, ctx: CallContext, authorization: str | None, fmt: str | None, month: str | None
) -> tuple[str, Any]:
    principal = admit(db, ctx, authorization)
    fmt = (fmt or "json").lower()
    if fmt not in ("json", "csv"):
        raise ValidationError("format must be json or csv")
    month_value = decisions.parse_month(month)
    with db.session() as session:
        rows, total = decisions.list_for_month(session, principal.customer_id, month_value, None)
    if fmt == "csv":
        return fmt, decisions.to_csv(rows)
    return fmt, {
        "decisions": rows,
        "total": total,
        "month": month_value,
        "_customer_id": principal.customer_id,
        "_request_id": ctx.request_id,
    }


def _get(
    db: Database, ctx: CallContext, authorization: str | None, decision_id: str, month: str | None
) -> dict[str, Any]:
    principal = admit(db, ctx, authorization)
    if month:
        decisions.parse_month(month)  # validated; the id alone locates the decision
    with db.session() as session:
        record = decisions.get(session, principal.customer_id, decision_id)
    return {**record, "_customer_id": principal.customer_id, "_request_id": ctx.request_id}


@router.get(
    "/decisions",
    response_model=None,
    responses={200: ok(DecisionList), **errors(403, 429)},
    openapi_extra=CUSTOMER,
)
async def list_decisions(
    request: Request,
    db: DatabaseDep,
    authorization: AuthHeader = None,
    month: Month = None,
    limit: Annotated[str | None, Query(description="1 to 200; default 50.")] = None,
) -> JSONResponse:
    """This customer's decisions for a month, newest first."""
    return JSONResponse(await call(request, _list, db, authorization, month, limit))


@router.get(
    "/decisions/export",
    response_model=None,
    responses={
        200: {**ok(DecisionList, "JSON, or CSV with format=csv"), "content": CSV},
        **errors(403, 429),
    },
    openapi_extra=CUSTOMER,
)
async def export_decisions(
    request: Request,
    db: DatabaseDep,
    authorization: AuthHeader = None,
    format: Annotated[str | None, Query(description="json (default) or csv.")] = None,
    month: Month = None,
) -> Response:
    """The whole month as JSON or CSV, for compliance reporting."""
    fmt, payload = await call(request, _export, db, authorization, format, month)
    if fmt == "csv":
        month_value = decisions.parse_month(month)
        return Response(
            payload,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="decisions-{month_value}.csv"'},
        )
    return JSONResponse(payload)


@router.get(
    "/decisions/{decision_id}",
    response_model=None,
    responses={200: ok(DecisionRecord), **errors(403, 404, 429)},
    openapi_extra=CUSTOMER,
)
async def get_decision(
    request: Request,
    decision_id: str,
    db: DatabaseDep,
    authorization: AuthHeader = None,
    month: Month = None,
) -> JSONResponse:
    """One decision in full, with its input context and audit hash."""
    return JSONResponse(await call(request, _get, db, authorization, decision_id, month))
