"""Generated requests over HTTP, on SQLite and PostgreSQL: no server error, and no status
code the OpenAPI document does not list for the operation.

* schemathesis over `/openapi.json`: every operation, schema-valid and schema-violating
  data, with a customer key and the admin key; then stateful runs along the document's
  links (create a job, then read, check out, pay and process it).
* hypothesis-generated hostile bodies for POST /v1/jobs/, /evaluate, /risk-check and
  /webhooks/stripe (signed correctly, so they get past the signature).

Bounded and derandomized: the same examples on every run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import stripe
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks

from tests.utils.live_api import SOURCE_URL, LiveAPI, served
from tests.utils.stripe_events import SECRET, checkout_completed

EXAMPLES = 25  # per operation and generation mode
HOSTILE_EXAMPLES = 60  # per POST route
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
FIXED = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveAPI]:
    with served(request.param, request, tmp_path_factory.mktemp("fuzz")) as live:
        yield live


@pytest.fixture(scope="module")
def schema(api: LiveAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api.base}/openapi.json")


def _credentials(api: LiveAPI) -> dict[str, str]:
    return {**api.customer, **api.admin}


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, "negative"])
def test_every_operation(api: LiveAPI, schema: schemathesis.BaseSchema, mode: Any) -> None:
    mode = schemathesis.GenerationMode(mode)
    headers = _credentials(api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:

        @settings(FIXED, max_examples=EXAMPLES)
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=api.base, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except Unsatisfiable:  # nothing in this operation can be made invalid
            assert mode is schemathesis.GenerationMode.NEGATIVE


def test_stateful_links(api: LiveAPI, schema: schemathesis.BaseSchema) -> None:
    headers = _credentials(api)
    calls: list[str] = []

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            # Generated URLs almost never name a reachable host: most orders must succeed
            # for the links after them to be followed.
            if case.operation.label.startswith("POST /v1/jobs/") and isinstance(case.body, dict):
                case.body["source_url"] = SOURCE_URL

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            calls.append(case.operation.label)
            return {"base_url": api.base, "headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:  # type: ignore[no-untyped-def, override]
            case.validate_response(response, checks=CHECKS, headers=headers)

    Links.run(settings=settings(FIXED, max_examples=12, stateful_step_count=6))
    assert any(label.startswith("POST /v1/jobs/") for label in calls)
    followed = {"GET /v1/jobs/{job_id}", "GET /checkout/{job_id}", "POST /checkout/{job_id}/pay"}
    assert followed & set(calls), calls


# --- hostile bodies ---------------------------------------------------------------------


class Raw(str):
    """A JSON token written as is (what `json.dumps` would refuse or escape)."""


HOSTILE_LEAVES = st.sampled_from(
    [
        Raw("NaN"),
        Raw("Infinity"),
        Raw("-Infinity"),
        Raw("1e400"),
        Raw("-1e309"),
        Raw("1" + "0" * 330),
        Raw("9007199254740992"),
        Raw("-18446744073709551616"),
        Raw('"\\u0000"'),
        Raw('"a\\ud800b"'),
        Raw('"\\udfff"'),
        Raw('"\x00"'),  # a raw NUL byte
        Raw('"\ud800"'),  # raw surrogate bytes (ED A0 80) once encoded
    ]
)
PLAIN_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from([SOURCE_URL, "https://[", "sharegpt", "medium", "evt_1", "x" * 300])
)
LEAVES = HOSTILE_LEAVES | PLAIN_LEAVES
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(["\x00", "\ud800"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
FIELDS = {
    "/v1/jobs/": ["source_url", "description", "format", "auto_approve_threshold", "metadata"],
    "/evaluate": ["risk_proposed", "quality_subscores", "metadata", "agent_id", "shadow_mode"],
    "/risk-check": ["risk_score", "threshold", "agent_id", "metadata"],
    "/webhooks/stripe": ["id", "type", "data", "livemode", "created"],
}


def _encode(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        items = (f"{_encode(Raw(json.dumps(k)))}: {_encode(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_encode(v) for v in value) + "]"
    return json.dumps(value)  # NaN, Infinity and lone surrogates come out as their tokens


@st.composite
def hostile_bodies(draw: st.DrawFn, route: str) -> bytes:
    """A body for `route`: its own fields with hostile values, nested deep, or junk."""
    kind = draw(st.sampled_from(["fields", "fields", "fields", "deep", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    base: dict[str, Any] = (
        checkout_completed("job-1", "cs_fuzz")
        if route == "/webhooks/stripe"
        else {"source_url": SOURCE_URL, "description": "pairs", "risk_score": 0.2}
    )
    for name in draw(st.lists(st.sampled_from(FIELDS[route]), min_size=1, max_size=3)):
        base[name] = draw(VALUES)
    text = _encode(base)
    if kind == "deep":
        depth = draw(st.sampled_from([31, 33, 1_000, 10_000]))
        text = "[" * depth + text + "]" * depth
    return text.encode("utf-8", "surrogatepass")


def _signed(payload: bytes) -> dict[str, str]:
    try:
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
    except UnicodeDecodeError:  # the library signs text only; sign the bytes as Stripe does
        now = int(time.time())
        mac = hmac.new(SECRET.encode(), b"%d." % now + payload, hashlib.sha256).hexdigest()
        header = f"t={now},v1={mac}"
    return {"Stripe-Signature": header}


@pytest.mark.parametrize("route", list(FIELDS))
def test_hostile_bodies(api: LiveAPI, schema: schemathesis.BaseSchema, route: str) -> None:
    documented = {
        int(code)
        for code in schema.raw_schema["paths"][route]["post"]["responses"]
        if code.isdigit()
    }
    seen: set[int] = set()
    with httpx.Client(base_url=api.base, timeout=30) as http:

        @settings(FIXED, max_examples=HOSTILE_EXAMPLES)
        @given(body=hostile_bodies(route))
        def post(body: bytes) -> None:
            headers = {**api.customer, "Content-Type": "application/json"}
            if route == "/webhooks/stripe":
                headers.update(_signed(body))
            r = http.post(route, content=body, headers=headers)
            seen.add(r.status_code)
            assert r.status_code < 500, (r.status_code, r.text, body[:300])
            assert r.status_code in documented, (r.status_code, r.text, body[:300])
            if r.status_code >= 400:
                assert list(r.json()) == ["error"], r.text
            for header in ("x-aegis-version", "x-aegis-request-id", "x-aegis-tenant"):
                assert r.headers.get(header), header

        post()
    assert 400 in seen
