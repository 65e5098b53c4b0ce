"""Usage counters in the database, so limits hold across every API worker process.

Fixed windows: a minute for request rates, a calendar month for evaluations, a UTC day
for the sandbox. A counter only moves when the use is allowed, so a refused request
does not eat into the next one's allowance. A batch of uses is settled in two
statements (`lock_counts`, then `store_counts`), which is what lets POST /evaluate
group many requests into one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from aegis_core.db.models import UsageCounter

CounterKey = tuple[str, str, str]  # scope, key, window
_COUNTERS = UsageCounter.__table__


@dataclass(frozen=True)
class Ask:
    scope: str
    key: str
    window: str
    limit: int

    @property
    def counter(self) -> CounterKey:
        return (self.scope, self.key, self.window)


@dataclass(frozen=True)
class Usage:
    allowed: bool
    limit: int
    remaining: int


def minute_window(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M")


def day_window(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def month_window(now: datetime) -> str:
    return now.strftime("%Y-%m")


def lock_counts(session: Session, counters: Sequence[CounterKey]) -> dict[CounterKey, int]:
    """Create missing counters, lock all of them (sorted, so concurrent batches cannot
    deadlock) and read their counts: one statement."""
    keys = sorted(set(counters))
    if not keys:
        return {}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_COUNTERS).values(
        [{"scope": s, "key": k, "window": w, "count": 0} for s, k, w in keys]
    )
    # A no-op update still takes the row lock and lets RETURNING report the current count.
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "key", "window"], set_={"count": _COUNTERS.c.count}
    ).returning(_COUNTERS.c.scope, _COUNTERS.c.key, _COUNTERS.c.window, _COUNTERS.c.count)
    return {(r.scope, r.key, r.window): r.count for r in session.connection().execute(stmt)}


def store_counts(session: Session, counts: dict[CounterKey, int]) -> None:
    """Write back counts that `lock_counts` locked (one executemany)."""
    if counts:
        session.connection().execute(
            update(_COUNTERS)
            .where(
                _COUNTERS.c.scope == bindparam("s"),
                _COUNTERS.c.key == bindparam("k"),
                _COUNTERS.c.window == bindparam("w"),
            )
            .values(count=bindparam("n")),
            [{"s": s, "k": k, "w": w, "n": n} for (s, k, w), n in counts.items()],
        )


def take(counts: dict[CounterKey, int], ask: Ask) -> Usage:
    """Settle one ask against locked counts, in memory."""
    used = counts[ask.counter]
    if used >= ask.limit:
        return Usage(False, ask.limit, 0)
    counts[ask.counter] = used + 1
    return Usage(True, ask.limit, ask.limit - used - 1)


def consume_many(session: Session, asks: Sequence[Ask]) -> list[Usage]:
    """Settle `asks` in order, as if each were its own request."""
    counts = lock_counts(session, [a.counter for a in asks])
    start = dict(counts)
    results = [take(counts, ask) for ask in asks]
    store_counts(session, {c: n for c, n in counts.items() if n != start[c]})
    return results


def consume(session: Session, scope: str, key: str, window: str, limit: int) -> Usage:
    """Count one use of (scope, key) in `window` unless `limit` is already reached."""
    return consume_many(session, [Ask(scope, key, window, limit)])[0]
