"""Which due fires of a schedule run and which are missed: the rules every ``ScheduleStore.claim_due`` applies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from rivulet.storage.base import NextFire, ScheduleRecord

__all__ = ("MISFIRE_GRACE", "classify_fires", "plan_fires")

MISFIRE_GRACE = timedelta(seconds=30)
"""A fire later than this (the process was down or stalled) counts as missed unless the policy is run_once."""
_MAX_CATCHUP = 1000


def plan_fires(record: ScheduleRecord, now: datetime, next_after: NextFire) -> tuple[list[datetime], datetime | None]:
    """The due fire times (oldest first, bounded) and the next one after ``now``."""
    due: list[datetime] = []
    current = record.next_fire_at
    while current is not None and current <= now and len(due) < _MAX_CATCHUP:
        due.append(current)
        current = next_after(record, current)
    while current is not None and current <= now:  # more than _MAX_CATCHUP behind: jump ahead
        current = next_after(record, now)
    return due, current


def classify_fires(record: ScheduleRecord, due: list[datetime], now: datetime) -> list[tuple[datetime, str | None]]:
    """Coalesce: only the latest due fire may run (if on time, or the policy is run_once), with a new run id.

    Returns ``(fire time, run id)`` per due fire; ``None`` marks a missed one.
    """
    if not due:
        return []
    latest = due[-1]
    runs = record.missed_policy == "run_once" or now - latest <= MISFIRE_GRACE
    result: list[tuple[datetime, str | None]] = [(fire_at, None) for fire_at in due[:-1]]
    result.append((latest, uuid.uuid4().hex if runs else None))
    return result
