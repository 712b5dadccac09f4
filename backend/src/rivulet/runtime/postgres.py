"""``PostgresEventBus``: fan-out across replicas with LISTEN/NOTIFY on top of the shared ``run_events`` log.

After a batch is committed, one ``NOTIFY rivulet_events`` per run carries ``{origin, run_id, seq, events}``;
``events`` is left out when the payload would exceed ~7 kB (NOTIFY's limit is 8 kB), and the receiving replica's
subscribers then read the missing events from ``run_events``. A replica ignores its own notifications (its
subscribers already got the events in-process). When the LISTEN connection drops, it reconnects and every local
subscriber re-reads storage, so no event is lost across the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg

from rivulet.lib.exceptions import ConfigError
from rivulet.lib.log import get_logger
from rivulet.runtime.bus import BaseEventBus
from rivulet.runtime.events import Event, encoder

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import RunStore

__all__ = ("CHANNEL", "MAX_INLINE_BYTES", "PostgresEventBus")

CHANNEL = "rivulet_events"
MAX_INLINE_BYTES = 7000
_log = get_logger(__name__)


class _Notice(msgspec.Struct, frozen=True):
    """The NOTIFY payload."""

    origin: str
    run_id: str
    seq: int
    events: list[Event] | None = None


_notice_decoder = msgspec.json.Decoder(_Notice)


class PostgresEventBus(BaseEventBus):
    """An ``EventBus`` whose subscribers may live in any process sharing the database.

    Args:
        store: The ``PostgresRunStore`` events are written to and replayed from.
        pool: A pool on the same database (NOTIFY is sent through it; LISTEN uses its own connection).
        interval_s: Longest time an event waits before its batch is written.
        max_batch: Write as soon as this many events wait.
    """

    def __init__(
        self, store: RunStore, pool: AsyncConnectionPool, *, interval_s: float = 0.02, max_batch: int = 1000
    ) -> None:
        super().__init__(store, interval_s=interval_s, max_batch=max_batch)
        self._pool = pool
        self.instance_id = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="rivulet-event-listener")
            await asyncio.wait_for(self._listening.wait(), timeout=15)

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _on_written(self, batch: list[Event]) -> None:
        by_run: dict[str, list[Event]] = {}
        for event in batch:
            by_run.setdefault(event.run_id, []).append(event)
        payloads: list[str] = []
        for run_id, events in by_run.items():
            notice = _Notice(self.instance_id, run_id, events[-1].seq, events)
            data = encoder.encode(notice)
            if len(data) > MAX_INLINE_BYTES:
                data = encoder.encode(_Notice(self.instance_id, run_id, events[-1].seq))
            payloads.append(data.decode())
        try:
            async with self._pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, payloads))
        except psycopg.Error:
            # The events are committed; remote subscribers catch up on their next notice or reconnect.
            _log.warning("NOTIFY failed", exc_info=True)

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once()
            except (psycopg.Error, OSError) as exc:
                _log.warning("event listener connection lost; reconnecting", extra={"error": str(exc)})
            self._listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _listen_once(self) -> None:
        conninfo = self._pool.conninfo
        if not isinstance(conninfo, str):
            raise ConfigError("the event bus needs a pool created from a connection string")
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self._listening.set()
            self._hint_all()  # anything published while we were not listening is in storage
            async for notify in conn.notifies():
                self._handle(notify.payload)

    def _handle(self, payload: str) -> None:
        try:
            notice = _notice_decoder.decode(payload)
        except msgspec.DecodeError:
            _log.warning("ignoring a malformed event notice", extra={"payload": payload[:200]})
            return
        if notice.origin == self.instance_id:
            return
        self._deliver(notice.run_id, notice.events)

    def listen_state(self) -> dict[str, Any]:
        """Diagnostics: whether the LISTEN connection is up and how many runs have local subscribers."""
        return {"listening": self._listening.is_set(), "subscribed_runs": len(self._subscribers)}
