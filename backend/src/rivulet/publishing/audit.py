"""The endpoint call audit, written in the background in batches so calls never wait for it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import psycopg

from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from rivulet.storage.base import CallRecord, EndpointStore

__all__ = ("AuditLog",)

_log = get_logger(__name__)


class AuditLog:
    """Queue calls with ``record``; a task writes them every ``interval_s`` (and on ``flush``/``close``)."""

    def __init__(self, store: EndpointStore, *, interval_s: float = 0.2) -> None:
        self._store = store
        self._interval_s = interval_s
        self._pending: list[CallRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="rivulet-audit")

    def record(self, call: CallRecord) -> None:
        """Queue one call."""
        self._pending.append(call)

    async def flush(self) -> None:
        """Write everything queued so far."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await self._store.record_calls(batch)
            except psycopg.OperationalError:
                _log.warning("writing the call audit failed; will retry", exc_info=True)
                self._pending[:0] = batch[-10_000:]
            except psycopg.Error:
                _log.exception("dropping call audit records the database refused", extra={"count": len(batch)})

    async def close(self) -> None:
        """Stop the task and write what is left."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        await self.flush()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)
            await self.flush()
