"""POST /evaluate under load, side by side with a minimal FastAPI app doing one insert.

In one invocation and on one PostgreSQL server (a fresh database each), starts
`bench/reference_app.py` under uvicorn and this project's API through `aegis serve`,
both with the same number of workers, and drives each in turn with `wrk` (one thread,
a separate process on loopback, the same JSON body) at each connection count. Prints
req/s, p50 and p99 of both and their ratio, then checks that every answered decision
was persisted and that `aegis audit verify` passes.

    python bench/evaluate_load.py --seconds 10 --connections 8 32 --repeat 2

Needs `wrk` (Debian: apt-get install wrk), `psycopg-pool` for the reference app
(bench/requirements-load.txt) and a PostgreSQL server (AEGIS_BENCH_PG_URL, default
postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aegis_core import customers  # noqa: E402
from aegis_core.db import migrate  # noqa: E402
from aegis_core.db.session import Database  # noqa: E402
from bench.reference_app import TABLE  # noqa: E402
from tests.utils.postgres import fresh_database  # noqa: E402
from tests.utils.server import free_port  # noqa: E402

UVICORN = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
AEGIS_SERVE = [sys.executable, "-m", "aegis_cli", "serve", "--no-access-log"]
BODY = {
    "proposal_summary": "Add caching layer to reduce API latency",
    "estimated_impact": "medium",
    "risk_baseline": 0.05,
    "risk_proposed": 0.08,
    "profit_baseline": 0.10,
    "profit_proposed": 0.18,
    "complexity_score": 0.6,
    "quality_score": 0.85,
}


def lua_script(keys: list[str]) -> str:
    """POST the body; rotate over `keys` (financial-services keys: 2,000/min each)."""
    key_list = ",".join(json.dumps(k) for k in keys) or '""'
    return "\n".join(
        [
            f"local keys = {{{key_list}}}",
            "local i = 0",
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(json.dumps(BODY))}",
            'wrk.headers["Content-Type"] = "application/json"',
            "request = function()",
            "  i = i + 1",
            '  wrk.headers["Authorization"] = "Bearer " .. keys[(i % #keys) + 1]',
            "  return wrk.format(nil)",
            "end",
            "done = function(summary, latency, requests)",
            '  io.write(string.format("JSON{\\"requests\\":%d,\\"non2xx\\":%d,\\"errors\\":%d,'
            '\\"p50_us\\":%d,\\"p99_us\\":%d,\\"seconds\\":%f}\\n", summary.requests,'
            " summary.errors.status, summary.errors.connect + summary.errors.read +"
            " summary.errors.write + summary.errors.timeout, latency:percentile(50),"
            " latency:percentile(99), summary.duration / 1e6))",
            "end",
        ]
    )


def run_wrk(url: str, script: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    match = re.search(r"JSON(\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    stats = json.loads(match.group(1))
    stats["rps"] = stats["requests"] / stats["seconds"]
    return stats


@contextmanager
def server(command: list[str], env: dict[str, str], ready: str) -> Iterator[str]:
    """Run `command` (with `{port}` filled in); yields its base URL once `ready` answers."""
    port = free_port()
    proc = subprocess.Popen(
        [part.format(port=port) for part in command], cwd=ROOT, env={**os.environ, **env}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + ready, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--repeat", type=int, default=2, help="rounds per connection count")
    parser.add_argument("--keys", type=int, default=256)
    parser.add_argument(
        "--serve-args", default="", help="extra `aegis serve` arguments, e.g. '--server granian'"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    admin = os.environ.get("AEGIS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    workers = str(args.workers)
    rows: list[tuple[int, dict, dict]] = []
    with ExitStack() as stack:
        ref_url = stack.enter_context(fresh_database(admin))
        with psycopg.connect(ref_url, autocommit=True) as conn:
            conn.execute(TABLE)
        aegis_url = stack.enter_context(fresh_database(admin))
        migrate.upgrade(aegis_url)
        db = Database(aegis_url)
        with db.session() as session:
            keys = [
                customers.create_key(
                    session, customer_name=f"bench-{i}", tier="financial_services"
                )[1]
                for i in range(args.keys)
            ]
        db.dispose()
        ref = stack.enter_context(
            server(
                [*UVICORN, "bench.reference_app:app", "--port", "{port}", "--workers", workers],
                {"REFERENCE_DATABASE_URL": ref_url},
                "/openapi.json",
            )
        )
        aegis = stack.enter_context(
            server(
                [*AEGIS_SERVE, "--port", "{port}", "--workers", workers, *args.serve_args.split()],
                {"AEGIS_DATABASE_URL": aegis_url, "AEGIS_HOME": tempfile.mkdtemp()},
                "/livez",
            )
        )
        script = lua_script(keys)
        answered = 0
        for connections in args.connections:
            for base in (ref, aegis):  # connections, caches, pools
                run_wrk(f"{base}/evaluate", script, args.warmup, connections)
            for round_ in range(args.repeat):
                order = (ref, aegis) if round_ % 2 == 0 else (aegis, ref)
                stats = {
                    base: run_wrk(f"{base}/evaluate", script, args.seconds, connections)
                    for base in order
                }
                rows.append((connections, stats[ref], stats[aegis]))
                answered += stats[aegis]["requests"] - stats[aegis]["non2xx"]
                print(f"  c={connections} round {round_ + 1}: load average {load_average()}")
        with psycopg.connect(aegis_url) as conn:
            persisted = conn.execute("SELECT count(*) FROM governance_decisions").fetchone()[0]
        verify = subprocess.run(
            [sys.executable, "-m", "aegis_cli", "audit", "verify", "--url", aegis_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    print(
        f"\nworkers={args.workers} seconds={args.seconds} cpus={os.cpu_count()} "
        f"serve-args={args.serve_args!r}\n"
    )
    print("| connections | reference req/s | p50 | p99 | /evaluate req/s | p50 | p99 | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for connections, r, e in rows:
        bad = f" ({e['non2xx']} non-2xx, {e['errors']} errors)" if e["non2xx"] + e["errors"] else ""
        print(
            f"| {connections} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} ms "
            f"| {r['p99_us'] / 1000:.1f} ms | {e['rps']:,.0f}{bad} | {e['p50_us'] / 1000:.1f} ms "
            f"| {e['p99_us'] / 1000:.1f} ms | {e['rps'] / r['rps']:.2f}x |"
        )
    print(f"\ndecisions persisted: {persisted} (2xx counted by wrk in measured runs: {answered})")
    print(f"aegis audit verify: {verify.stdout.strip() or verify.stderr.strip()}")
    if verify.returncode != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
