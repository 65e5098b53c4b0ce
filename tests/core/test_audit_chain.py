"""The audit log: appends, redaction, tamper detection, concurrency, on both engines."""

from __future__ import annotations

import itertools
import multiprocessing
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select, text

from aegis_core import audit
from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database


def _append_many(db: Database, n: int, actor: str) -> None:
    for i in range(n):
        with db.session() as s:
            audit.append(s, None, "test_append", actor, {"count": i})


def test_append_chains_rows_and_verifies(db: Database) -> None:
    _append_many(db, 5, "system")
    with db.session() as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.seq)).all()
        result = audit.verify(s)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(rows))
    assert result.ok and result.rows_checked == 5 and result.head_seq == 5


def test_rolled_back_append_leaves_no_gap(db: Database) -> None:
    _append_many(db, 2, "system")
    with pytest.raises(RuntimeError), db.session() as s:
        audit.append(s, None, "never_lands", "system", {})
        raise RuntimeError("caller failed after appending")
    _append_many(db, 1, "system")
    with db.session() as s:
        assert audit.verify(s).ok
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 3


def test_details_are_whitelisted_and_redacted(db: Database) -> None:
    details = {
        "reason": "card 4242 4242 4242 4242 and key sk_test_abcdefghijklmnop were seen",
        "source_url": "https://alice:hunter2@example.com/data.json",
        "api_key": "agk_live_0123456789abcdef",
        "card_number": "4242424242424242",
        "counts": {"token": "ghp_abcdefghijklmnopqrstuvwxyz0123", "rows": 3},
        "amount": 12.5,
    }
    with db.session() as s:
        row = audit.append(s, None, "redaction_check", "system", details)
        row_id = row.id
    with db.session() as s:
        stored = s.scalar(select(AuditLog).where(AuditLog.id == row_id)).details
    assert "4242 4242" not in stored["reason"] and "sk_test_" not in stored["reason"]
    assert stored["source_url"] == "https://example.com/data.json"
    assert "api_key" not in stored and "card_number" not in stored
    assert stored["_dropped"] == ["api_key", "card_number"]
    assert stored["counts"] == {"token": "[REDACTED]", "rows": 3}
    assert stored["amount"] == 12.5


def test_luhn_failing_number_is_not_redacted() -> None:
    assert audit.redact_details({"reason": "order 1234567812345678"})["reason"].endswith(
        "1234567812345678"
    )


def test_threads_never_fork_the_chain(db: Database) -> None:
    threads = [threading.Thread(target=_append_many, args=(db, 200, f"t{i}")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        result = audit.verify(s)
        per_actor = dict(
            s.execute(select(AuditLog.actor, func.count()).group_by(AuditLog.actor)).all()
        )
    assert result.ok, result.describe()
    assert result.rows_checked == 1600
    assert per_actor == {f"t{i}": 200 for i in range(8)}


def _process_worker(url: str, actor: str, n: int) -> None:
    db = Database(url)
    _append_many(db, n, actor)
    db.dispose()


def test_processes_never_fork_the_chain(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_worker, args=(db_url, f"p{i}", 100)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
        assert p.exitcode == 0
    db = Database(db_url)
    with db.session() as s:
        result = audit.verify(s)
        assert s.scalar(select(func.count(func.distinct(AuditLog.actor)))) == 4
    db.dispose()
    assert result.ok, result.describe()
    assert result.rows_checked == 400


def _tamper(db: Database, *statements: str) -> None:
    """Bypass the append-only guard the way a superuser could, then run `statements`."""
    trigger = "audit_log_no_update_delete"
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql(f"ALTER TABLE audit_log DISABLE TRIGGER {trigger}")
            for sql in statements:
                conn.exec_driver_sql(sql)
            conn.exec_driver_sql(f"ALTER TABLE audit_log ENABLE ALWAYS TRIGGER {trigger}")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
            for sql in statements:
                conn.exec_driver_sql(sql)


def _verify_cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aegis_cli", "audit", "verify", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("sql", "bad_seq", "reason"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", 3, "edited"),
        ("DELETE FROM audit_log WHERE seq = 3", 3, "row missing"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "head records seq 5"),
        (
            "UPDATE audit_log SET details = (SELECT details FROM audit_log WHERE seq = 4) "
            "WHERE seq = 2",
            2,
            "edited",
        ),
    ],
    ids=["edit", "delete-middle", "delete-last", "copy-content"],
)
def test_tampering_is_named_by_cli(
    db: Database, db_url: str, sql: str, bad_seq: int, reason: str
) -> None:
    _append_many(db, 5, "system")
    assert _verify_cli(db_url).returncode == 0
    _tamper(db, sql)
    proc = _verify_cli(db_url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"seq {bad_seq}" in proc.stdout and reason in proc.stdout


def test_reordered_rows_are_detected(db: Database, db_url: str) -> None:
    _append_many(db, 4, "system")
    _tamper(  # swap rows 2 and 3 through a spare number (the primary key is checked per row)
        db,
        "UPDATE audit_log SET seq = 99 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 99",
    )
    proc = _verify_cli(db_url)
    assert proc.returncode == 1
    assert "seq 2" in proc.stdout


def test_inserted_row_is_detected(db: Database, db_url: str) -> None:
    _append_many(db, 3, "system")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, id, job_id, action, actor, details, created_at,"
                " prev_hash, entry_hash) SELECT 4, 'forged', NULL, 'refund', 'mallory', details,"
                " created_at, entry_hash, :h FROM audit_log WHERE seq = 3"
            ),
            {"h": "f" * 64},
        )
    proc = _verify_cli(db_url)
    assert proc.returncode == 1
    assert "seq 4" in proc.stdout


@pytest.mark.parametrize("verb", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_database_refuses_rewrites(db: Database, verb: str) -> None:
    _append_many(db, 1, "system")
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql(verb)
    with db.session() as s:
        assert audit.verify(s).ok


def test_postgres_refuses_truncate_even_as_replica(pg_url: str) -> None:
    from aegis_core.db import migrate

    migrate.upgrade(pg_url)
    db = Database(pg_url)
    _append_many(db, 1, "system")
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE audit_log")
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.exec_driver_sql("DELETE FROM audit_log")
    db.dispose()
