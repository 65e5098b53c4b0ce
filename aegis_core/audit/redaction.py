"""What may enter the audit log: whitelisted keys, JSON-safe values, no secrets.

The log is append-only, so anything stored is stored forever: a secret that slipped in
could never be removed. Keys outside the whitelist are dropped (their names are kept in
`_dropped`), sensitive key names are never whitelisted, and string values are scrubbed
of anything that looks like a credential or a payment card.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aegis_core.checksums import luhn_ok

ALLOWED_DETAIL_KEYS = frozenset(
    {
        # job lifecycle
        "from_status",
        "to_status",
        "status",
        "reason",
        "job_id",
        "description",
        "format",
        "output_format",
        "source_url",
        "final_url",
        "auto_approve_threshold",
        "estimated_cost",
        "complexity_score",
        "route",
        "phase",
        "run_id",
        "partition",
        "attempt",
        "kind",
        "requested_by",
        "note",
        "error",
        "message",
        "mode",
        # data handling
        "bytes",
        "sha256",
        "content_type",
        "detected_format",
        "elements",
        "chunks",
        "rows",
        "mean_quality",
        "pii_masked",
        "dedup",
        "quality",
        "dropped",
        "path",
        "output_path",
        "duration_ms",
        "counts",
        "count",
        # spend and payments
        "ticket_id",
        "amount",
        "amount_cents",
        "currency",
        "policy",
        "threshold",
        "decided_by",
        "approved_by",
        "units",
        "outcome",
        "via",
        "waited_s",
        "timeout_s",
        "event_id",
        "event_type",
        "checkout_session_id",
        "payment_intent_id",
        "stripe_pi_id",
        "livemode",
        # governance
        "decision_id",
        "customer_id",
        "tier",
        "name",
        "key_id",
        "key_prefix",
        "gates",
        "failing_gates",
        "confidence",
        "audit_hash",
        "estimated_impact",
        "agent_id",
        "session_id",
        "model_backend",
        "model_name",
        "proposal_summary",
        # the loop: what the model measured and said
        "features",
        "reasons",
        "rationale",
        "spend",
        # certificates
        "checks",
        "cert_id",
        "signature_alg",
        "verification_method",
    }
)

REDACTED = "[REDACTED]"
MAX_STRING = 2000
MAX_DEPTH = 6

_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|api_?key|authorization|cookie|card|cvc|cvv|pan$|iban|ssn"
    r"|private|signing_?key|credential",
    re.IGNORECASE,
)
_SECRET_VALUES = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"),
    re.compile(r"\bagk_[A-Za-z0-9_-]{16,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
]
_CARD_CANDIDATE = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


def _scrub_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return REDACTED if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


def _strip_userinfo(text: str) -> str:
    if "://" not in text or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.username is None and parts.password is None:
        return text
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def scrub_text(text: str) -> str:
    """Remove credentials and card numbers from a free-text value."""
    text = _strip_userinfo(text)
    for pattern in _SECRET_VALUES:
        text = pattern.sub(REDACTED, text)
    text = _CARD_CANDIDATE.sub(_scrub_card, text)
    if len(text) > MAX_STRING:
        text = text[:MAX_STRING] + "…"
    return text


def _clean(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return scrub_text(value)
    if depth >= MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            str(k): REDACTED if _SENSITIVE_KEY.search(str(k)) else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    return scrub_text(str(value))  # Decimal, UUID, datetime, enums: their text form


def redact_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Whitelist top-level keys, then scrub every value; never raises on odd input."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in (details or {}).items():
        if key in ALLOWED_DETAIL_KEYS:
            kept[key] = _clean(value, 1)
        else:
            dropped.append(str(key))
    if dropped:
        kept["_dropped"] = sorted(dropped)
    return kept
