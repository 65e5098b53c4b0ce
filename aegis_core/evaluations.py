"""The Governance API's request rules, in the order a request meets them.

authenticate -> per-minute rate -> parse and validate -> tier rules (shadow mode) ->
monthly quota -> evaluate -> persist + audit. The HTTP layer only moves bytes in and
out; everything a conformance test can observe is decided here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aegis_core import decisions, limits
from aegis_core.customers import Principal, authenticate
from aegis_core.db.session import Database
from aegis_core.errors import AuthError, RateLimited, ValidationError
from aegis_core.governance import evaluate, parse_evaluate, parse_risk_check, risk_check

SANDBOX_DAILY_LIMIT = 10
SANDBOX_UPGRADE_URL = "https://portal.undercurrentholdings.com"


@dataclass
class CallContext:
    """What the HTTP layer needs for headers, filled in as the request goes through."""

    request_id: str
    principal: Principal | None = None
    rate_remaining: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        if self.principal is None:
            return {"_tenant_id": "anonymous"}
        return {
            "_tenant_id": self.principal.customer_id,
            "_customer_id": self.principal.customer_id,
            "_tier": self.principal.tier.name,
        }


def parse_json_body(raw: bytes, *, empty_as: Any = None) -> Any:
    if not raw.strip():
        if empty_as is not None:
            return empty_as
        raise ValidationError("Invalid JSON body: the body is empty")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Invalid JSON body: {exc}") from None


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
        raise RateLimited(
            f"Rate limit exceeded: {usage.limit} requests per minute for the "
            f"{principal.tier.name} tier"
        )
    return principal


def evaluate_request(
    db: Database, ctx: CallContext, authorization: str | None, raw: bytes
) -> dict[str, Any]:
    """POST /evaluate."""
    principal = admit(db, ctx, authorization)
    body = parse_json_body(raw, empty_as={})
    inp = parse_evaluate(body)
    if inp.shadow_mode and not principal.tier.shadow_mode:
        raise AuthError("shadow_mode requires the Professional tier or higher")
    now = datetime.now(UTC)
    decision = evaluate(inp, decision_id=str(uuid.uuid4()), timestamp=_now_iso(now))
    with db.session() as session:
        usage = limits.consume(
            session,
            "evaluations",
            principal.key_id,
            limits.month_window(now),
            principal.tier.monthly_evaluations,
        )
        if not usage.allowed:
            raise RateLimited(
                f"Monthly evaluation limit reached ({usage.limit} for the "
                f"{principal.tier.name} tier)"
            )
        decisions.store(
            session,
            decision,
            customer_id=principal.customer_id,
            agent_id=inp.agent_id,
            session_id=inp.session_id,
            proposal_summary=inp.proposal_summary,
            estimated_impact=inp.estimated_impact,
            input_context=body,
        )
    return {**decision, **ctx.identity(), "_request_id": ctx.request_id}


def sandbox_request(db: Database, ctx: CallContext, client_ip: str, raw: bytes) -> dict[str, Any]:
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
    db: Database, ctx: CallContext, authorization: str | None, raw: bytes
) -> dict[str, Any]:
    """POST /risk-check: a plain comparison, no gates and no audit trail."""
    admit(db, ctx, authorization)
    result = risk_check(parse_risk_check(parse_json_body(raw)))
    return {**result, **ctx.identity(), "_request_id": ctx.request_id}
