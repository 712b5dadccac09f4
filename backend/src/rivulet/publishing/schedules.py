"""The scheduler: every replica polls; exactly one replica fires each due time.

``ScheduleStore.claim_due`` (``FOR UPDATE SKIP LOCKED``) hands each fire to exactly one of them;
apscheduler's triggers compute the fire times (cron with time zones, intervals).

See docs/adr/0002-schedules-postgres-source-of-truth.md for why apscheduler's own job stores are not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import zoneinfo
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rivulet.lib.exceptions import AppError
from rivulet.lib.log import get_logger
from rivulet.runtime.service import RunRequest
from rivulet.sdk.triggers import cron_trigger

if TYPE_CHECKING:
    from rivulet.runtime.service import RunService
    from rivulet.storage.base import DueFire, ScheduleRecord, ScheduleStore

__all__ = ("SCHEDULED_AT", "Scheduler", "next_fire_after")

_log = get_logger(__name__)
SCHEDULED_AT = "scheduled_at"
"""The run input carrying the fire time of a scheduled run."""


def next_fire_after(schedule: ScheduleRecord, after: datetime) -> datetime | None:
    """The first fire time of ``schedule`` strictly after ``after`` (``None``: never again)."""
    if schedule.interval_s is not None:
        return after + timedelta(seconds=schedule.interval_s)
    if schedule.cron is None:
        return None
    trigger = cron_trigger(schedule.cron, schedule.timezone)
    start = (after + timedelta(microseconds=1)).astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    return fire


class Scheduler:
    """Polls for due schedules and starts their runs (``trigger="schedule"``)."""

    def __init__(self, store: ScheduleStore, runs: RunService, *, poll_s: float = 0.25) -> None:
        self._store = store
        self._runs = runs
        self._poll_s = poll_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling."""
        self._task = asyncio.create_task(self._loop(), name="rivulet-scheduler")

    async def close(self) -> None:
        """Stop polling (runs already started continue under the run service)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> list[DueFire]:
        """Claim and start every due fire once; returns the fires this replica started."""
        fires = await self._store.claim_due(next_fire_after)
        for fire in fires:
            await self._fire(fire)
        return fires

    async def _fire(self, fire: DueFire) -> None:
        schedule = fire.schedule
        inputs = {**schedule.inputs, SCHEDULED_AT: fire.fire_at.isoformat()}
        request = RunRequest(inputs=inputs, version=schedule.flow_version, trigger="schedule")
        try:
            document = (await self._runs.flows.get_version(schedule.flow_id, schedule.flow_version)).document
            graph = self._runs.compile_graph(document)
            await self._runs.start_graph(graph, request, run_id=fire.run_id)
        except AppError as exc:
            _log.warning("a scheduled run could not start", extra={"schedule_id": schedule.id, "error": exc.detail})
            await self._store.mark_failed(schedule.id, fire.fire_at, exc.detail)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - keep scheduling; the trace goes to the log
                _log.exception("scheduler tick failed")
            await asyncio.sleep(self._poll_s)
