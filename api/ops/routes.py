"""The Ops console's pages under /ops: server-rendered HTML, plain forms, no build step.

Every page needs a signed-in operator (a GET without one is sent to the sign-in page);
every POST needs the session's CSRF token (403 without it). Decisions go through the same
domain function as `POST /admin/gate/{id}/approve|reject`, with the operator's email as
the audit actor. Responses carry a strict CSP (scripts and styles from /ops/static only)
and may not be framed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from aegis_core import certificates, limits
from aegis_core.db.models import AuditCertificate
from aegis_core.errors import AegisError, NotFound
from aegis_core.loop import tickets
from api.deps import DatabaseDep, SettingsDep
from api.errors import STATUS_BY_ERROR
from api.input_policy import form_of
from api.ops import views
from api.ops.session import CSRF_FIELD, OpsSession, Sessions

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC = {"ops.css": "text/css; charset=utf-8", "activity.js": "text/javascript; charset=utf-8"}
SIGN_INS_PER_MINUTE = 10  # per client address: a brake on guessing the admin key
_NEXT = re.compile(r"^/ops(/(?!\.+(/|$))[A-Za-z0-9._~-]+)*/?$")  # no dot segments

ENV = Environment(
    loader=PackageLoader("api.ops", "templates"), autoescape=True, undefined=StrictUndefined
)


class OpsRoute(APIRoute):
    """Adds the console's security headers to whatever a page answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return with_headers


router = APIRouter(prefix="/ops", include_in_schema=False, route_class=OpsRoute)


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("operator", None)
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(status: int, title: str, message: str, **context: Any) -> HTMLResponse:
    return page("error.html", status, title=title, message=message, back=None, **context)


def safe_next(value: str | None) -> str:
    """Where to go after a form: a console path only (never another site)."""
    return value if value and _NEXT.match(value) else "/ops"


def to_sign_in(request: Request) -> RedirectResponse:
    query = urlencode({"next": safe_next(request.url.path)})
    return RedirectResponse(f"/ops/login?{query}", status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _status_of(exc: AegisError) -> int:
    return next((code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls)), 500)


# --- signing in and out ---------------------------------------------------------------------


def _login_page(
    request: Request, sessions: Sessions, status: int = 200, error: str | None = None, **form: str
) -> HTMLResponse:
    csrf, cookie = sessions.login_token(request)
    response = page(
        "login.html",
        status,
        enabled=sessions.enabled,
        csrf=csrf,
        error=error,
        next=safe_next(form.get("next") or request.query_params.get("next")),
        email=form.get("email", ""),
    )
    if cookie is not None:
        sessions.set_login_cookie(response, cookie)
    return response


@router.get("/login")
def sign_in_form(request: Request, settings: SettingsDep) -> Response:
    sessions = Sessions(settings)
    if sessions.read(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request, sessions, 200 if sessions.enabled else 503)


def _count_sign_in(db: DatabaseDep, client: str) -> bool:
    with db.session() as session:
        now = datetime.now(UTC)
        window = limits.minute_window(now)
        return limits.consume(session, "ops_sign_in", client, window, SIGN_INS_PER_MINUTE).allowed


