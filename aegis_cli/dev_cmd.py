"""`aegis dev`: the API and Dagster (webserver + daemon) together, on one instance.

The children are the production processes: uvicorn serving `api.main:app`, and
`dagster-webserver` and `dagster-daemon` loading the project's `workspace.yaml` with the
instance config written into DAGSTER_HOME (aegis_cli/instance.py), the same folder and
database `aegis demo` uses. Each child leads its own process group, so a Ctrl-C in the
terminal reaches `aegis dev` alone, which then stops every group (run workers included):
SIGTERM, a grace period, SIGKILL. A child that exits on its own stops the rest, exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

POLL_S = 0.5


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]


def register(sub: argparse._SubParsersAction) -> None:
    dev = sub.add_parser(
        "dev", help="run the API and Dagster (webserver + daemon) together on one instance"
    )
    dev.add_argument("--host", default="127.0.0.1", help="address the API and the UI listen on")
    dev.add_argument("--api-port", type=int, default=8000)
    dev.add_argument("--dagster-port", type=int, default=3000)
    dev.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        default="info",
        help="log level of the API and the Dagster services (info: every sensor tick)",
    )
    dev.add_argument(
        "--stop-timeout",
        type=float,
        default=20.0,
        help="seconds the children get to stop after SIGTERM before SIGKILL",
    )
    dev.set_defaults(handler=_dev)


def _dev(args: argparse.Namespace) -> int:
    from aegis_cli import instance
    from aegis_cli.public_url import export_public_base_url, public_base_url
    from aegis_core.db import migrate
    from aegis_core.settings import get_settings

    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    public = export_public_base_url(args.host, args.api_port)
    settings = get_settings()
    os.environ["AEGIS_HOME"] = str(Path(settings.home).resolve())  # the same from any cwd
    try:
        dagster_home = instance.prepare(settings)
        migrate.upgrade(settings.resolved_database_url)  # before the API and sensors read it
        instance.initialize()
    except Exception as exc:  # a database that does not answer, a refused set-up: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"aegis dev: cannot start: {first}", file=sys.stderr)
        return 1
    ui = public_base_url(args.host, args.dagster_port)
    if not os.environ.get("AEGIS_DAGSTER_UI_URL"):  # the Ops console's lineage links
        os.environ["AEGIS_DAGSTER_UI_URL"] = ui
    print(
        f"aegis dev: API {public} (listening on {args.host}:{args.api_port}), "
        f"Dagster UI {ui}\n"
        f"           DAGSTER_HOME={dagster_home}, "
        f"database {_redacted(settings.resolved_database_url)}",
        flush=True,
    )
    api = public_base_url(args.host, args.api_port)  # where it listens, whatever links say
    return supervise(
        commands(args.host, args.api_port, args.dagster_port, instance.WORKSPACE, args.log_level),
        ready={"API": f"{api}/livez", "Dagster UI": f"{ui}/server_info"},
        stop_timeout=args.stop_timeout,
    )


def commands(
    host: str, api_port: int, dagster_port: int, workspace: Path, log_level: str = "info"
) -> list[tuple[str, list[str]]]:
    """(name, argv) of each child."""
    level = ("--log-level", log_level)
    return [
        (
            "api (uvicorn)",
            [
                *(sys.executable, "-m", "uvicorn", "api.main:app"),
                *("--host", host, "--port", str(api_port), "--proxy-headers", *level),
            ],
        ),
        (
            "dagster-webserver",
            [
                *(_script("dagster-webserver"), "-h", host, "-p", str(dagster_port)),
                *("-w", str(workspace), "--dagster-log-level", log_level),
            ],
        ),
        ("dagster-daemon", [_script("dagster-daemon"), "run", "-w", str(workspace), *level]),
    ]


def supervise(
    specs: list[tuple[str, list[str]]], *, ready: dict[str, str], stop_timeout: float
) -> int:
    """Start each child in its own process group and wait for SIGINT/SIGTERM or for one to
    exit; then stop them all. 0 when stopped by a signal, 1 when a child ended first."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    ended: Child | None = None
    try:
        for name, argv in specs:
            children.append(Child(name, subprocess.Popen(argv, start_new_session=True)))
        waiting = dict(ready)
        while not stop.wait(POLL_S):
            ended = next((c for c in children if c.proc.poll() is not None), None)
            if ended is not None:
                break
            waiting = {name: url for name, url in waiting.items() if not _answers(url)}
            if ready and not waiting:
                print("aegis dev: ready (Ctrl-C stops everything)", flush=True)
                ready = {}
    finally:
        stop_all(children, stop_timeout)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if ended is not None:
        print(
            f"aegis dev: {ended.name} exited with code {ended.proc.returncode}; stopped the others",
            file=sys.stderr,
        )
        return 1
    print("aegis dev: stopped", flush=True)
    return 0


def stop_all(children: list[Child], timeout: float) -> None:
    """SIGTERM to every child's process group, up to `timeout` s for them to exit, then
    SIGKILL to whatever is left (a run worker that ignored the signal)."""
    groups = [c.proc.pid for c in children]
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            child.proc.poll()  # reap the leaders
        if not any(_members(pgid) for pgid in groups):
            break
        time.sleep(0.1)
    for pgid in groups:
        if _members(pgid):
            _signal_group(pgid, signal.SIGKILL)
    for child in children:
        child.proc.wait()


def _members(pgid: int) -> list[int]:
    """Live processes of a process group (a zombie nobody reaps is not one)."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                found.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    return found


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _script(name: str) -> str:
    """A console script of this environment (the venv's, not another on PATH)."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
