"""The human gate over HTTP: operators decide spend tickets (`X-Admin-Key`, with
`X-Operator-Email` recorded as the actor); a job's owner decides its own tickets (the
job's access token or the owning customer's API key; to anyone else a ticket does not
exist). Deciding twice, or a ticket that is not `proposed`, is 409."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from aegis_core import orders
from aegis_core.db.models import SpendTicket
from aegis_core.errors import NotFound, ValidationError
from aegis_core.input_policy import JsonBody, read_json
from aegis_core.loop import tickets
from aegis_core.loop.tickets import TicketStatus
from api.deps import AdminDep, DatabaseDep
from api.input_policy import body_of
from api.openapi import bearer_auth, body, errors, ok
from api.schemas import DecisionRequest, SpendTicketList, SpendTicketView

router = APIRouter(tags=["gate"])
OperatorEmail = Annotated[
    str | None,
    Header(alias="X-Operator-Email", description="Who decides: recorded as the audit actor."),
]
TokenQuery = Annotated[
    str | None, Query(alias="token", description="The job's access token (or X-Job-Token).")
]
JobTokenHeader = Annotated[
    str | None, Header(alias="X-Job-Token", description="The job's access token.")
]
AuthHeader = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
StatusQuery = Annotated[
    Literal[tuple(TicketStatus)] | None,  # type: ignore[valid-type]
    Query(description="Only tickets in this status, e.g. proposed."),
]
DECIDED = {200: ok(SpendTicketView, "The ticket as decided")}
OPERATOR = {"response_model": None, "responses": {**DECIDED, **errors(403, 404, 409)}}
OWNER = {"response_model": None, "responses": {**DECIDED, **errors(404, 409)}}
OWNER_AUTH = {"security": [{}, {"customerKey": []}]}


async def _reason(request: Request, required: bool) -> str | None:
    raw: JsonBody | bytes = await body_of(request)
    parsed = raw if isinstance(raw, JsonBody) else read_json(raw)
    if parsed.empty:
        value: Any = {}
    elif parsed.error is not None:
        raise ValidationError("request body must be valid JSON")
    else:
        value = parsed.value
    if not isinstance(value, dict):
        raise ValidationError('request body must be a JSON object such as {"reason": "..."}')
    reason = value.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError("reason must be a string")
    if required and not (reason or "").strip():
        raise ValidationError("reason is required: say why the spend is rejected")
    return reason


def _operator_decide(
    db: DatabaseDep, ticket_id: str, approve: bool, email: str | None, reason: str | None
) -> dict[str, Any]:
    actor = tickets.operator_actor(email)
    with db.session() as session:
        ticket = tickets.decide(
            session, ticket_id, approve=approve, actor=actor, reason=reason, via="operator"
        )
        return tickets.ticket_view(ticket)


@router.post(
    "/admin/gate/{ticket_id}/approve",
    summary="Operator: approve a proposed spend ticket",
    operation_id="approve_spend_ticket_operator",
    openapi_extra={**body(DecisionRequest, required=False), **bearer_auth("adminKey")},
    **OPERATOR,
)
async def admin_approve(
    ticket_id: str, request: Request, db: DatabaseDep, _: AdminDep, email: OperatorEmail = None
) -> dict[str, Any]:
    reason = await _reason(request, required=False)
    return await run_in_threadpool(_operator_decide, db, ticket_id, True, email, reason)


@router.post(
    "/admin/gate/{ticket_id}/reject",
    summary="Operator: reject a proposed spend ticket (a reason is required)",
    operation_id="reject_spend_ticket_operator",
    openapi_extra={**body(DecisionRequest), **bearer_auth("adminKey")},
    **OPERATOR,
)
async def admin_reject(
    ticket_id: str, request: Request, db: DatabaseDep, _: AdminDep, email: OperatorEmail = None
) -> dict[str, Any]:
    reason = await _reason(request, required=True)
    return await run_in_threadpool(_operator_decide, db, ticket_id, False, email, reason)


@router.get(
    "/admin/tickets",
    summary="Operator: spend tickets, oldest first (e.g. ?status=proposed)",
    operation_id="list_spend_tickets",
    response_model=None,
    responses={200: ok(SpendTicketList), **errors(403)},
    openapi_extra=bearer_auth("adminKey"),
)
def admin_tickets(
    db: DatabaseDep,
    _: AdminDep,
    status: StatusQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    with db.session() as session:
        rows = tickets.list_tickets(session, status, limit)
    return {"tickets": rows, "count": len(rows)}


def _owner_decide(
    db: DatabaseDep,
    ticket_id: str,
    approve: bool,
    job_token: str | None,
    authorization: str | None,
    reason: str | None,
) -> dict[str, Any]:
    with db.session() as session:
        ticket = session.get(SpendTicket, ticket_id)
        if ticket is None:
            raise NotFound(f"spend ticket {ticket_id} not found")
        try:  # the job's read rule says who owns the ticket
            orders.authorize_read(session, ticket.job_id, job_token, None)
            actor = "customer:job-token"
        except NotFound:
            try:
                job = orders.authorize_read(session, ticket.job_id, None, authorization)
            except NotFound:
                raise NotFound(f"spend ticket {ticket_id} not found") from None
            actor = f"customer:{job.customer_id}"
        ticket = tickets.decide(
            session, ticket_id, approve=approve, actor=actor, reason=reason, via="customer"
        )
        return tickets.ticket_view(ticket)


def _job_token(token: str | None, header: str | None, authorization: str | None) -> str | None:
    bearer = authorization.partition(" ")[2].strip() if authorization else None
    return header or token or (bearer if bearer and bearer.startswith("ajt_") else None)


@router.post(
    "/v1/spend_tickets/{ticket_id}/approve",
    summary="Approve a proposed spend ticket of your job",
    operation_id="approve_spend_ticket",
    openapi_extra={**body(DecisionRequest, required=False), **OWNER_AUTH},
    **OWNER,
)
async def owner_approve(
    ticket_id: str,
    request: Request,
    db: DatabaseDep,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
) -> dict[str, Any]:
    reason = await _reason(request, required=False)
    job_token = _job_token(token, x_job_token, authorization)
    return await run_in_threadpool(
        _owner_decide, db, ticket_id, True, job_token, authorization, reason
    )


@router.post(
    "/v1/spend_tickets/{ticket_id}/reject",
    summary="Reject a proposed spend ticket of your job (a reason is required)",
    operation_id="reject_spend_ticket",
    openapi_extra={**body(DecisionRequest), **OWNER_AUTH},
    **OWNER,
)
async def owner_reject(
    ticket_id: str,
    request: Request,
    db: DatabaseDep,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
) -> dict[str, Any]:
    reason = await _reason(request, required=True)
    job_token = _job_token(token, x_job_token, authorization)
    return await run_in_threadpool(
        _owner_decide, db, ticket_id, False, job_token, authorization, reason
    )