@router.post("/login")
async def sign_in(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    sessions = Sessions(settings)
    form = await form_of(request)
    nonce = sessions.login_nonce(request)
    if nonce is None or not sessions.csrf_ok(nonce, form.get(CSRF_FIELD)):
        return _login_page(
            request,
            sessions,
            403,
            "The sign-in form expired or did not come from this console. Please try again.",
        )
    if not sessions.enabled:
        return _login_page(request, sessions, 503)
    email, key = form.get("email", ""), form.get("admin_key", "")
    if not await run_in_threadpool(_count_sign_in, db, _client(request)):
        return _login_page(
            request, sessions, 429, "Too many sign-in attempts: wait a minute.", email=email
        )
    if not sessions.key_ok(key):
        return _login_page(
            request,
            sessions,
            403,
            "That admin key is not valid.",
            email=email,
            next=form.get("next", ""),
        )
    try:
        actor = tickets.operator_actor(email)
    except AegisError:
        return _login_page(
            request,
            sessions,
            400,
            "Enter your email address: it is recorded as the actor of your decisions.",
            email=email,
            next=form.get("next", ""),
        )
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    sessions.sign_in(response, actor)
    return response


@router.post("/logout")
async def sign_out(request: Request, settings: SettingsDep) -> Response:
    sessions = Sessions(settings)
    operator = sessions.read(request)
    if operator is not None:
        form = await form_of(request)
        if not sessions.csrf_ok(operator.nonce, form.get(CSRF_FIELD)):
            return _csrf_refused(operator)
    response = RedirectResponse("/ops/login", status_code=303)
    sessions.sign_out(response)
    return response


def _csrf_refused(operator: OpsSession | None) -> HTMLResponse:
    return error_page(
        403,
        "Refused",
        "This form's security token is missing or wrong (it may be from an old page or "
        "another site). Reload the page and try again.",
        operator=operator,
    )


# --- pages ----------------------------------------------------------------------------------


def _overview(db: DatabaseDep) -> dict[str, Any]:
    with db.session() as session:
        return views.overview(session)


@router.get("")
async def home(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    operator = Sessions(settings).read(request)
    if operator is None:
        return to_sign_in(request)
    data = await run_in_threadpool(_overview, db)
    return page("home.html", operator=operator, **data)


def _job(db: DatabaseDep, job_id: str, dagster_ui_url: str) -> dict[str, Any]:
    with db.session() as session:
        return views.job_page(session, job_id, dagster_ui_url)


@router.get("/jobs/{job_id}")
async def job(job_id: str, request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    operator = Sessions(settings).read(request)
    if operator is None:
        return to_sign_in(request)
    try:
        data = await run_in_threadpool(_job, db, job_id, settings.dagster_ui_url)
    except NotFound as exc:
        return error_page(404, "Not found", str(exc), operator=operator)
    return page("job.html", operator=operator, **data)


def _certificate(db: DatabaseDep, job_id: str) -> AuditCertificate | None:
    with db.session() as session:
        return certificates.latest(session, job_id)


@router.get("/jobs/{job_id}/certificate.{fmt}")
async def certificate(
    job_id: str,
    fmt: Literal["json", "pdf"],
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
) -> Response:
    operator = Sessions(settings).read(request)
    if operator is None:
        return to_sign_in(request)
    row = await run_in_threadpool(_certificate, db, job_id)
    path = None if row is None else row.json_path if fmt == "json" else row.pdf_path
    if row is None or not path or not Path(path).is_file():
        return error_page(
            404, "Not found", f"job {job_id} has no {fmt.upper()} certificate", operator=operator
        )
    media = "application/json" if fmt == "json" else "application/pdf"
    return FileResponse(
        path,
        media_type=media,
        filename=f"{row.id}.{fmt}",
        content_disposition_type="inline",
        headers={"Cache-Control": "no-store"},
    )


# --- the gate -------------------------------------------------------------------------------


def _decide(db: DatabaseDep, ticket_id: str, approve: bool, actor: str, reason: str | None) -> str:
    with db.session() as session:
        ticket = tickets.decide(
            session, ticket_id, approve=approve, actor=actor, reason=reason, via="operator"
        )
        return ticket.job_id


@router.post("/tickets/{ticket_id}/{decision}")
async def decide(
    ticket_id: str,
    decision: Literal["approve", "reject"],
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
) -> Response:
    sessions = Sessions(settings)
    operator = sessions.read(request)
    if operator is None:
        return error_page(403, "Sign in first", "Your session has ended: sign in again.")
    form = await form_of(request)
    if not sessions.csrf_ok(operator.nonce, form.get(CSRF_FIELD)):
        return _csrf_refused(operator)
    reason = (form.get("reason") or "").strip() or None
    try:
        job_id = await run_in_threadpool(
            _decide, db, ticket_id, decision == "approve", operator.email, reason
        )
    except AegisError as exc:
        title = f"Could not {decision} the ticket"
        return error_page(_status_of(exc), title, str(exc), operator=operator)
    target = form.get("next") or f"/ops/jobs/{job_id}"
    return RedirectResponse(safe_next(target), status_code=303)


# --- static files ---------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    media = STATIC.get(name)
    if media is None:
        return error_page(404, "Not found", f"no file {name}")
    data = (files("api.ops") / "static" / name).read_bytes()
    return Response(data, media_type=media, headers={"Cache-Control": "public, max-age=300"})
