"""POST /evaluate's batch write on PostgreSQL: two round trips per batch, whatever its size,
on the worker's event loop (psycopg's async connection; see `AsyncGroupCommitter`).

1. Lock and read (BEGIN and one statement, one flush): the audit head, then every
   counter the batch may move (created at 0 when missing, sorted). Every batch takes the
   head first, so two writers cannot deadlock on the counters.
2. Write and commit (one flush): a single statement moves the counters, inserts the
   decisions and the audit rows and moves the head, with COMMIT behind it; the commit
   does not wait for the disk, `Flusher` does, off the lock (durable before answering).

In between, Python settles the limits (`evaluations.settle`, the same rule as SQLite's
path) and hashes the chain (`audit.chain_rows`, exactly as every other append). Nothing
can be written before the head is read, since each row's hash covers the previous one:
so two trips, and everything that does not depend on the head (decision records and
their hashes, redacted audit details, JSON text) is prepared before the lock is taken.
Statements go straight to psycopg with each table's rows as one JSON parameter (orjson),
so nothing is compiled or adapted row by row, and psycopg prepares both statements once
per connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import orjson
import psycopg

from aegis_core import decisions
from aegis_core.audit.chain import chain_rows
from aegis_core.audit.redaction import redact_details
from aegis_core.db.session import Database
from aegis_core.evaluations import EvaluationOutcome, PendingEvaluation, counters_of, settle

DECISION_COLUMNS = (
    "id, customer_id, month, status, confidence, proposal_summary, estimated_impact,"
    ' "timestamp", gates_passed, gates_failed, record, input_context, audit_hash'
)
AUDIT_COLUMNS = "seq, id, job_id, action, actor, details, created_at, prev_hash, entry_hash"
# A transaction that wrote WAL under an xid commits (at the server's synchronous_commit
# level) only once the WAL up to its commit record is flushed, which covers every earlier
# commit. A transactional logical message is such a write, and touches no table (an xid
# alone is not: `SELECT txid_current()` commits without a flush).
DURABLE = "SELECT pg_logical_emit_message(true, 'aegis.durable', '')"
# One statement: the head first (every row joins it), then the counters, created at 0 when
# missing, in the sorted order they are sent in; a no-op update still takes the row lock.
LOCK = """
WITH head AS (SELECT seq, entry_hash FROM audit_head WHERE id = 1 FOR UPDATE),
counters AS (
    INSERT INTO usage_counters (scope, key, "window", count)
    SELECT c ->> 0, c ->> 1, c ->> 2, 0 FROM json_array_elements(%s::json) AS c CROSS JOIN head
    ON CONFLICT (scope, key, "window") DO UPDATE SET count = usage_counters.count
    RETURNING scope, key, "window", count
)
SELECT head.seq, head.entry_hash, c.scope, c.key, c."window", c.count FROM head, counters AS c
"""
# Rows travel as JSON (one orjson call per table): psycopg dumps arrays in Python.
WRITE = f"""
WITH counters AS (
    UPDATE usage_counters AS u SET count = (c ->> 3)::int
    FROM json_array_elements(%(counters)s::json) AS c
    WHERE u.scope = c ->> 0 AND u.key = c ->> 1 AND u."window" = c ->> 2
), decisions AS (
    INSERT INTO governance_decisions ({DECISION_COLUMNS})
    SELECT {DECISION_COLUMNS}
    FROM json_populate_recordset(NULL::governance_decisions, %(decisions)s::json)
), audit AS (
    INSERT INTO audit_log ({AUDIT_COLUMNS})
    SELECT {AUDIT_COLUMNS} FROM json_populate_recordset(NULL::audit_log, %(audit)s::json)
)
UPDATE audit_head SET seq = %(head_seq)s, entry_hash = %(head_hash)s WHERE id = 1
"""


async def write_evaluations(
    conn: psycopg.AsyncConnection, batch: Sequence[PendingEvaluation]
) -> list[EvaluationOutcome]:
    """Settle and persist a batch in one transaction (see the module docstring)."""
    prepared = {}
    for item in batch:
        if item.new is not None:
            row, (job_id, action, actor, details) = decisions.prepare(item.new)
            prepared[id(item.new)] = (row, (job_id, action, actor, redact_details(details)))
    counters = counters_of(batch)
    async with conn.pipeline():  # one flush (psycopg's own BEGIN would cost a trip)
        await conn.execute("BEGIN")
        cursor = await conn.execute(LOCK, (orjson.dumps(counters).decode(),))
    locked = await cursor.fetchall()
    head_seq, head_hash = locked[0][:2]
    counts = {(s, k, w): n for _, _, s, k, w, n in locked}
    outcomes, admitted, moved = settle(batch, counts)
    rows = [prepared[id(new)][0] for new in admitted]
    chain = chain_rows(
        [prepared[id(new)][1] for new in admitted], head_seq, head_hash, redacted=True
    )
    params = {
        "counters": orjson.dumps([(*c, n) for c, n in moved.items()]).decode(),
        "decisions": orjson.dumps(rows).decode(),
        "audit": orjson.dumps(chain).decode(),
        "head_seq": chain[-1]["seq"] if chain else head_seq,
        "head_hash": chain[-1]["entry_hash"] if chain else head_hash,
    }
    async with conn.pipeline():
        await conn.execute(WRITE, params)
        await conn.execute("COMMIT")  # locks released now, before the disk is written
    return outcomes


class OwnConnection:
    """An autocommit connection of the batch writer's own (one per event loop), opened on
    first use and again after a failure. The handler sends BEGIN and COMMIT itself, in
    the same flush as its statements; `transaction()` rolls back what it left open."""

    def __init__(self, db: Database, **options: object) -> None:
        self.conninfo = db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.options = options
        self.conn: psycopg.AsyncConnection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, **self.options
            )
        try:
            yield self.conn
        except BaseException:
            try:
                if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await self.conn.execute("ROLLBACK")
            except psycopg.Error:
                await self.conn.close()
            raise


def batch_connection(db: Database) -> OwnConnection:
    return OwnConnection(db, options="-c synchronous_commit=off")


class Flusher:
    """Waits until everything committed so far is durable, for many waiters at once.

    Batches commit with `synchronous_commit = off`, so the head and counter locks are
    free as soon as the commit record is written, not after the disk flush (~4 ms here):
    otherwise every worker's flush would happen in turn under the chain's single lock.
    A transaction that writes WAL (`DURABLE`) then commits at the server's own
    synchronous_commit level, which flushes the WAL up to its commit record and so every
    earlier commit too; one such barrier, on a connection of its own, serves every batch
    committed before it started, while the next batch is already being written. The WAL
    is sequential: a crash can lose only a suffix of commits, never a chain row while
    keeping a later one.
    """

    def __init__(self, db: Database) -> None:
        self.connection = OwnConnection(db)  # DURABLE is a transaction of its own
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None

    def wait(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiters.append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return future

    async def _run(self) -> None:
        while self._waiters:
            waiters, self._waiters = self._waiters, []
            try:
                async with self.connection.transaction() as conn:
                    await conn.execute(DURABLE)
            except Exception as exc:
                for future in waiters:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for future in waiters:
                if not future.done():
                    future.set_result(None)
