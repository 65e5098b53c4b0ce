"""Group commit: many requests' writes in one transaction.

Every persisted decision extends the audit chain, and the chain has one head, so each
append holds the head's row lock until its transaction commits. One transaction per
request makes every request queue on that lock. A `GroupCommitter` instead drains all
pending units of work in a process into one transaction, so the lock is taken once per
batch: throughput grows with load while each request still returns only after its data
is durable.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from aegis_core.db.session import Database

log = logging.getLogger(__name__)
Item = TypeVar("Item")

BatchHandler = Callable[[Session, Sequence[Any]], Sequence[Any]]


class GroupCommitter(Generic[Item]):
    """Feeds submitted items to `handler(session, items) -> results` in batched transactions.

    If a batch fails, each of its items is retried in a transaction of its own, so one
    bad item cannot fail its neighbours.
    """

    def __init__(self, db: Database, handler: BatchHandler, max_batch: int = 256) -> None:
        self.db = db
        self.handler = handler
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Item, Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item: Item) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((item, future))
        self._ensure_thread()
        return future

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[tuple[Item, Future[Any]]]) -> None:
        try:
            with self.db.session() as session:
                results = self.handler(session, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.exception("group commit of a single item failed")
                batch[0][1].set_exception(exc)
                return
        else:
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
            return
        for one in batch:  # isolate the failing item: retry each on its own
            self._commit([one])


AsyncBatchHandler = Callable[[Any, Sequence[Any]], Awaitable[Sequence[Any]]]


class AsyncGroupCommitter(Generic[Item]):
    """The same contract on one event loop, for an async driver: no thread, so a request
    and its batch never wait for each other's turn at the GIL or for a cross-thread
    wake-up. `transaction()` is an async context manager yielding what `handler` takes.

    While a batch is in flight, new items queue; the drain task then takes them all as the
    next batch, and ends when nothing is left (an idle loop holds no task).

    `durable()`, when given, is awaited after each batch commits and before its results
    are handed out, without holding up the next batch: a transaction can commit without
    waiting for the disk (releasing its locks at once) and its callers still answer only
    once it is durable.
    """

    def __init__(
        self,
        handler: AsyncBatchHandler,
        transaction: Callable[[], AbstractAsyncContextManager[Any]],
        max_batch: int = 256,
        *,
        durable: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.handler = handler
        self.transaction = transaction
        self.max_batch = max_batch
        self.durable = durable
        self._pending: list[tuple[Item, asyncio.Future[Any]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self._settling: set[asyncio.Task[None]] = set()

    def submit(self, item: Item) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._commit(batch)
        finally:
            self._draining = False

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            async with self.transaction() as tx:
                results = await self.handler(tx, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.exception("group commit of a single item failed")
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
        else:
            if self.durable is None:
                _resolve(batch, results)
            else:
                task = asyncio.get_running_loop().create_task(self._when_durable(batch, results))
                self._settling.add(task)
                task.add_done_callback(self._settling.discard)
            return
        for one in batch:  # isolate the failing item: retry each on its own
            await self._commit([one])

    async def _when_durable(
        self, batch: list[tuple[Item, asyncio.Future[Any]]], results: Sequence[Any]
    ) -> None:
        assert self.durable is not None
        try:
            await self.durable()
        except Exception as exc:
            log.exception("a committed batch could not be made durable")
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        _resolve(batch, results)


def _resolve(batch: Sequence[tuple[Any, asyncio.Future[Any]]], results: Sequence[Any]) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():  # the request may have been cancelled
            future.set_result(result)
