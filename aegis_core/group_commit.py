"""Group commit: many requests' writes in one transaction.

Every persisted decision extends the audit chain, and the chain has one head, so each
append holds the head's row lock until its transaction commits. One transaction per
request makes every request queue on that lock. A `GroupCommitter` instead drains all
pending units of work in a process into one transaction, so the lock is taken once per
batch: throughput grows with load while each request still returns only after its data
is durable.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from aegis_core.db.session import Database

log = logging.getLogger(__name__)
Item = TypeVar("Item")

BatchHandler = Callable[[Any, Sequence[Any]], Sequence[Any]]


class GroupCommitter(Generic[Item]):
    """Feeds submitted items to `handler(tx, items) -> results` in batched transactions;
    `tx` is what `transaction()` yields (by default a `db.session()`).

    If a batch fails, each of its items is retried in a transaction of its own, so one
    bad item cannot fail its neighbours.
    """

    def __init__(
        self,
        db: Database,
        handler: BatchHandler,
        max_batch: int = 256,
        *,
        transaction: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.db = db
        self.handler = handler
        self.max_batch = max_batch
        self.transaction = transaction or db.session
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
            with self.transaction() as tx:
                results = self.handler(tx, [item for item, _ in batch])
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
