"""The Governance API's request rules, in the order a request meets them.

authenticate -> per-minute rate -> parse and validate -> tier rules (shadow mode) ->
monthly quota -> evaluate -> persist + audit. The HTTP layer only moves bytes in and
out; everything a conformance test can observe is decided here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from aegis_core import decisions, limits
from aegis_core.customers import Principal, authenticate
from aegis_core.db.session import Database
from aegis_core.errors import AegisError, AuthError, RateLimited, ValidationError
from aegis_core.governance import evaluate, parse_evaluate, parse_risk_check, risk_check
from aegis_core.group_commit import AsyncGroupCommitter, GroupCommitter
from aegis_core.input_policy import JsonBody, read_json

SANDBOX_DAILY_LIMIT = 10
PRINCIPAL_CACHE_SECONDS = 10.0
SANDBOX_UPGRADE_URL = "https://portal.undercurrentholdings.com"


@dataclass
class CallContext:
    """What the HTTP layer needs for headers, filled in as the request goes through."""

    request_id: str
    principal: Principal | None = None
    rate_remaining: int | None = None

    def identity(self) -> dict[str, Any]:
        if self.principal is None:
            return {"_tenant_id": "anonymous"}
        return {
            "_tenant_id": self.principal.customer_id,
            "_customer_id": self.principal.customer_id,
            "_tier": self.principal.tier.name,
        }


def parse_json_body(raw: bytes | JsonBody, *, empty_as: Any = None) -> Any:
    """The body's JSON value under the input policy (already parsed when the edge did)."""
    body = raw if isinstance(raw, JsonBody) else read_json(raw)
    if body.empty:
        if empty_as is not None:
            return empty_as
        raise ValidationError("Invalid JSON body: the body is empty")
    if body.error is not None:
        raise ValidationError(f"Invalid JSON body: {body.error}")
    return body.value


def _now_iso(now: datetime) -> str:
    return now.isoformat(timespec="microseconds").replace("+00:00", "Z")


def admit(db: Database, ctx: CallContext, authorization: str | None) -> Principal:
    """Authenticate and count the request against the key's per-minute rate."""
    now = datetime.now(UTC)
    with db.session() as session:
        principal = authenticate(session, authorization)
        ctx.principal = principal
        usage = limits.consume(
            session,
            "rate",
            principal.key_id,
            limits.minute_window(now),
            principal.tier.requests_per_minute,
        )
    ctx.rate_remaining = usage.remaining
    if not usage.allowed:
        raise _rate_exceeded(principal)
    return principal


def _rate_exceeded(principal: Principal) -> RateLimited:
    return RateLimited(
        f"Rate limit exceeded: {principal.tier.requests_per_minute} requests per minute for "
        f"the {principal.tier.name} tier"
    )


@dataclass(frozen=True)
class PendingEvaluation:
    """One /evaluate request's writes; `new` is None when only the request is counted."""

    principal: Principal
    now: datetime
    new: decisions.NewDecision | None


@dataclass(frozen=True)
class EvaluationOutcome:
    rate: limits.Usage
    monthly: limits.Usage | None


def counters_of(batch: Sequence[PendingEvaluation]) -> list[limits.CounterKey]:
    """Every counter a batch may move, sorted (the order rows are locked in)."""
    keys = set()
    for item in batch:
        keys.add(("rate", item.principal.key_id, limits.minute_window(item.now)))
        keys.add(("evaluations", item.principal.key_id, limits.month_window(item.now)))
    return sorted(keys)


def settle(
    batch: Sequence[PendingEvaluation], counts: dict[limits.CounterKey, int]
) -> tuple[list[EvaluationOutcome], list[decisions.NewDecision], dict[limits.CounterKey, int]]:
    """Settle each request against its key's rate and (for a decision) the monthly quota,
    in arrival order, as if each were alone: (outcomes, admitted decisions, moved counts).
    `counts` are the locked counts of `counters_of(batch)`."""
    start = dict(counts)
    outcomes, admitted = [], []
    for item in batch:
        tier, key_id = item.principal.tier, item.principal.key_id
        rate = limits.take(
            counts,
            limits.Ask("rate", key_id, limits.minute_window(item.now), tier.requests_per_minute),
        )
        monthly = None
        if rate.allowed and item.new is not None:
            monthly = limits.take(
                counts,
                limits.Ask(
                    "evaluations", key_id, limits.month_window(item.now), tier.monthly_evaluations
                ),
            )
            if monthly.allowed:
                admitted.append(item.new)
        outcomes.append(EvaluationOutcome(rate, monthly))
    return outcomes, admitted, {c: n for c, n in counts.items() if n != start[c]}


def write_evaluations(
    session: Session, batch: Sequence[PendingEvaluation]
) -> list[EvaluationOutcome]:
    """A batch through SQLAlchemy (SQLite; `evaluation_pg` is PostgreSQL's one-trip path):
    settle it, then persist the admitted decisions together (one audit append)."""
    outcomes, admitted, moved = settle(batch, limits.lock_counts(session, counters_of(batch)))
    limits.store_counts(session, moved)
    decisions.store_many(session, admitted)
    return outcomes


