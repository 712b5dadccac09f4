"""``Listener``: one ``LISTEN`` connection per channel that reconnects forever.

The connection is opened from the pool's connection string (a pooled connection would be handed back, and its
``LISTEN`` with it). When it drops, the listener reconnects with a backoff of 0.1 s doubling up to 5 s, and calls
``on_connect`` again once listening, so a caller can catch up on whatever was notified while it was deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from rivulet.lib.exceptions import ConfigError
from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from psycopg_pool import AsyncConnectionPool

__all__ = ("Listener",)

_log = get_logger(__name__)


class Listener:
    """Receive the notices of ``channel`` on a dedicated connection, reconnecting whenever it drops.

    Args:
        pool: The pool whose connection string the listening connection is opened from.
        channel: The channel to ``LISTEN`` on.
        on_notice: Called with the payload of every notice.
        on_connect: Called after every (re)connection, once the ``LISTEN`` is in place and before any notice.
        what: Who listens, for log and error messages (``"change feed"``).
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        channel: str,
        *,
        on_notice: Callable[[str], None],
        on_connect: Callable[[], None],
        what: str,
    ) -> None:
        self._pool = pool
        self._channel = channel
        self._on_notice = on_notice
        self._on_connect = on_connect
        self._what = what
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        """Set while the ``LISTEN`` is in place (after ``on_connect`` ran), cleared when the connection drops."""

    def start(self) -> None:
        """Start listening in the background (once); wait on ``listening`` to know when it is in place."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name=f"rivulet-listen-{self._channel}")

    async def close(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.listening.clear()

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once()
            except (psycopg.Error, OSError) as exc:
                _log.warning(
                    "LISTEN connection lost; reconnecting",
                    extra={"listener": self._what, "channel": self._channel, "error": str(exc)},
                )
            self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _listen_once(self) -> None:
        conninfo = self._pool.conninfo
        if not isinstance(conninfo, str):
            raise ConfigError(f"the {self._what} needs a pool created from a connection string")
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._on_connect()  # whatever was notified while we were not listening
            self.listening.set()
            async for notice in conn.notifies():
                self._on_notice(notice.payload)
