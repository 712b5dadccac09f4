"""Cross-replica cache invalidation: ``NOTIFY rivulet_changes, '<topic>'`` and one LISTEN connection per process.

Caches (published endpoints, credentials) register a callback per topic; any replica that changes the underlying
rows calls ``notify(topic)`` after committing, and every replica (itself included) drops its cached copy. While
the LISTEN connection is down the callbacks run on reconnect, so a missed notice never leaves a stale cache.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import TYPE_CHECKING

import psycopg

from rivulet.lib.exceptions import ConfigError
from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from psycopg_pool import AsyncConnectionPool

__all__ = ("CHANNEL", "ChangeFeed")

CHANNEL = "rivulet_changes"
_log = get_logger(__name__)


class ChangeFeed:
    """Publish and receive change notices on ``CHANNEL``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._callbacks: defaultdict[str, list[Callable[[], None]]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def on(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever ``topic`` changes (and after every reconnect)."""
        self._callbacks[topic].append(callback)

    async def start(self) -> None:
        """Start listening; returns once the LISTEN is in place (or after 5 s)."""
        self._task = asyncio.create_task(self._listen_forever(), name="rivulet-change-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=5)

    async def close(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def notify(self, topic: str) -> None:
        """Tell every replica that ``topic`` changed (call after the change is committed)."""
        self._fire(topic)
        try:
            async with self._pool.connection() as conn:
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, topic))
        except psycopg.Error:
            _log.warning("change notice failed", extra={"topic": topic}, exc_info=True)

    def _fire(self, topic: str) -> None:
        for callback in self._callbacks.get(topic, ()):
            callback()

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once()
            except (psycopg.Error, OSError) as exc:
                _log.warning("change feed connection lost; reconnecting", extra={"error": str(exc)})
            self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _listen_once(self) -> None:
        conninfo = self._pool.conninfo
        if not isinstance(conninfo, str):
            raise ConfigError("the change feed needs a pool created from a connection string")
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            for topic in list(self._callbacks):
                self._fire(topic)  # whatever changed while we were not listening
            self.listening.set()
            async for notice in conn.notifies():
                self._fire(notice.payload)