_writers: dict[str, GroupCommitter[PendingEvaluation]] = {}
_async_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, AsyncGroupCommitter[PendingEvaluation]]
] = weakref.WeakKeyDictionary()
_principals: dict[tuple[str, str], tuple[float, Principal]] = {}


async def _settle(db: Database, item: PendingEvaluation) -> EvaluationOutcome:
    """Hand the request to its process's batch writer; back once the batch committed.
    PostgreSQL: batches on this event loop (`evaluation_pg`); SQLite: a writer thread."""
    if db.dialect != "postgresql":
        if db.url not in _writers:
            _writers[db.url] = GroupCommitter(db, write_evaluations)
        return await asyncio.wrap_future(_writers[db.url].submit(item))
    writers = _async_writers.setdefault(asyncio.get_running_loop(), {})
    if db.url not in writers:
        from aegis_core import evaluation_pg

        writers[db.url] = AsyncGroupCommitter(
            evaluation_pg.write_evaluations,
            evaluation_pg.batch_connection(db).transaction,
            durable=evaluation_pg.Flusher(db).wait,
        )
    return await writers[db.url].submit(item)


async def _principal(db: Database, authorization: str | None) -> Principal:
    """Resolve a key, cached briefly per process (a revoked key stops working within
    PRINCIPAL_CACHE_SECONDS)."""
    cache_key = (db.url, authorization or "")
    hit = _principals.get(cache_key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]

    def lookup() -> Principal:
        with db.session() as session:
            return authenticate(session, authorization)

    principal = await asyncio.to_thread(lookup)
    if len(_principals) > 10_000:
        _principals.clear()
    _principals[cache_key] = (time.monotonic() + PRINCIPAL_CACHE_SECONDS, principal)
    return principal


async def evaluate_request(
    db: Database, ctx: CallContext, authorization: str | None, raw: bytes | JsonBody
) -> dict[str, Any]:
    """POST /evaluate: the decision is durable (and audited) before the response."""
    principal = await _principal(db, authorization)
    ctx.principal = principal
    now = datetime.now(UTC)
    refused: AegisError | None = None
    new = None
    try:
        body = parse_json_body(raw, empty_as={})
        inp = parse_evaluate(body)
        if inp.shadow_mode and not principal.tier.shadow_mode:
            raise AuthError("shadow_mode requires the Professional tier or higher")
        decision = evaluate(inp, decision_id=str(uuid.uuid4()), timestamp=_now_iso(now))
        new = decisions.NewDecision(
            decision=decision,
            customer_id=principal.customer_id,
            agent_id=inp.agent_id,
            session_id=inp.session_id,
            proposal_summary=inp.proposal_summary,
            estimated_impact=inp.estimated_impact,
            input_context=body,
        )
    except AegisError as exc:  # still counts against the rate, like any request
        refused = exc
    outcome = await _settle(db, PendingEvaluation(principal, now, new))
    ctx.rate_remaining = outcome.rate.remaining
    if not outcome.rate.allowed:
        raise _rate_exceeded(principal)
    if refused is not None:
        raise refused
    if outcome.monthly is None or not outcome.monthly.allowed:
        raise RateLimited(
            f"Monthly evaluation limit reached ({principal.tier.monthly_evaluations} for the "
            f"{principal.tier.name} tier)"
        )
    return {**new.decision, **ctx.identity(), "_request_id": ctx.request_id}


def sandbox_request(
    db: Database, ctx: CallContext, client_ip: str, raw: bytes | JsonBody
) -> dict[str, Any]:
    """POST /sandbox/evaluate: no key, 10 per IP per UTC day, nothing persisted or audited."""
    inp = parse_evaluate(parse_json_body(raw, empty_as={}))
    now = datetime.now(UTC)
    with db.session() as session:
        usage = limits.consume(
            session, "sandbox", client_ip, limits.day_window(now), SANDBOX_DAILY_LIMIT
        )
    if not usage.allowed:
        raise RateLimited(
            "sandbox_limit_reached",
            body={
                "error": "sandbox_limit_reached",
                "limit": SANDBOX_DAILY_LIMIT,
                "remaining": 0,
                "message": (
                    f"Sandbox limit reached ({SANDBOX_DAILY_LIMIT}/day). Get a free API key at "
                    f"{SANDBOX_UPGRADE_URL} for 100/month."
                ),
                "upgrade_url": SANDBOX_UPGRADE_URL,
            },
        )
    decision = evaluate(inp, decision_id=str(uuid.uuid4()), timestamp=_now_iso(now))
    return {
        **decision,
        **ctx.identity(),
        "_request_id": ctx.request_id,
        "sandbox": True,
        "remaining": usage.remaining,
    }


def risk_check_request(
    db: Database, ctx: CallContext, authorization: str | None, raw: bytes | JsonBody
) -> dict[str, Any]:
    """POST /risk-check: a plain comparison, no gates and no audit trail."""
    admit(db, ctx, authorization)
    result = risk_check(parse_risk_check(parse_json_body(raw)))
    return {**result, **ctx.identity(), "_request_id": ctx.request_id}
