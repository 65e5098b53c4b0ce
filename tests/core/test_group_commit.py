"""Group commit: batched items each get their own result; one bad item fails alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aegis_core import audit
from aegis_core.db.models import AuditLog
from aegis_core.db.session import Database
from aegis_core.group_commit import GroupCommitter


def _handler(session: Session, items: Sequence[int]) -> list[int]:
    if any(i < 0 for i in items):
        raise ValueError("negative item")
    audit.append_many(session, [(None, "item", "test", {"count": i}) for i in items])
    return [i * 2 for i in items]


def test_many_submitters_share_transactions_and_get_their_results(db: Database) -> None:
    committer: GroupCommitter[int] = GroupCommitter(db, _handler)
    results: dict[int, int] = {}

    def submit(start: int) -> None:
        futures = {i: committer.submit(i) for i in range(start, start + 50)}
        for i, fut in futures.items():
            results[i] = fut.result(timeout=60)

    threads = [threading.Thread(target=submit, args=(n * 50,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * 2 for i in range(200)}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 200
        assert audit.verify(s).ok


def test_a_failing_item_does_not_fail_its_batch(db: Database) -> None:
    committer: GroupCommitter[int] = GroupCommitter(db, _handler)
    futures = [committer.submit(i) for i in (1, -1, 2)]
    assert futures[0].result(timeout=60) == 2 and futures[2].result(timeout=60) == 4
    with pytest.raises(ValueError, match="negative"):
        futures[1].result(timeout=60)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 2


async def _async_handler(tx: list[list[int]], items: Sequence[int]) -> list[int]:
    if any(i < 0 for i in items):
        raise ValueError("negative item")
    tx.append(list(items))
    return [i * 2 for i in items]


def test_async_committer_batches_isolates_failures_and_answers_after_durable() -> None:
    import asyncio
    from contextlib import asynccontextmanager

    from aegis_core.group_commit import AsyncGroupCommitter

    batches: list[list[int]] = []
    durable_calls = 0

    @asynccontextmanager
    async def transaction():
        yield batches

    async def main() -> None:
        nonlocal durable_calls
        gate = asyncio.Event()

        async def durable() -> None:
            nonlocal durable_calls
            durable_calls += 1
            await gate.wait()

        committer: AsyncGroupCommitter[int] = AsyncGroupCommitter(
            _async_handler, transaction, durable=durable
        )
        futures = [committer.submit(i) for i in (1, 2, -1, 3)]
        await asyncio.sleep(0.05)
        assert batches == [[1], [2], [3]]  # the batch failed; each item retried alone
        assert isinstance(futures[2].exception(), ValueError)
        assert not any(f.done() for f in (futures[0], futures[1], futures[3]))  # not durable yet
        gate.set()
        assert [await futures[i] for i in (0, 1, 3)] == [2, 4, 6]
        later = [committer.submit(i) for i in (4, 5)]  # queued together: one batch
        assert await asyncio.gather(*later) == [8, 10]
        assert batches[-1] == [4, 5]

    asyncio.run(main())
    assert durable_calls == 4
