"""The Ops console in a real headless Chromium (Debian's `chromium` + `chromium-driver`,
driven by Selenium; installed by the test set-up, see tests/utils/system_packages.py),
against the API under uvicorn with the human gate waiting in a thread, as the Dagster
gate op waits: a wrong key is refused, the operator signs in, sees the proposed ticket
with its amount and rationale, approves it with a reason, and the gate executes it and
moves the job on; the live activity list fills under the CSP; a POST without the CSRF
token is refused; signing out ends the session."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aegis_core.db import migrate
from aegis_core.db.models import Job
from aegis_core.db.session import Database
from aegis_core.loop.gate import GateOutcome, pass_gate
from aegis_core.settings import AegisSettings
from tests.utils.server import uvicorn_app
from tests.utils.spend import paid_job, propose, status_of
from tests.utils.system_packages import ensure_debian_packages

ADMIN_KEY = "adm_browser_tests_0123456789"
EMAIL = "gate.keeper@example.com"
WAIT_S = 30


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    ensure_debian_packages(["chromium", "chromium-driver"], binaries=["chromium", "chromedriver"])
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser and driver
    return browser, driver


@pytest.fixture
def browser(chromium: tuple[str, str]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromium[1]), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Database, AegisSettings]]:
    url = f"sqlite:///{tmp_path / 'aegis.db'}"
    migrate.upgrade(url)
    env = {
        "AEGIS_DATABASE_URL": url,
        "AEGIS_HOME": str(tmp_path / ".aegis"),
        "AEGIS_ADMIN_KEY": ADMIN_KEY,
        "AEGIS_STRIPE_SECRET_KEY": "",
    }
    settings = AegisSettings(home=tmp_path / ".aegis", database_url=url, stripe_secret_key=None)
    db = Database(url)
    with uvicorn_app(env, quiet=True) as base:
        yield base, db, settings
    db.dispose()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def job_status(db: Database, job_id: str) -> str:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.status


def test_operator_approves_a_ticket_in_chromium(served, browser) -> None:
    from selenium.webdriver.common.by import By

    base, db, settings = served
    job_id = paid_job(db, "5.00")
    ticket_id = propose(db, job_id, "12.50")  # above the threshold: a person decides
    outcome: list[GateOutcome] = []
    gate = threading.Thread(
        target=lambda: outcome.append(
            pass_gate(db, job_id, settings=settings, poll_s=0.2, timeout_s=120)
        ),
        daemon=True,
    )
    gate.start()
    wait_for(lambda: job_status(db, job_id) == "awaiting_gate", "the gate to wait")

    def css(selector: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, selector)

    def sign_in(key: str) -> None:
        email = css("#email")
        email.clear()
        email.send_keys(EMAIL)
        css("#admin_key").send_keys(key)
        css("#sign-in").click()

    browser.get(f"{base}/ops")
    assert "/ops/login" in browser.current_url
    sign_in("not-the-admin-key")
    assert "not valid" in wait_for(lambda: css("#login-error").text, "the refusal")
    assert "/ops/login" in browser.current_url and browser.get_cookie("aegis_ops") is None

    sign_in(ADMIN_KEY)
    wait_for(lambda: browser.current_url.rstrip("/").endswith("/ops"), "the console")
    assert css("[data-testid=operator]").text == EMAIL
    row = css(f"#ticket-{ticket_id}")
    assert row.find_element(By.CSS_SELECTOR, ".amount").text == "12.50"
    assert row.find_element(By.CSS_SELECTOR, ".rationale").text == "OCR for 3 pages without text"
    assert css(f"#job-{job_id} .gate").text.startswith("waiting")
    # The live list is fed by the event stream: the script ran under the CSP.
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#activity li[data-action=propose_spend]"),
        "live activity",
    )

    css(f"#approve-reason-{ticket_id}").send_keys("scanned pages, worth it")
    row.find_element(By.CSS_SELECTOR, "button.approve").click()
    wait_for(lambda: not browser.find_elements(By.ID, f"ticket-{ticket_id}"), "the queue to empty")
    assert css("#no-proposed").text == "Nothing is waiting for a decision."
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#activity li[data-action=human_approve]"),
        "the approval in the feed",
    )

    gate.join(WAIT_S)
    assert outcome and outcome[0].state == "approved"
    browser.get(f"{base}/ops/jobs/{job_id}")
    assert css("#job-status").text == "refining"  # the job moved on past the gate
    assert css("#job-gate").text == "approved"
    assert css(f"#ticket-{ticket_id} .ticket-status").text == "executed"
    assert css(f"#ticket-{ticket_id} .decided-by").text == EMAIL
    assert css(f"#ticket-{ticket_id} .decision-reason").text == "scanned pages, worth it"
    actions = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#audit .action")]
    assert (
        actions.index("propose_spend") < actions.index("human_approve") < actions.index("execute")
    )
    assert (
        css("#dagster-partition")
        .get_attribute("href")
        .endswith(f"/assets/refined_jsonl?view=partitions&partition={job_id}")
    )

    # A form post without the CSRF token, with a valid session cookie: refused.
    other = propose(db, paid_job(db, "5.00"), "9.99")
    session_cookie = browser.get_cookie("aegis_ops")
    assert session_cookie and session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"
    cookies = {"aegis_ops": session_cookie["value"]}
    with httpx.Client(base_url=base, cookies=cookies) as http:
        assert http.get("/ops").status_code == 200  # the cookie is good
        refused = http.post(f"/ops/tickets/{other}/approve", data={"reason": "sneaky"})
        wrong = http.post(f"/ops/tickets/{other}/approve", data={"csrf": "0" * 64})
    assert refused.status_code == 403 and wrong.status_code == 403
    assert status_of(db, other) == "proposed"

    css("#sign-out").click()
    wait_for(lambda: "/ops/login" in browser.current_url, "the sign-in page")
    assert browser.get_cookie("aegis_ops") is None
    browser.get(f"{base}/ops")
    assert "/ops/login" in browser.current_url

    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
        or (entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"])
    ]  # script errors and CSP refusals (the refused sign-in's 403 and the favicon's 404 aside)
    assert problems == []
