"""The human gate over HTTP: operators decide spend tickets (`X-Admin-Key`, with
`X-Operator-Email` recorded as the actor); a job's owner decides its own tickets (the
job's access token or the owning customer's API key; to anyone else a ticket does not
exist). Deciding twice, or a ticket that is not `proposed`, is 409."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from aegis_core import orders
from aegis_core.db.models import SpendTicket
from aegis_core.errors import NotFound, ValidationError
from aegis_core.loop import tickets
from aegis_core.loop.tickets import TicketStatus
from api.deps import AdminDep, DatabaseDep
from api.openapi import errors
from api.schemas import ErrorBody

router = APIRouter(tags=["gate"])
OperatorEmail = Annotated[str | None, Header(alias="X-Operator-Email")]
TokenQuery = Annotated[str | None, Query(alias="token")]
JobTokenHeader = Annotated[str | None, Header(alias="X-Job-Token")]
AuthHeader = Annotated[str | None, Header(alias="Authorization")]


class DecisionRequest(BaseModel):
    """Optional on approve; `reason` is required to reject (it is audited)."""

    reason: str = Field(min_length=1, max_length=tickets.MAX_TEXT)


def _body_doc(required: bool) -> dict[str, Any]:
    schema = DecisionRequest.model_json_schema()
    content = {"application/json": {"schema": schema, "example": {"reason": "too costly"}}}
    return {"requestBody": {"required": required, "content": content}}


class Ticket(BaseModel):
    id: str
    job_id: str
    kind: str
    units: int | None
    amount: str = Field(description="US dollars, two decimals.")
    description: str = Field(description="The agent's rationale for the spend.")
    status: TicketStatus
    decided_by: str | None = Field(
        description=f"An operator's email, `customer:...`, or `{tickets.POLICY_ACTOR}`."
    )
    decided_at: str | None
    decision_reason: str | None
    stripe_pi_id: str | None = Field(
        description="Stripe test-mode PaymentIntent, or `pi_local_test_...` (no funds move)."
    )
    executed_at: str | None
    execution: dict[str, Any] | None
    created_at: str


class TicketList(BaseModel):
    tickets: list[Ticket]
    count: int


DECIDE_ERRORS: dict[int | str, dict[str, Any]] = {
    **errors(),  # the edge's 400 and 413
    400: {"model": ErrorBody, "description": "A missing reason or operator email."},
    404: {"model": ErrorBody, "description": "No such ticket (or not yours)."},
    409: {"model": ErrorBody, "description": "The ticket was already decided."},
}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **DECIDE_ERRORS,
    403: {"model": ErrorBody, "description": "Missing or invalid X-Admin-Key."},
}


async def _reason(request: Request, required: bool) -> str | None:
    raw = await request.body()
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(raw)
        except ValueError:
            raise ValidationError("request body must be valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError('request body must be a JSON object such as {"reason": "..."}')
    reason = body.get("reason")
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
    response_model=Ticket,
    responses=ADMIN_ERRORS,
    summary="Operator: approve a proposed spend ticket",
    openapi_extra=_body_doc(required=False),
)
async def admin_approve(
    ticket_id: str, request: Request, db: DatabaseDep, _: AdminDep, email: OperatorEmail = None
) -> dict[str, Any]:
    reason = await _reason(request, required=False)
    return await run_in_threadpool(_operator_decide, db, ticket_id, True, email, reason)


@router.post(
    "/admin/gate/{ticket_id}/reject",
    response_model=Ticket,
    responses=ADMIN_ERRORS,
    summary="Operator: reject a proposed spend ticket (a reason is required)",
    openapi_extra=_body_doc(required=True),
)
async def admin_reject(
    ticket_id: str, request: Request, db: DatabaseDep, _: AdminDep, email: OperatorEmail = None
) -> dict[str, Any]:
    reason = await _reason(request, required=True)
    return await run_in_threadpool(_operator_decide, db, ticket_id, False, email, reason)


@router.get(
    "/admin/tickets",
    response_model=TicketList,
    responses={**errors(), 403: ADMIN_ERRORS[403]},
    summary="Operator: spend tickets, oldest first (e.g. ?status=proposed)",
)
def admin_tickets(
    db: DatabaseDep,
    _: AdminDep,
    status: Annotated[Literal[tuple(TicketStatus)] | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    with db.session() as session:
        rows = tickets.list_tickets(session, status, limit)
    return {"tickets": rows, "count": len(rows)}


def _customer_decide(
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
        try:  # the job's read rule decides who owns the ticket
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


CUSTOMER_ERRORS: dict[int | str, dict[str, Any]] = {
    **DECIDE_ERRORS,
    400: {"model": ErrorBody, "description": "A rejection without a reason."},
}


@router.post(
    "/v1/spend_tickets/{ticket_id}/approve",
    response_model=Ticket,
    responses=CUSTOMER_ERRORS,
    summary="Approve a proposed spend ticket of your job",
    openapi_extra=_body_doc(required=False),
)
async def customer_approve(
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
        _customer_decide, db, ticket_id, True, job_token, authorization, reason
    )


@router.post(
    "/v1/spend_tickets/{ticket_id}/reject",
    response_model=Ticket,
    responses=CUSTOMER_ERRORS,
    summary="Reject a proposed spend ticket of your job (a reason is required)",
    openapi_extra=_body_doc(required=True),
)
async def customer_reject(
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
        _customer_decide, db, ticket_id, False, job_token, authorization, reason
    )
