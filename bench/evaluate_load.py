"""Load test of POST /evaluate against PostgreSQL, with GET /health as the ceiling.

Starts the app under uvicorn (several workers) on a fresh PostgreSQL database, drives it
with `wrk` (a separate process, on loopback) for a fixed time, and prints requests/s,
p50/p99 latency, errors, persisted decisions/s and the ratio to the /health ceiling.

    python bench/evaluate_load.py --seconds 15 --workers 2 --connections 32

Needs `wrk` (Debian: apt-get install wrk) and a PostgreSQL server (AEGIS_BENCH_PG_URL,
default postgresql://postgres@127.0.0.1:5432/postgres).
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
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aegis_core import customers  # noqa: E402
from aegis_core.db import migrate  # noqa: E402
from aegis_core.db.session import Database  # noqa: E402
from tests.utils.postgres import fresh_database  # noqa: E402
from tests.utils.server import uvicorn_app  # noqa: E402

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


def lua_script(keys: list[str], body: dict | None) -> str:
    key_list = ",".join(json.dumps(k) for k in keys)
    lines = [f"local keys = {{{key_list}}}", "local i = 0"]
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    lines += [
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
    return "\n".join(lines)


def run_wrk(url: str, script: str, seconds: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)
    match = re.search(r"JSON(\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    stats = json.loads(match.group(1))
    stats["rps"] = stats["requests"] / stats["seconds"]
    return stats


def decision_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM governance_decisions").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keys", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    admin = os.environ.get("AEGIS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(admin) as url:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            keys = [
                customers.create_key(
                    session, customer_name=f"bench-{i}", tier="financial_services"
                )[1]
                for i in range(args.keys)
            ]
        db.dispose()
        env = {"AEGIS_DATABASE_URL": url, "AEGIS_HOME": tempfile.mkdtemp()}
        with uvicorn_app(env, workers=args.workers, quiet=True) as base:
            run_wrk(
                f"{base}/evaluate", lua_script(keys, BODY), 3, args.connections, args.threads
            )  # warm-up: connections, caches, JIT of the pool
            before = decision_count(url)
            ev = run_wrk(
                f"{base}/evaluate",
                lua_script(keys, BODY),
                args.seconds,
                args.connections,
                args.threads,
            )
            persisted = decision_count(url) - before
            health = run_wrk(
                f"{base}/health",
                lua_script(keys, None),
                args.seconds,
                args.connections,
                args.threads,
            )
    print(
        f"workers={args.workers} connections={args.connections} seconds={args.seconds} "
        f"cpus={os.cpu_count()}"
    )
    for name, s in (("POST /evaluate", ev), ("GET /health (ceiling)", health)):
        print(
            f"{name:<22} {s['rps']:8.0f} req/s  p50 {s['p50_us'] / 1000:6.2f} ms  "
            f"p99 {s['p99_us'] / 1000:6.2f} ms  non-2xx {s['non2xx']}  errors {s['errors']}"
        )
    print(f"persisted decisions     {persisted / ev['seconds']:8.0f} /s ({persisted} rows)")
    print(f"ratio evaluate/health   {ev['rps'] / health['rps']:8.2f}")


if __name__ == "__main__":
    main()
