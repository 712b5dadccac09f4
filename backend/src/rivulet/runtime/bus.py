"""The ``EventBus`` contract and the machinery both buses share.

``publish`` never blocks: the event is handed to local subscribers at once and queued for persistence by an
``EventWriter`` that writes batches to the event log in the background (every ``interval_s`` or when
``max_batch`` events are waiting, and fully on ``flush``). ``subscribe(run_id, after_seq)`` replays what is
stored (plus what is still waiting to be written) and then follows live events; the subscriber keeps the last
seq it delivered, drops duplicates and fills any gap from storage, so the replay/live boundary loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING, Protocol

from rivulet.lib.log import get_logger
from rivulet.records.events import RunFinished

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence

    from rivulet.records.events import Event
    from rivulet.storage.base import RunStore

__all__ = ("BaseEventBus", "EventBus", "EventWriter")

_log = get_logger(__name__)


class EventBus(Protocol):
    """Publishes run events, persists them and lets any number of observers follow a run."""

    def publish(self, event: Event) -> None:
        """Hand an event to subscribers and queue it for persistence. Never blocks."""
        ...

    def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncGenerator[Event]:
        """Events of ``run_id`` with ``seq > after_seq``: stored ones, then live ones, each exactly once.

        The iterator ends after the run's ``run_finished`` event.
        """
        ...

    async def read(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Events already published for ``run_id`` (persisted or still queued), in seq order."""
        ...

    async def flush(self) -> None:
        """Wait until every published event is persisted."""
        ...

    async def start(self) -> None:
        """Open connections and background tasks (idempotent)."""
        ...

    async def close(self) -> None:
        """Flush and release everything."""
        ...


class EventWriter:
    """Batches events into ``RunStore.append_events`` from one background task.

    Args:
        store: Where events go.
        interval_s: Longest time an event waits before its batch is written.
        max_batch: Write as soon as this many events wait.
        on_written: Called with every written batch.
        write: Writes a batch durably (default ``store.append_events``); the Postgres bus passes one that also
            sends its NOTIFY in the same statement.
    """

    def __init__(
        self,
        store: RunStore,
        *,
        interval_s: float = 0.02,
        max_batch: int = 1000,
        on_written: Callable[[list[Event]], Awaitable[None]] | None = None,
        write: Callable[[list[Event]], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._write = store.append_events if write is None else write
        self._interval_s = interval_s
        self._max_batch = max_batch
        self._on_written = on_written
        self._buffer: list[Event] = []
        self._pending: dict[str, list[Event]] = {}
        """Events not yet committed (queued or being written), by run: readers merge them with storage."""
        self._kick = asyncio.Event()
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def add(self, event: Event) -> None:
        """Queue one event (synchronous, O(1))."""
        buffer = self._buffer
        buffer.append(event)
        pending = self._pending.get(event.run_id)
        if pending is None:
            self._pending[event.run_id] = [event]
        else:
            pending.append(event)
        if len(buffer) == 1:
            self._kick.set()
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._loop(), name="rivulet-event-writer")
        elif len(buffer) >= self._max_batch:
            self._full.set()

    def pending(self, run_id: str) -> list[Event]:
        """A snapshot of the not-yet-committed events of a run."""
        return list(self._pending.get(run_id, ()))

    async def _loop(self) -> None:
        while True:
            await self._kick.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._interval_s)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - keep the writer alive; events stay queued and are retried
                _log.exception("writing run events failed; retrying")
                await asyncio.sleep(min(1.0, self._interval_s * 10))

    async def flush(self) -> None:
        """Write everything queued so far.

        Raises:
            Exception: The store failed; the batch stays queued for the next attempt.
        """
        async with self._lock:
            while self._buffer:
                batch, self._buffer = self._buffer, []
                self._kick.clear()
                self._full.clear()
                try:
                    await self._write(batch)
                except BaseException:
                    self._buffer[:0] = batch
                    self._kick.set()
                    raise
                self._committed(batch)
                if self._on_written is not None:
                    await self._on_written(batch)

    def _committed(self, batch: Sequence[Event]) -> None:
        counts: dict[str, int] = {}
        for event in batch:
            counts[event.run_id] = counts.get(event.run_id, 0) + 1
        for run_id, count in counts.items():
            pending = self._pending[run_id]
            del pending[:count]
            if not pending:
                del self._pending[run_id]

    async def close(self) -> None:
        """Flush and stop the background task."""
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class _Subscriber:
    __slots__ = ("items", "wake")

    def __init__(self) -> None:
        self.items: deque[Event | None] = deque()
        """Live events; ``None`` means "storage has news, read it"."""
        self.wake = asyncio.Event()


