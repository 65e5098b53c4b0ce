"""`aegis dev` as a user runs it: the API, the Dagster webserver and the daemon together.

A job ordered over HTTP and paid through the local checkout is started by the daemon's own
sensor and completes; the webserver reads the same instance (the run, the run queue of the
shipped dagster.yaml); the customer's links follow the real port; SIGINT stops every
process. Once on the embedded default (SQLite everywhere) and once with the app database
and Dagster's run/event/schedule storage on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from tests.utils.postgres import fresh_database
from tests.utils.samples import discord_export
from tests.utils.server import free_port

ROOT = Path(__file__).resolve().parents[2]
RUN_QUERY = """
query Runs($jobId: String!) {
  runsOrError(filter: {tags: [{key: "aegis/job_id", value: $jobId}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
  instance { runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml } }
}
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEGIS_", "DAGSTER_"))}
    return {**env, "AEGIS_STRIPE_SECRET_KEY": "", "STRIPE_SECRET_KEY": "", **extra}


@contextmanager
def aegis_dev(cwd: Path, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    log = (cwd / "aegis-dev.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aegis_cli", "dev", *args],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, f"{url} never answered\n{log.read_text()[-4000:]}"
        time.sleep(0.3)


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[str]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return alive


def _run_of(ui: str, job_id: str, timeout: float = 30) -> tuple[dict, dict]:
    """The webserver's view of the job's one run, once that run has ended."""
    deadline = time.monotonic() + timeout
    while True:
        data = httpx.post(
            f"{ui}/graphql", json={"query": RUN_QUERY, "variables": {"jobId": job_id}}, timeout=30
        ).json()["data"]
        (run,) = data["runsOrError"]["results"]
        if run["status"] not in {"QUEUED", "STARTING", "STARTED"} or time.monotonic() > deadline:
            return data, run
        time.sleep(0.5)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for one storage: {} (embedded default) or two PostgreSQL databases."""
    if request.param == "sqlite":
        yield {}
        return
    admin = request.getfixturevalue("pg_admin_url")
    with fresh_database(admin) as app_db, fresh_database(admin) as dagster_db:
        yield {"AEGIS_DATABASE_URL": app_db, "AEGIS_DAGSTER_PG_URL": dagster_db}


def test_a_job_ordered_over_http_completes_under_aegis_dev(
    tmp_path: Path, storage: dict[str, str]
) -> None:
    api_port, dagster_port = free_port(), free_port()
    source = discord_export(tmp_path / "export.json").as_uri()
    env = _clean_env(AEGIS_ALLOW_INSECURE_SOURCES="true", **storage)
    log = tmp_path / "aegis-dev.log"
    args = ("--api-port", str(api_port), "--dagster-port", str(dagster_port))
    with aegis_dev(tmp_path, env, *args, "--log-level", "warning") as dev:
        api, ui = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{dagster_port}"
        _wait_for(f"{api}/livez", dev, log)
        _wait_for(f"{ui}/server_info", dev, log)
        http = httpx.Client(base_url=api, timeout=30)
        order = http.post("/v1/jobs", json={"source_url": source, "description": "support Q&A"})
        assert order.status_code == 201, order.text
        job_id, token = order.json()["job_id"], order.json()["access_token"]
        assert order.json()["checkout_url"] == f"{api}/checkout/{job_id}"  # the real port
        assert http.post(f"/checkout/{job_id}/pay").status_code == 200

        owner = {"Authorization": f"Bearer {token}"}
        deadline, view = time.monotonic() + 240, {}  # generous: 2 shared cores
        while time.monotonic() < deadline:
            view = http.get(f"/v1/jobs/{job_id}", headers=owner).json()
            if view["status"] in {"complete", "halted", "failed"}:
                break
            assert dev.poll() is None, log.read_text()[-4000:]
            time.sleep(1)
        assert view.get("status") == "complete", (view, log.read_text()[-4000:])
        assert view["links"]["self"] == f"{api}/jobs/{job_id}"
        for name, link in view["links"].items():  # each one answers, on the real port
            assert link.startswith(f"{api}/"), link
            assert httpx.get(link, headers=owner, timeout=30).status_code == 200, name

        graphql, run = _run_of(ui, job_id)  # the job completes just before its run ends
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert run["status"] == "SUCCESS"
        assert tags["dagster/sensor_name"] == "stripe_payments_sensor"  # the daemon's, no one else
        queue = graphql["instance"]["runQueueConfig"]  # the shipped dagster.yaml, as read
        assert (
            queue["maxConcurrentRuns"] == 8 and "aegis/job_id" in queue["tagConcurrencyLimitsYaml"]
        )
        dagster_home = tmp_path / ".aegis" / "dagster"
        if "AEGIS_DAGSTER_PG_URL" in storage:
            with psycopg.connect(storage["AEGIS_DAGSTER_PG_URL"]) as conn:
                runs = conn.execute("SELECT run_id FROM runs").fetchall()
                events = conn.execute(
                    "SELECT count(*) FROM event_logs WHERE run_id = %s", (run["runId"],)
                ).fetchone()[0]
                ticks = conn.execute("SELECT count(*) FROM job_ticks").fetchone()[0]
            assert (run["runId"],) in runs and events > 0 and ticks > 0
            assert not (dagster_home / "history").exists()  # nothing on SQLite
        else:
            assert (dagster_home / "history" / "runs.db").is_file()

        children = _descendants(dev.pid)
        assert len(children) >= 3, children
        started = time.monotonic()
        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=60) == 0, log.read_text()[-4000:]
        assert time.monotonic() - started < 30
    assert _alive(children) == []
    assert "aegis dev: stopped" in log.read_text()


def test_a_child_that_dies_stops_the_rest_with_a_clear_message(tmp_path: Path) -> None:
    with free_socket() as busy_port:  # the API cannot bind its port: uvicorn exits
        args = ("--api-port", str(busy_port), "--dagster-port", str(free_port()))
        with aegis_dev(tmp_path, _clean_env(), *args) as dev:
            deadline = time.monotonic() + 60
            children: list[psutil.Process] = []
            while dev.poll() is None and time.monotonic() < deadline:
                children = _descendants(dev.pid) or children
                time.sleep(0.2)
            assert dev.wait(timeout=60) == 1
    out = (tmp_path / "aegis-dev.log").read_text()
    assert re.search(
        r"aegis dev: api \(uvicorn\) exited with code [1-9]\d*; stopped the others", out
    )
    assert children and _alive(children) == []


@contextmanager
def free_socket() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize("configured", [None, "https://refine.example.com"])
def test_aegis_serve_links_follow_its_port_unless_configured(
    tmp_path: Path, configured: str | None
) -> None:
    port = free_port()
    env = _clean_env(**({"AEGIS_PUBLIC_BASE_URL": configured} if configured else {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "aegis_cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("w"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/livez", proc, tmp_path / "serve.log")
        order = httpx.post(
            f"{base}/v1/jobs",
            json={"source_url": "https://93.184.215.14/x.json", "description": "qa pairs"},
        ).json()
        assert order["checkout_url"] == f"{configured or base}/checkout/{order['job_id']}"
        assert httpx.get(f"{base}/checkout/{order['job_id']}").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
