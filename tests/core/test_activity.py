"""The public activity feed never shows what its whitelist leaves out.

Property: over arbitrary audit rows (any action, any actor, details nested at will, with
emails, URLs, tokens, keys, customer ids, paths and amounts injected under every key name
the code uses and under random ones), the public form of a row holds only the fields its
action allows, each in its expected shape, and none of the injected values, except a
spend amount where the action shows one. Then the same through the real audit log on
SQLite and PostgreSQL, and the feed's cursor.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from aegis_core import activity, audit
from aegis_core.audit import ALLOWED_DETAIL_KEYS
from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database
from aegis_core.jobs import JobStatus
from aegis_core.loop.model import ROUTES
from aegis_core.refine.sniff import FORMATS

SECRETS = [
    "ann.operator@example.com",
    "billing+vip@customer.co.uk",
    "https://93.184.215.14/export.json?sig=s3cr3t",
    "http://user:pw@internal.example/data.pdf",
    "s3://bucket/private/raw.json",
    "sk_test_51HxAbCdEfGhIjKlMnOp",
    "sk_live_51HxAbCdEfGhIjKlMnOp",
    "whsec_AbCdEfGhIjKlMnOp",
    "agk_live_AbCdEfGhIjKlMnOpQrSt",
    "ajt_owner-token-0123456789",
    "adm_live_api_tests_0123456789",
    "Bearer abcdefgh12345678",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
    "cust_0123456789abcdef",
    "cs_test_a1B2c3D4e5F6",
    "pi_3NxYz0123456789",
    "evt_1NxYz0123456789",
    "/var/lib/aegis/data/jobs/x/refined.jsonl",
    "4111 1111 1111 1111",
    "run-7f3a9c",
]
AMOUNTS = ["1234.56", "20.00", "0.05", "999999.99"]
CANARIES = SECRETS + AMOUNTS
KEY_NAMES = sorted(
    ALLOWED_DETAIL_KEYS
    | {name for fields in activity.PUBLIC_EVENTS.values() for name in fields}
    | {"email", "token", "api_key", "customer", "url", "admin_key", "password", "trigger"}
)
ACTIONS = [*activity.PUBLIC_ACTIONS, "api_key_created", "governance_decision", "whatever"]
ACTORS = [
    "system",
    "agent",
    "stripe",
    "operator",
    "customer:cust_0123456789abcdef",
    "customer:job-token",
    "policy:POLICY-DATA-REFINE-01",
    "policy:gate-timeout",
    "ann.operator@example.com",
    "run-7f3a9c",
]
MONEY = re.compile(r"^\d{1,7}\.\d{2}$")
VOCABULARY = (
    set(JobStatus)
    | set(activity.SPEND_KINDS)
    | {"other", "auto_approve", "human_required"}
    | set(FORMATS)
    | set(ROUTES)
)

canary = st.sampled_from(CANARIES)


def detail_strategies(text: st.SearchStrategy[str]) -> tuple[st.SearchStrategy[Any], ...]:
    """Values and details built on `text` (the log itself may not take every character)."""
    leaf = (
        canary
        | canary.map(lambda c: f"see {c} here")
        | st.sampled_from([*VOCABULARY, *AMOUNTS])
        | text
        | st.integers(-(2**40), 2**40)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.booleans()
        | st.none()
    )
    key = st.sampled_from(KEY_NAMES) | text
    values = st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key, inner, max_size=4),
        max_leaves=12,
    )
    return values, st.dictionaries(key, values, max_size=12)


values, details = detail_strategies(st.text(max_size=12))
# The log refuses NUL (PostgreSQL) and lone surrogates (its hash's canonical JSON); the
# API's input policy refuses both before they get this far.
stored_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
)
_, stored_details = detail_strategies(stored_text)
job_ids = st.none() | st.uuids().map(str) | canary
stored_job_ids = st.none() | st.uuids().map(str)  # the column holds a uuid


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, str(k)))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v, path)]
    return [(path, value)]


def assert_public(event: dict[str, Any], action: str, job_id: Any) -> None:
    """What the whitelist allows, and nothing injected beyond a shown spend amount."""
    fields = activity.PUBLIC_EVENTS[action]
    assert tuple(event) == activity.EVENT_KEYS
    assert event["action"] == action
    assert event["actor"] in activity.ROLES
    assert event["job"] is None or (isinstance(job_id, str) and event["job"] == job_id[:8])
    assert set(event["details"]) <= set(fields)
    for name, value in event["details"].items():
        assert fields[name](value) == value, (name, value)  # already in its public shape
        if isinstance(value, str):
            assert value in VOCABULARY or (name == "amount" and MONEY.match(value)), value
        else:
            assert isinstance(value, int | float) and not isinstance(value, bool)
    text = json.dumps(event)
    assert "@" not in text and "://" not in text
    assert event["at"] is None or re.match(r"^\d{4}-\d\d-\d\dT[\d:]{8}(\.\d+)?Z$", event["at"])
    for path, value in _leaves(event):
        if not isinstance(value, str) or path == ("at",):  # the row's own time, checked above
            continue
        for secret in SECRETS:
            assert secret not in value, (path, value)
        for amount in AMOUNTS:
            if amount in value:
                assert path == ("details", "amount") and "amount" in fields, (path, value)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    seq=st.integers(1, 2**53 - 1),
    action=st.sampled_from(ACTIONS),
    actor=st.sampled_from(ACTORS) | st.text(max_size=20),
    job_id=job_ids,
    payload=details | values,
)
def test_the_public_form_of_any_row_keeps_to_the_whitelist(
    seq: int, action: str, actor: str, job_id: Any, payload: Any
) -> None:
    event = activity.public_event(
        seq, "2026-01-02T03:04:05.123456Z", action, job_id, actor, payload
    )
    if action not in activity.PUBLIC_EVENTS:
        assert event is None
        return
    assert event is not None
    assert event["seq"] == seq
    assert_public(event, action, job_id)


def test_what_a_spend_decision_shows() -> None:
    details = {
        "ticket_id": str(uuid.uuid4()),
        "kind": "ocr",
        "amount": "12.50",
        "reason": "ok, mail ann@example.com",
        "via": "operator",
        "policy": "POLICY-DATA-REFINE-01",
    }
    job_id = str(uuid.uuid4())
    event = activity.public_event(
        7, "2026-01-02T03:04:05Z", "human_approve", job_id, "a@b.io", details
    )
    assert event == {
        "seq": 7,
        "at": "2026-01-02T03:04:05Z",
        "action": "human_approve",
        "job": job_id[:8],
        "actor": "operator",
        "details": {"kind": "ocr", "amount": "12.50"},
    }
    unknown_kind = activity.public_event(8, "x", "execute", None, "run-1", {"kind": "sk_test_abc"})
    assert unknown_kind is not None
    assert unknown_kind["details"] == {"kind": "other"}
    assert unknown_kind["actor"] == "system" and unknown_kind["at"] is None


# --- through the audit log -------------------------------------------------------------------


@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(ACTIONS), st.sampled_from(ACTORS), stored_job_ids, stored_details
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_feed_over_the_real_log_keeps_to_the_whitelist(
    db: Database, rows: list[tuple[str, str, Any, dict[str, Any]]]
) -> None:
    with db.session() as session:
        start = session.scalar(select(func.max(AuditLog.seq))) or 0
        for action, actor, job_id, payload in rows:
            audit.append(
                session, job_id if isinstance(job_id, str) else None, action, actor, payload
            )
    with db.session() as session:
        events, cursor = activity.events_after(session, start, activity.MAX_LIMIT)
    public = [(a, j) for a, _, j, _ in rows if a in activity.PUBLIC_EVENTS]
    assert [e["action"] for e in events] == [a for a, _ in public]
    for event, (action, job_id) in zip(events, public, strict=True):
        assert_public(event, action, job_id)
    assert cursor == (events[-1]["seq"] if events else start)


def _append(db: Database, action: str, n: int = 1) -> None:
    with db.session() as session:
        for _ in range(n):
            audit.append(session, str(uuid.uuid4()), action, "system", {"rows": 3})


def test_cursor_and_recent(db: Database) -> None:
    _append(db, "dataset_written", 3)
    _append(db, "api_key_created", 2)  # not public: skipped, never shown
    _append(db, "certificate_issued", 2)
    with db.session() as session:
        first, cursor = activity.events_after(session, 0, 2)
        rest, end = activity.events_after(session, cursor, 50)
        nothing, same = activity.events_after(session, end, 50)
        latest, head = activity.recent(session, 3)
    assert [e["seq"] for e in first] == [1, 2] and cursor == 2
    assert [e["action"] for e in rest] == [
        "dataset_written",
        "certificate_issued",
        "certificate_issued",
    ]
    assert [e["seq"] for e in rest] == [3, 6, 7] and end == 7
    assert nothing == [] and same == 7
    assert [e["seq"] for e in latest] == [3, 6, 7] and head == 7
    assert all(
        e["details"] == ({"rows": 3} if e["action"] == "dataset_written" else {}) for e in rest
    )


@pytest.mark.parametrize(
    ("actor", "role"),
    [
        ("Ann@Example.com", "operator"),
        ("operator", "operator"),
        ("customer:cust_123", "customer"),
        ("customer:job-token", "customer"),
        ("policy:POLICY-DATA-REFINE-01", "policy"),
        ("stripe", "stripe"),
        ("agent", "agent"),
        ("sensor", "system"),
        ("0f7c2a1e-run", "system"),
        ("", "system"),
    ],
)
def test_actors_become_roles(actor: str, role: str) -> None:
    assert activity.role(actor) == role
