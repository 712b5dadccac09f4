"""``Listener`` against the real embedded Postgres: notices, reconnection with catch-up, clean close."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rivulet.storage.postgres.listen import Listener

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

CHANNEL = "rivulet_listen_test"


async def listener_pids(pool: AsyncConnectionPool) -> list[int]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
            (f'LISTEN "{CHANNEL}"',),
        )
        return [pid for (pid,) in await cur.fetchall()]


async def notify(pool: AsyncConnectionPool, payload: str) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


async def test_listener_delivers_notices_and_catches_up_after_a_reconnect(pool: AsyncConnectionPool) -> None:
    received: asyncio.Queue[str] = asyncio.Queue()
    connects: asyncio.Queue[bool] = asyncio.Queue()
    listener = Listener(
        pool,
        CHANNEL,
        on_notice=received.put_nowait,
        on_connect=lambda: connects.put_nowait(listener.listening.is_set()),
        what="test listener",
    )
    listener.start()
    try:
        assert await asyncio.wait_for(connects.get(), 10) is False  # called before ``listening`` is set
        await asyncio.wait_for(listener.listening.wait(), 10)
        await notify(pool, "one")
        await notify(pool, "two")
        assert [await asyncio.wait_for(received.get(), 10) for _ in range(2)] == ["one", "two"]

        # The listening connection dies: the listener reconnects and calls ``on_connect`` again.
        [pid] = await listener_pids(pool)
        async with pool.connection() as conn:
            await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await asyncio.wait_for(connects.get(), 20) is False
        await asyncio.wait_for(listener.listening.wait(), 10)
        assert len([p for p in await listener_pids(pool) if p != pid]) == 1
        await notify(pool, "three")
        assert await asyncio.wait_for(received.get(), 10) == "three"
    finally:
        await listener.close()
    assert not listener.listening.is_set()
    assert received.empty()
    assert connects.empty()


async def test_close_stops_listening_and_a_listener_can_start_again(pool: AsyncConnectionPool) -> None:
    connects: list[None] = []
    listener = Listener(
        pool, CHANNEL, on_notice=lambda _: None, on_connect=lambda: connects.append(None), what="test listener"
    )
    await listener.close()  # closing a listener that never started is a no-op
    listener.start()
    listener.start()  # starting twice keeps one connection
    await asyncio.wait_for(listener.listening.wait(), 10)
    assert len(await listener_pids(pool)) == 1
    await listener.close()
    assert not listener.listening.is_set()
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 10)
    await listener.close()
    assert len(connects) == 2
