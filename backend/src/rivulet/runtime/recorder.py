"""``RunRecorder``: group commit of finished runs.

Short runs (published endpoint calls) are recorded once, when they end: run row, node states and events in one
write. Every run that ends while a write is in flight joins the next one, so under load one transaction records
dozens of runs. ``record`` returns after the commit; ``submit`` returns at once (the caller is answered before
its run is durable; until then ``pending`` serves it) and waits only when ``max_pending`` runs are queued.

Example:
    >>> async def main(store, finished):  # doctest: +SKIP
    ...     recorder = RunRecorder(store.record_runs)
    ...     await recorder.record(finished)  # returns once committed, together with whatever else was waiting
    ...     await recorder.close()
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from rivulet.records.runs import FinishedRun

__all__ = ("RunRecorder",)


def _settle(future: asyncio.Future[None] | None, error: Exception | None) -> None:
    """Tell the caller of ``record`` (a submitted run has no future: its failure is logged with its group)."""
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


_log = get_logger(__name__)


class RunRecorder:
    """Writes finished runs in groups from one background task.

    Args:
        write: Stores a group durably in one transaction (``RunStore.record_runs``).
        max_batch: The most runs one write takes (the rest wait for the next).
        retries: Attempts after a failed write before its callers get the error.
        retry_delay_s: Pause before the first retry (doubles each time).
    """

    def __init__(
        self,
        write: Callable[[Sequence[FinishedRun]], Awaitable[None]],
        *,
        max_batch: int = 1000,
        max_pending: int = 5000,
        retries: int = 3,
        retry_delay_s: float = 0.05,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._by_id: dict[str, FinishedRun] = {}
        self._room = asyncio.Event()
        self._room.set()
        self._retries = retries
        self._retry_delay_s = retry_delay_s
        self._waiting: list[tuple[FinishedRun, asyncio.Future[None] | None]] = []
        self._task: asyncio.Task[None] | None = None
        self.groups = 0
        """Writes done so far (a run count divided by this is the mean group size)."""
        self.recorded = 0
        """Runs recorded so far."""

    async def record(self, run: FinishedRun) -> None:
        """Queue ``run`` and return once it is committed.

        Raises:
            Exception: The store refused the group after every retry (nothing of the group is stored).
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(run, future)
        await asyncio.shield(future)

    async def submit(self, run: FinishedRun) -> None:
        """Queue ``run`` and return at once, or once there is room when ``max_pending`` runs are queued."""
        while len(self._by_id) >= self._max_pending:
            self._room.clear()
            await self._room.wait()
        self._queue(run, None)

    def pending(self, run_id: str) -> FinishedRun | None:
        """A run queued or being written (not yet readable from the store)."""
        return self._by_id.get(run_id)

    def _queue(self, run: FinishedRun, future: asyncio.Future[None] | None) -> None:
        self._waiting.append((run, future))
        self._by_id[run.run.id] = run
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="rivulet-run-recorder")

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            error = await self._write_with_retries([run for run, _ in group])
            if error is not None and len(group) > 1:
                # one bad run must not fail the others: write each alone, once
                for run, future in group:
                    alone = await self._write_once([run])
                    if alone is not None and future is None:
                        _log.error("a submitted run could not be recorded", extra={"run_id": run.run.id})
                    _settle(future, alone)
                self._forget(group)
                continue
            for _, future in group:
                _settle(future, error)
            self._forget(group)

    def _forget(self, group: list[tuple[FinishedRun, asyncio.Future[None] | None]]) -> None:
        for run, _ in group:
            self._by_id.pop(run.run.id, None)
        if len(self._by_id) < self._max_pending:
            self._room.set()

    async def _write_once(self, runs: list[FinishedRun]) -> Exception | None:
        try:
            await self._write(runs)
        except Exception as exc:  # noqa: BLE001 - handed to the callers of these runs
            return exc
        self.groups += 1
        self.recorded += len(runs)
        return None

    async def _write_with_retries(self, runs: list[FinishedRun]) -> Exception | None:
        delay = self._retry_delay_s
        error = await self._write_once(runs)
        for _ in range(self._retries):
            if error is None:
                return None
            await asyncio.sleep(delay)
            delay *= 2
            error = await self._write_once(runs)
        if error is not None:
            _log.error("recording finished runs failed", extra={"count": len(runs), "error": repr(error)})
        return error

    async def close(self) -> None:
        """Wait until every queued run is written."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
