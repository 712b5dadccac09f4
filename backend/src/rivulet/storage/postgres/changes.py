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

from rivulet.lib.log import get_logger
from rivulet.storage.postgres.listen import Listener

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
        self._listener = Listener(pool, CHANNEL, on_notice=self._fire, on_connect=self._fire_all, what="change feed")
        self.listening = self._listener.listening

    def on(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever ``topic`` changes (and after every reconnect)."""
        self._callbacks[topic].append(callback)

    async def start(self) -> None:
        """Start listening; returns once the LISTEN is in place (or after 5 s)."""
        self._listener.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=5)

    async def close(self) -> None:
        """Stop listening."""
        await self._listener.close()

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

    def _fire_all(self) -> None:
        for topic in list(self._callbacks):
            self._fire(topic)
