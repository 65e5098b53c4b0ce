"""The Ops console over HTTP, on SQLite and PostgreSQL: every page answers a signed-in
operator and sends anyone else to sign in; sign-in, CSRF and cookie rules; decisions go
through the gate with the operator's email; escaping; security headers; certificates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient

from aegis_core.certificates import Issuer, issue_certificate
from aegis_core.db.session import Database
from aegis_core.settings import get_settings
from api.ops.session import LOGIN_COOKIE, SESSION_COOKIE
from tests.utils.completed_job import completed_job
from tests.utils.spend import audit_entries, paid_job, propose, status_of

ADMIN_KEY = "adm_ops_console_tests_0123456789"
EMAIL = "Ann.Operator@Example.com"


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> TestClient:
    monkeypatch.setenv("AEGIS_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("AEGIS_DAGSTER_UI_URL", "http://dagster.internal:3000/")
    get_settings.cache_clear()
    return client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in(client: TestClient, email: str = EMAIL, key: str = ADMIN_KEY, next_: str = "/ops"):
    form = client.get("/ops/login")
    data = {"csrf": _csrf(form.text), "email": email, "admin_key": key, "next": next_}
    return client.post("/ops/login", data=data, follow_redirects=False)


@pytest.fixture
def signed_in(console: TestClient) -> Iterator[TestClient]:
    r = sign_in(console)
    assert r.status_code == 303, r.text
    yield console


def _set_cookies(response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        cookies.update({name: cookie for name in cookie})
    return cookies


def _pages(db: Database) -> list[str]:
    job_id = paid_job(db)
    propose(db, job_id, "12.50")
    return ["/ops", f"/ops/jobs/{job_id}"]


def test_every_page_needs_a_session(console: TestClient, db: Database) -> None:
    for path in _pages(db):
        r = console.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/ops/login?next={path.replace('/', '%2F')}"
    assert sign_in(console).status_code == 303
    for path in _pages(db):
        r = console.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert "<script>" not in r.text and "style=" not in r.text  # nothing inline: CSP
    for name, media in (("activity.js", "text/javascript"), ("ops.css", "text/css")):
        r = console.get(f"/ops/static/{name}")  # needed by the sign-in page too
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert console.get("/ops/static/../routes.py").status_code == 404
    assert console.get("/ops/static/session.py").status_code == 404


def test_sign_in_cookie_and_sign_out(console: TestClient) -> None:
    r = sign_in(console, next_="/ops/jobs/abc")
    assert r.status_code == 303 and r.headers["location"] == "/ops/jobs/abc"
    cookie = _set_cookies(r)[SESSION_COOKIE][SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/ops"
    assert not cookie["secure"]  # the public base URL is http here
    assert ADMIN_KEY not in cookie.value and ADMIN_KEY not in r.headers.get("set-cookie", "")
    home = console.get("/ops")
    assert home.status_code == 200 and "ann.operator@example.com" in home.text
    assert console.get("/ops/login", follow_redirects=False).status_code == 303  # already in

    out = console.post("/ops/logout", data={"csrf": _csrf(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ops/login"
    assert console.get("/ops", follow_redirects=False).status_code == 303


def test_secure_cookie_behind_https(console: TestClient, monkeypatch) -> None:
    monkeypatch.setenv("AEGIS_PUBLIC_BASE_URL", "https://refine.example.com")
    get_settings.cache_clear()
    plain = console.get("/ops/login")  # a Secure cookie never comes back over http
    assert _set_cookies(plain)[LOGIN_COOKIE][LOGIN_COOKIE]["secure"] is True
    data = {"csrf": _csrf(plain.text), "email": EMAIL, "admin_key": ADMIN_KEY}
    assert console.post("/ops/login", data=data).status_code == 403
    tls = TestClient(console.app, base_url="https://testserver")
    form = tls.get("/ops/login")
    data = {"csrf": _csrf(form.text), "email": EMAIL, "admin_key": ADMIN_KEY}
    r = tls.post("/ops/login", data=data, follow_redirects=False)
    assert _set_cookies(r)[SESSION_COOKIE][SESSION_COOKIE]["secure"] is True
    assert tls.get("/ops").status_code == 200


def test_sign_in_refusals(console: TestClient, monkeypatch) -> None:
    wrong = sign_in(console, key="not-the-key")
    assert wrong.status_code == 403 and "not valid" in wrong.text
    assert SESSION_COOKIE not in _set_cookies(wrong)
    no_email = sign_in(console, email="not an email")
    assert no_email.status_code == 400 and SESSION_COOKIE not in _set_cookies(no_email)
    fresh = TestClient(console.app, base_url="http://testserver")
    no_csrf = fresh.post("/ops/login", data={"email": EMAIL, "admin_key": ADMIN_KEY})
    assert no_csrf.status_code == 403 and SESSION_COOKIE not in _set_cookies(no_csrf)
    fresh.get("/ops/login")
    forged = fresh.post(
        "/ops/login", data={"csrf": "0" * 64, "email": EMAIL, "admin_key": ADMIN_KEY}
    )
    assert forged.status_code == 403
    # Away from sign-in: only console paths, never another site.
    for elsewhere in ("https://evil.example/ops", "//evil.example/x", "/ops/../admin"):
        anyone = TestClient(console.app, base_url="http://testserver")
        r = sign_in(anyone, next_=elsewhere)
        assert r.status_code == 303 and r.headers["location"] == "/ops", elsewhere


def test_forged_or_rekeyed_sessions_are_refused(signed_in: TestClient, monkeypatch) -> None:
    value = signed_in.cookies.get(SESSION_COOKIE)
    assert value
    other = TestClient(signed_in.app, base_url="http://testserver")

    def home(cookie: str) -> int:
        headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
        return other.get("/ops", headers=headers, follow_redirects=False).status_code

    payload, stamp, signature = value.split(".")
    assert home(value) == 200
    assert home(f"{payload}.{stamp}.{signature[::-1]}") == 303
    assert home(f"{payload[:-2]}xx.{stamp}.{signature}") == 303  # another email or nonce
    assert home("") == 303
    monkeypatch.setenv("AEGIS_ADMIN_KEY", "adm_rotated_key_9876543210")  # signs everyone out
    get_settings.cache_clear()
    assert home(value) == 303
    monkeypatch.delenv("AEGIS_ADMIN_KEY")  # console off
    get_settings.cache_clear()
    off = other.get("/ops/login")
    assert off.status_code == 503 and "AEGIS_ADMIN_KEY" in off.text


def test_approve_and_reject_through_the_gate(signed_in: TestClient, db: Database) -> None:
    job_id = paid_job(db)
    first, second = propose(db, job_id, "12.50"), propose(db, job_id, "7.25", kind="enrichment")
    home = signed_in.get("/ops")
    assert "12.50" in home.text and "OCR for 3 pages without text" in home.text
    csrf = _csrf(home.text)

    no_csrf = signed_in.post(f"/ops/tickets/{first}/approve", data={"reason": "fine"})
    wrong = signed_in.post(f"/ops/tickets/{first}/approve", data={"csrf": "x" * 64})
    assert no_csrf.status_code == 403 and wrong.status_code == 403
    assert status_of(db, first) == "proposed"

    r = signed_in.post(
        f"/ops/tickets/{first}/approve",
        data={"csrf": csrf, "reason": "pages are scans", "next": "/ops"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ops"
    assert status_of(db, first) == "approved"
    again = signed_in.post(f"/ops/tickets/{first}/approve", data={"csrf": csrf})
    assert again.status_code == 409 and "approved" in again.text

    no_reason = signed_in.post(f"/ops/tickets/{second}/reject", data={"csrf": csrf, "reason": " "})
    assert no_reason.status_code == 400 and status_of(db, second) == "proposed"
    r = signed_in.post(
        f"/ops/tickets/{second}/reject",
        data={"csrf": csrf, "reason": "not needed"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/ops/jobs/{job_id}"
    decisions = audit_entries(db, job_id, "human_approve") + audit_entries(
        db, job_id, "human_reject"
    )
    assert [(e.actor, e.details["via"], e.details["reason"]) for e in decisions] == [
        ("ann.operator@example.com", "operator", "pages are scans"),
        ("ann.operator@example.com", "operator", "not needed"),
    ]
    page = signed_in.get(f"/ops/jobs/{job_id}").text
    assert "not needed" in page and 'id="job-gate">rejected' in page
    missing = signed_in.post("/ops/tickets/nope/approve", data={"csrf": csrf})
    assert missing.status_code == 404
    bad_form = signed_in.post(
        f"/ops/tickets/{second}/approve",
        content=b"csrf=" + csrf.encode() + b"&reason=%00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad_form.status_code == 400


def test_a_post_without_session_is_refused(console: TestClient, db: Database) -> None:
    ticket = propose(db, paid_job(db), "12.50")
    r = console.post(f"/ops/tickets/{ticket}/approve", data={"csrf": "x"})
    assert r.status_code == 403 and status_of(db, ticket) == "proposed"


def test_job_page_escapes_audit_and_links(signed_in: TestClient, db: Database) -> None:
    settings = get_settings()
    job_id, files = completed_job(
        db, settings.resolved_data_dir, description="<script>alert('x')</script> & pairs"
    )
    issue_certificate(db, job_id, files, Issuer.from_settings(settings))
    page = signed_in.get(f"/ops/jobs/{job_id}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; pairs" in page
    assert 'id="job-status">complete' in page
    for action in ("job_created", "propose_spend", "human_approve", "certificate_issued"):
        assert f'class="action">{action}<' in page, action
    assert "pw@" not in page and "sig=secret" not in page  # no credentials, no query
    assert "<code>https://93.184.215.14/export.json</code>" in page
    dagster = "http://dagster.internal:3000/assets/refined_jsonl"
    assert f'href="{dagster}?view=partitions&amp;partition={job_id}"' in page
    assert f'href="{dagster}?view=lineage&amp;lineageScope=neighbors&amp;lineageDepth=5"' in page
    cert = signed_in.get(f"/ops/jobs/{job_id}/certificate.json")
    assert cert.status_code == 200 and cert.json()["credentialSubject"]["job_id"] == job_id
    pdf = signed_in.get(f"/ops/jobs/{job_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    home = signed_in.get("/ops").text
    assert "&lt;script&gt;" in home and "<script>alert" not in home
    other = paid_job(db)
    assert signed_in.get(f"/ops/jobs/{other}/certificate.json").status_code == 404
    assert signed_in.get("/ops/jobs/no-such-job").status_code == 404
    stranger = TestClient(signed_in.app, base_url="http://testserver")
    for fmt in ("json", "pdf"):
        r = stranger.get(f"/ops/jobs/{job_id}/certificate.{fmt}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ops/login")
