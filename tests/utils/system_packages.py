"""Debian packages a test needs (a browser, tesseract), installed by the test set-up.

`ensure_debian_packages(["chromium", "chromium-driver"], binaries=["chromium"])` returns
when the packages are there. When they are missing and we run as root with apt-get, it
installs them once (`apt-get install -y --no-install-recommends`, `apt-get update` first
only if that fails), under a file lock so parallel test sessions do not collide. Anywhere
else it skips the test with the reason, except under `CI=true`, where it fails instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence

import pytest

LOCK_PATH = "/tmp/aegis-test-apt.lock"
INSTALL_TIMEOUT_S = 1200
_APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q"]
_done: set[tuple[str, ...]] = set()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_packages(packages: Iterable[str]) -> list[str]:
    """The packages dpkg does not list as installed (all of them where there is no dpkg)."""
    names = list(packages)
    if shutil.which("dpkg-query") is None:
        return names
    missing = []
    for name in names:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
        )
        if status.returncode != 0 or not status.stdout.endswith("install ok installed"):
            missing.append(name)
    return missing


def _give_up(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


def _install(names: Sequence[str]) -> str | None:
    """Install `names` with apt-get; None on success, else what went wrong."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = [*_APT, "install", "-y", "--no-install-recommends", *names]
    run = {"capture_output": True, "text": True, "env": env, "timeout": INSTALL_TIMEOUT_S}
    try:
        if subprocess.run(command, **run).returncode == 0:
            return None
        update = subprocess.run([*_APT, "update"], **run)
        if update.returncode != 0:
            return f"apt-get update failed: {update.stderr.strip()[-500:]}"
        result = subprocess.run(command, **run)
    except subprocess.TimeoutExpired:
        return f"apt-get did not finish within {INSTALL_TIMEOUT_S} s"
    if result.returncode != 0:
        return f"apt-get install failed: {result.stderr.strip()[-500:]}"
    return None


def ensure_debian_packages(packages: Sequence[str], *, binaries: Sequence[str] = ()) -> None:
    """Make sure `packages` are installed (nothing to do when every one of `binaries` is
    already on PATH); skip the calling test when that cannot be done, fail under CI."""
    key = tuple(packages)
    if key in _done or (binaries and all(shutil.which(b) for b in binaries)):
        return
    if not missing_packages(packages):
        _done.add(key)
        return
    wanted = ", ".join(packages)
    if shutil.which("apt-get") is None:
        _give_up(f"Debian packages {wanted} are missing and there is no apt-get")
    if os.geteuid() != 0:
        _give_up(f"Debian packages {wanted} are missing; install them as root (apt-get)")
    with open(LOCK_PATH, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing them right now
        try:
            names = missing_packages(packages)
            problem = _install(names) if names else None
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if problem is None and (still := missing_packages(packages)):
        problem = f"still missing after apt-get: {', '.join(still)}"
    if problem is not None:
        _give_up(f"could not install {wanted}: {problem}")
    _done.add(key)
