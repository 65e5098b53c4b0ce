"""Customer jobs (`/jobs/`, `/v1/jobs`) and the operator routes on a job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from aegis_core import customers, operator, orders
from aegis_core.errors import ValidationError
from aegis_core.input_policy import JsonBody, read_json
from api.deps import AdminDep, DatabaseDep, SettingsDep
from api.input_policy import body_of
from api.openapi import bearer_auth, body, errors, ok
from api.schemas import JobCreated, JobRequest, JobView, OperatorQueued

router = APIRouter(tags=["jobs"])
TokenQuery = Annotated[
    str | None, Query(alias="token", description="The job's access token (or X-Job-Token).")
]
JobTokenHeader = Annotated[
    str | None, Header(alias="X-Job-Token", description="The access token shown at creation.")
]
AuthHeader = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
OPTIONAL_CUSTOMER = {"security": [{}, {"customerKey": []}]}
# The link a client follows after creating a job: read it with the token it was given.
CREATED_LINKS = {
    "ReadJob": {
        "operationId": "read_job",
        "parameters": {
            "job_id": "$response.body#/job_id",
            "header.X-Job-Token": "$response.body#/access_token",
        },
    },
    "ShowCheckout": {
        "operationId": "show_checkout",
        "parameters": {"job_id": "$response.body#/job_id"},
    },
    "PayCheckout": {
        "operationId": "pay_checkout",
        "parameters": {"job_id": "$response.body#/job_id"},
    },
    "ProcessJob": {
        "operationId": "process_job",
        "parameters": {"job_id": "$response.body#/job_id"},
    },
}


def _json_body(raw: JsonBody | bytes) -> Any:
    parsed = raw if isinstance(raw, JsonBody) else read_json(raw)
    if parsed.error is not None:
        raise ValidationError("request body must be valid JSON")
    return parsed.value


async def create(
    request: Request, db: DatabaseDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """Start an order: validate, create the $20 Checkout Session, return the job token."""
    body = _json_body(await body_of(request))

    def place() -> dict[str, Any]:
        job_request = orders.parse_job_request(body, settings)
        with db.session() as session:
            customer_id = None
            if authorization:  # a governance customer may own jobs with their key
                customer_id = customers.authenticate(session, authorization).customer_id
            order = orders.place_order(session, job_request, settings, customer_id)
            view = orders.job_view(session, order.job, settings.public_base_url)
        return {
            **view,
            "checkout_url": order.checkout.url,
            "checkout_session_id": order.checkout.id,
            "access_token": order.access_token,
        }

    return JSONResponse(await run_in_threadpool(place), status_code=201)


def read(
    job_id: str,
    db: DatabaseDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    x_job_token: JobTokenHeader = None,
    authorization: AuthHeader = None,
) -> dict[str, Any]:
    """Status, gate state and links; only for the job's owner (everyone else gets 404)."""
    bearer = authorization.partition(" ")[2].strip() if authorization else None
    job_token = x_job_token or token or (bearer if bearer and bearer.startswith("ajt_") else None)
    with db.session() as session:
        job = orders.authorize_read(session, job_id, job_token, authorization)
        return orders.job_view(session, job, settings.public_base_url)


for prefix in ("/jobs", "/v1/jobs"):
    v1 = prefix == "/v1/jobs"
    router.add_api_route(
        f"{prefix}/",
        create,
        methods=["POST"],
        status_code=201,
        summary="Create a job and its checkout",
        operation_id="create_job" if v1 else "create_job_legacy",
        response_model=None,
        responses={
            201: {**ok(JobCreated, "The job, its checkout and its access token")}
            | ({"links": CREATED_LINKS} if v1 else {}),
            **errors(403),
        },
        openapi_extra={**body(JobRequest), **OPTIONAL_CUSTOMER},
    )
    router.add_api_route(prefix, create, methods=["POST"], status_code=201, include_in_schema=False)
    router.add_api_route(
        f"{prefix}/{{job_id}}",
        read,
        methods=["GET"],
        summary="Read a job",
        operation_id="read_job" if v1 else "read_job_legacy",
        response_model=None,
        responses={200: ok(JobView), **errors(404)},
        openapi_extra=OPTIONAL_CUSTOMER,
    )


def _operator_request(db: DatabaseDep, job_id: str, kind: str, actor: str) -> dict[str, Any]:
    with db.session() as session:
        row = operator.request(session, job_id, kind, actor)
        return {"request_id": row.id, "job_id": job_id, "kind": kind, "status": "queued"}


OPERATOR = {
    "response_model": None,
    "status_code": 202,
    "responses": {202: ok(OperatorQueued, "Queued for the sensor"), **errors(403, 404, 409)},
    "openapi_extra": bearer_auth("adminKey"),
}


@router.post("/jobs/{job_id}/process", operation_id="process_job", **OPERATOR)
def process(job_id: str, db: DatabaseDep, who: AdminDep) -> dict[str, Any]:
    """Operator: re-run the refinery for a job (a sensor launches the run)."""
    return _operator_request(db, job_id, "process", who)


@router.post("/jobs/{job_id}/complete", operation_id="complete_job", **OPERATOR)
def complete(job_id: str, db: DatabaseDep, who: AdminDep) -> dict[str, Any]:
    """Operator: re-issue the job's certificate (a sensor runs the certificate asset alone);
    409 unless the job is complete, or refining with its dataset written."""
    return _operator_request(db, job_id, "complete", who)