class BaseEventBus:
    """Local fan-out, batched persistence and gap-free subscriptions; subclasses add transport."""

    def __init__(self, store: RunStore, *, interval_s: float = 0.02, max_batch: int = 1000) -> None:
        self._store = store
        self._writer = EventWriter(
            store, interval_s=interval_s, max_batch=max_batch, on_written=self._on_written, write=self._write
        )
        self._subscribers: dict[str, set[_Subscriber]] = {}

    async def _write(self, batch: list[Event]) -> None:
        """Hook: write a batch durably."""
        await self._store.append_events(batch)

    async def _on_written(self, batch: list[Event]) -> None:
        """Hook: a batch is committed to storage."""

    def publish(self, event: Event) -> None:
        subscribers = self._subscribers.get(event.run_id)
        if subscribers:
            for subscriber in subscribers:
                subscriber.items.append(event)
                subscriber.wake.set()
        self._writer.add(event)

    def _deliver(self, run_id: str, events: Sequence[Event] | None) -> None:
        """Hand events that arrived from elsewhere (``None``: a hint to read storage) to local subscribers."""
        for subscriber in self._subscribers.get(run_id, ()):
            if events is None:
                subscriber.items.append(None)
            else:
                subscriber.items.extend(events)
            subscriber.wake.set()

    def _hint_all(self) -> None:
        for run_id in list(self._subscribers):
            self._deliver(run_id, None)

    async def read(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        # Snapshot the uncommitted events first: an event leaves this list only after its commit, so each
        # event is in the snapshot or visible to the storage read that follows.
        pending = self._writer.pending(run_id)
        stored = await self._store.list_events(run_id, after_seq=after_seq)
        last = stored[-1].seq if stored else after_seq
        events = stored + [e for e in pending if e.seq > last]
        return events if limit is None else events[:limit]

    async def _is_finished(self, run_id: str, after_seq: int) -> bool:
        pending = self._writer.pending(run_id)
        last = pending[-1] if pending else await self._store.last_event(run_id)
        return isinstance(last, RunFinished) and last.seq <= after_seq

    async def _drain(self, run_id: str, subscriber: _Subscriber, last: int) -> list[Event]:
        """The queued live events that continue after ``last``, with gaps filled from storage."""
        out: list[Event] = []
        while subscriber.items:
            item = subscriber.items.popleft()
            if item is not None and item.seq <= last:
                continue  # already delivered (replayed, or a duplicate from another transport)
            if item is not None and item.seq == last + 1:
                fill: Sequence[Event] = (item,)  # the common case: the next event in line
            else:
                fill = await self.read(run_id, last)  # a hint or a gap: storage has the missing ones
                fill = fill if item is None else (*fill, item)
            for event in fill:
                if event.seq == last + 1:
                    out.append(event)
                    last = event.seq
        return out

    async def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncGenerator[Event]:
        subscriber = _Subscriber()
        self._subscribers.setdefault(run_id, set()).add(subscriber)
        try:
            batch = await self.read(run_id, after_seq)
            if not batch and await self._is_finished(run_id, after_seq):
                return
            last = after_seq
            while True:
                for event in batch:
                    yield event
                    if type(event) is RunFinished:
                        return
                last = batch[-1].seq if batch else last
                await subscriber.wake.wait()
                subscriber.wake.clear()
                batch = await self._drain(run_id, subscriber, last)
        finally:
            subscribers = self._subscribers.get(run_id)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[run_id]

    async def flush(self) -> None:
        await self._writer.flush()

    async def start(self) -> None:
        """Nothing to open for local fan-out."""

    async def close(self) -> None:
        await self._writer.close()
