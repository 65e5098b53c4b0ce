"""Find a PostgreSQL server for the tests, or start a throwaway cluster.

Order: `AEGIS_TEST_PG_URL` if set; the server on 127.0.0.1:5432 if one answers; else a
fresh cluster from initdb/pg_ctl in a temporary folder, run as an unprivileged user
(postgres refuses to run as root) and stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: install PostgreSQL server binaries")
    return found


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    user = "postgres" if _user_exists("postgres") else "nobody"
    return ["runuser", "-u", user, "--", *cmd]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a private cluster on a free port; yields its admin URL."""
    root = tempfile.mkdtemp(prefix="aegis-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(root, user=user)
    port = _free_port()
    subprocess.run(
        _as_user([_pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_user(
            [
                _pg_bin("pg_ctl"),
                "-D",
                data,
                "-o",
                opts,
                "-l",
                os.path.join(root, "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if time.monotonic() > deadline:
                raise RuntimeError("throwaway PostgreSQL did not start")
            time.sleep(0.2)
        yield url
    finally:
        subprocess.run(
            _as_user([_pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """An admin URL to a PostgreSQL server: configured, local, or throwaway."""
    configured = os.environ.get("AEGIS_TEST_PG_URL")
    if configured:
        yield configured
        return
    if _answers(DEFAULT_URL):
        yield DEFAULT_URL
        return
    with throwaway_cluster() as url:
        yield url


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create an empty database for one test (or module) and drop it afterwards."""
    name = f"aegis_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
