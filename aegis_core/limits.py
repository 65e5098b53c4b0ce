"""Usage counters in the database, so limits hold across every API worker process.

Fixed windows: a minute for request rates, a calendar month for evaluations, a UTC day
for the sandbox. A counter only moves when the request is allowed, so a refused request
does not eat into the next one's allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# One statement on both engines: insert the first hit, or add one while under the limit.
_CONSUME = text(
    """
    INSERT INTO usage_counters (scope, key, "window", count) VALUES (:scope, :key, :window, 1)
    ON CONFLICT (scope, key, "window") DO UPDATE SET count = usage_counters.count + 1
    WHERE usage_counters.count < :limit
    RETURNING count
    """
)


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


def consume(session: Session, scope: str, key: str, window: str, limit: int) -> Usage:
    """Count one use of (scope, key) in `window` unless `limit` is already reached."""
    if limit <= 0:
        return Usage(False, limit, 0)
    count = session.execute(
        _CONSUME, {"scope": scope, "key": key, "window": window, "limit": limit}
    ).scalar()
    if count is None:
        return Usage(False, limit, 0)
    return Usage(True, limit, max(limit - count, 0))
