"""``PostgresEventBus``: fan-out across replicas with LISTEN/NOTIFY on top of the shared event log.

After a batch is committed, ``NOTIFY rivulet_events`` announces it with a compact notice
``{"origin": ..., "runs": {run_id: last_seq, ...}}`` (as many runs per notice as fit in ~7 kB, NOTIFY's limit
being 8 kB): one notification per flush rather than one per run or per event, and no event payloads, which would
cost the writer as much as storing them. A replica that serves subscribers of an announced run reads the new
events from storage (one indexed read of the run's latest batches); the others ignore the notice. A replica
ignores its own notices (its subscribers already got the events in-process). When the LISTEN connection drops,
it reconnects and every local subscriber re-reads storage, so no event is lost across the outage.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import msgspec
import psycopg

from rivulet.lib.log import get_logger
from rivulet.records.events import encoder
from rivulet.runtime.bus import BaseEventBus
from rivulet.storage.postgres.listen import Listener
from rivulet.storage.postgres.runs import PostgresRunStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.records.events import Event
    from rivulet.storage.base import RunStore

__all__ = ("CHANNEL", "MAX_INLINE_BYTES", "PostgresEventBus", "notices")

CHANNEL = "rivulet_events"
MAX_INLINE_BYTES = 7000
_log = get_logger(__name__)


class _Notice(msgspec.Struct, frozen=True):
    """The NOTIFY payload: the last committed seq of each run written by ``origin``'s flush."""

    origin: str
    runs: dict[str, int]


_notice_decoder = msgspec.json.Decoder(_Notice)


def notices(origin: str, last_seqs: dict[str, int], limit: int = MAX_INLINE_BYTES) -> list[str]:
    """Pack ``{run_id: last_seq}`` into as few NOTIFY payloads of at most ``limit`` bytes as possible."""
    head = b'{"origin":' + encoder.encode(origin) + b',"runs":{'
    out: list[str] = []
    entries: list[bytes] = []
    size = len(head) + 2
    for run_id, seq in last_seqs.items():
        entry = encoder.encode(run_id) + b":" + str(seq).encode()
        if entries and size + len(entry) + 1 > limit:
            out.append((head + b",".join(entries) + b"}}").decode())
            entries, size = [], len(head) + 2
        entries.append(entry)
        size += len(entry) + 1
    if entries:
        out.append((head + b",".join(entries) + b"}}").decode())
    return out


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
        # On (re)connect every local subscriber re-reads storage: anything published while deaf is there.
        self._listener = Listener(pool, CHANNEL, on_notice=self._handle, on_connect=self._hint_all, what="event bus")

    async def start(self) -> None:
        self._listener.start()
        await asyncio.wait_for(self._listener.listening.wait(), timeout=15)

    async def close(self) -> None:
        await super().close()
        await self._listener.close()

    async def _write(self, batch: list[Event]) -> None:
        last_seqs: dict[str, int] = {}
        for event in batch:
            last_seqs[event.run_id] = event.seq
        payloads = notices(self.instance_id, last_seqs)
        if isinstance(self._store, PostgresRunStore):
            # One statement, one transaction: the notice is delivered exactly when the events become visible.
            await self._store.append_events(batch, notify=(CHANNEL, payloads))
            return
        await self._store.append_events(batch)
        try:
            async with self._pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, payloads))
        except psycopg.Error:
            # The events are committed; remote subscribers catch up on their next notice or reconnect.
            _log.warning("NOTIFY failed", exc_info=True)

    def _handle(self, payload: str) -> None:
        try:
            notice = _notice_decoder.decode(payload)
        except msgspec.DecodeError:
            _log.warning("ignoring a malformed event notice", extra={"payload": payload[:200]})
            return
        if notice.origin == self.instance_id:
            return
        for run_id in notice.runs:
            if run_id in self._subscribers:
                self._deliver(run_id, None)  # read the new events from storage
