"""Every hostile input of issue 13 over HTTP, on SQLite and PostgreSQL: a clear 4xx with
`{"error": ...}` and the X-AEGIS headers, never a 500, and nothing stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import stripe
from sqlalchemy import func, select

from aegis_core.db.models import GovernanceDecision, Job, StripeEvent
from aegis_core.db.session import Database
from tests.utils.live_api import MAX_BODY_BYTES, SOURCE_URL, LiveAPI, served
from tests.utils.stripe_events import SECRET, checkout_completed

HEADERS = ("x-aegis-version", "x-aegis-request-id", "x-aegis-tenant")
DEEP = 10_000


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveAPI]:
    with served(request.param, request, tmp_path_factory.mktemp("hostile")) as live:
        yield live


@pytest.fixture(scope="module")
def http(api: LiveAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base, timeout=30) as client:
        yield client


def _counts(db_url: str) -> tuple[int, int, int]:
    db = Database(db_url)
    try:
        with db.session() as s:
            return tuple(
                s.scalar(select(func.count()).select_from(model))
                for model in (Job, GovernanceDecision, StripeEvent)
            )
    finally:
        db.dispose()


def assert_refused(r: httpx.Response, status: int = 400) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    for header in HEADERS:
        assert r.headers.get(header), header


# --- a NUL in the URL -------------------------------------------------------------------

NUL_URLS = [
    ("GET", "/v1/jobs/%00"),
    ("GET", "/jobs/%00"),
    ("GET", "/checkout/%00"),
    ("POST", "/checkout/%00/pay"),
    ("GET", "/customer/decisions/%00"),
    ("POST", "/jobs/%00/process"),
    ("POST", "/jobs/%00/complete"),
    ("GET", "/v1/jobs/abc?token=%00"),
    ("GET", "/customer/decisions?month=2026-01%00"),
    ("GET", "/customer/decisions/export?format=%00"),
]


@pytest.mark.parametrize(("method", "url"), NUL_URLS)
def test_nul_in_url_is_400(http: httpx.Client, api: LiveAPI, method: str, url: str) -> None:
    r = http.request(method, url, headers={**api.customer, **api.admin})
    assert_refused(r)


# --- hostile JSON bodies ----------------------------------------------------------------


def _job(field: bytes) -> bytes:
    return b'{"source_url": "' + SOURCE_URL.encode() + b'", "description": "pairs", ' + field + b"}"


HOSTILE_FIELDS = {
    "nul escaped": b'"metadata": {"note": "a\\u0000b"}',
    "nul in a key": b'"metadata": {"a\\u0000": 1}',
    "nul in a known field": b'"agent_id": "bot\\u0000"',
    "lone surrogate": b'"metadata": {"note": "\\ud800"}',
    "lone low surrogate in a key": b'"\\udc00": 1',
    "NaN in metadata": b'"metadata": {"x": NaN}',
    "Infinity in an unknown field": b'"extra": Infinity',
    "-Infinity": b'"metadata": {"x": [1, -Infinity]}',
    "1e400": b'"metadata": {"x": 1e400}',
    "-1e999 unknown": b'"whatever": -1e999',
    "400-digit float": b'"metadata": {"x": 1' + b"0" * 400 + b".5}",
    "2^53": b'"metadata": {"n": 9007199254740992}',
    "-(2^53)": b'"unknown": -9007199254740992',
    "huge int": b'"metadata": {"n": 1' + b"0" * 30 + b"}",
}
RAW_BODIES = {
    "raw NUL byte": b'{"metadata": {"note": "a\x00b"}}',
    "raw surrogate bytes": b'{"metadata": {"note": "\xed\xa0\x80"}}',
    "invalid UTF-8": b'{"metadata": {"note": "\xff\xfe"}}',
    "10,000 nested arrays": b"[" * DEEP + b"]" * DEEP,
    "10,000 nested objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "10,000 nested in metadata": b'{"metadata": ' + b"[" * DEEP + b"]" * DEEP + b"}",
}
JSON_ROUTES = ["/v1/jobs/", "/jobs/", "/evaluate", "/sandbox/evaluate", "/risk-check"]


def _bodies(route: str) -> dict[str, bytes]:
    def wrap(field: bytes) -> bytes:
        return _job(field) if "jobs" in route else b'{"risk_score": 0.2, ' + field + b"}"

    return {**{k: wrap(v) for k, v in HOSTILE_FIELDS.items()}, **RAW_BODIES}


CASES = [(route, name) for route in JSON_ROUTES for name in _bodies(route)]


@pytest.mark.parametrize(("route", "name"), CASES)
def test_hostile_body_is_400_and_stores_nothing(
    http: httpx.Client, api: LiveAPI, route: str, name: str
) -> None:
    before = _counts(api.db_url)
    r = http.post(
        route,
        content=_bodies(route)[name],
        headers={**api.customer, "Content-Type": "application/json"},
    )
    assert_refused(r)
    assert _counts(api.db_url) == before


@pytest.mark.parametrize("url", ["https://[", "HttPs://[::1", "https://]", "https://%00/"])
def test_an_unsplittable_source_url_is_400(http: httpx.Client, api: LiveAPI, url: str) -> None:
    """Found by schemathesis: `urlsplit` raises on these, which was a 500."""
    before = _counts(api.db_url)
    assert_refused(http.post("/v1/jobs/", json={"source_url": url, "description": "pairs"}))
    assert _counts(api.db_url) == before


def test_a_well_formed_body_still_works(http: httpx.Client, api: LiveAPI) -> None:
    """The policy refuses what breaks it, not ordinary input (large but safe numbers too)."""
    r = http.post(
        "/risk-check",
        json={"risk_score": 0.2, "metadata": {"n": 2**53 - 1, "x": 1e308, "s": "naïve ☃ 🎉"}},
        headers=api.customer,
    )
    assert r.status_code == 200, r.text
    r = http.post(
        "/v1/jobs/", json={"source_url": SOURCE_URL, "description": "pairs ☃"}, headers={}
    )
    assert r.status_code == 201, r.text


# --- signed webhooks --------------------------------------------------------------------


def _sign(payload: bytes) -> dict[str, str]:
    try:
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
    except UnicodeDecodeError:  # the library signs text only; sign the bytes as Stripe does
        now = int(time.time())
        mac = hmac.new(SECRET.encode(), b"%d." % now + payload, hashlib.sha256).hexdigest()
        header = f"t={now},v1={mac}"
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def _event(**changes: object) -> bytes:
    event = checkout_completed("job-1", "cs_test_hostile")
    event.update(changes)
    return json.dumps(event).encode()


WEBHOOKS: dict[str, Callable[[], bytes]] = {
    "id is an object": lambda: _event(id={"$ne": None}),
    "id is a list": lambda: _event(id=["evt_1"]),
    "id is a number": lambda: _event(id=42),
    "id is empty": lambda: _event(id=""),
    "id of 300 characters": lambda: _event(id="evt_" + "x" * 296),
    "type is a list": lambda: _event(type=["checkout.session.completed"]),
    "type of 200 characters": lambda: _event(type="t" * 200),
    "type is missing": lambda: _event().replace(b'"type"', b'"kind"'),
    "not an object": lambda: json.dumps([_event().decode()]).encode(),
    "nul escaped": lambda: _event(livemode="\x00"),
    "nul in a key": lambda: _event(**{"\x00": 1}),
    "lone surrogate": lambda: _event().replace(b'"usd"', b'"\\ud800"'),
    "raw surrogate bytes": lambda: _event().replace(b'"usd"', b'"\xed\xa0\x80"'),
    "NaN": lambda: _event().replace(b"2000", b"NaN"),
    "1e400": lambda: _event().replace(b"2000", b"1e400"),
    "2^53": lambda: _event().replace(b"2000", b"9007199254740993"),
    "10,000 deep": lambda: _event(data=None).replace(
        b'"data": null', b'"data": ' + b"[" * DEEP + b"]" * DEEP
    ),
}


@pytest.mark.parametrize("name", list(WEBHOOKS))
def test_signed_hostile_webhook_is_400_and_not_stored(
    http: httpx.Client, api: LiveAPI, name: str
) -> None:
    payload = WEBHOOKS[name]()
    before = _counts(api.db_url)
    assert_refused(http.post("/webhooks/stripe", content=payload, headers=_sign(payload)))
    assert _counts(api.db_url) == before


def test_signature_is_still_checked_first(http: httpx.Client) -> None:
    payload = _event()
    headers = _sign(payload)
    tampered = payload.replace(b"2000", b"1")
    r = http.post("/webhooks/stripe", content=tampered, headers=headers)
    assert_refused(r)
    assert "signature" in r.json()["error"].lower()


# --- size -------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(http: httpx.Client, api: LiveAPI) -> None:
    big = b'{"metadata": {"pad": "' + b"x" * MAX_BODY_BYTES + b'"}}'
    for route in [*JSON_ROUTES, "/webhooks/stripe", "/checkout/x/pay"]:
        assert_refused(http.post(route, content=big, headers=api.customer), 413)


def test_chunked_body_over_the_limit_is_413(http: httpx.Client, api: LiveAPI) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"pad": "'
        for _ in range(MAX_BODY_BYTES // 4096 + 1):
            yield b"y" * 4096
        yield b'"}'

    r = http.post("/evaluate", content=chunks(), headers=api.customer)
    assert "content-length" not in r.request.headers
    assert_refused(r, 413)


def test_body_at_the_limit_is_read(http: httpx.Client, api: LiveAPI) -> None:
    prefix, suffix = b'{"risk_score": 0.1, "pad": "', b'"}'
    body = prefix + b"z" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES
    r = http.post("/risk-check", content=body, headers=api.customer)
    assert r.status_code == 200, r.text


# --- CORS -------------------------------------------------------------------------------


def test_refused_preflight_answers_json(http: httpx.Client) -> None:
    r = http.options(
        "/evaluate",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert_refused(r)
    assert "access-control-allow-origin" not in r.headers
    ok = http.options(
        "/evaluate",
        headers={
            "Origin": "https://portal.undercurrentholdings.com",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://portal.undercurrentholdings.com"
