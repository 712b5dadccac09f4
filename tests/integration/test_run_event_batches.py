"""Events stored one row per written batch per run (``run_event_batches``): exact replay, retries, crashes."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import psycopg
import pytest
from psycopg import sql

from rivulet.records.events import Event, NodeOutput, NodeStarted, RunFinished, RunStarted, encoder
from rivulet.records.runs import RunRecord
from rivulet.runtime.postgres import MAX_INLINE_BYTES, PostgresEventBus, notices
from rivulet.storage.postgres.migrate import MIGRATIONS_DIR, apply_migrations, load_migrations
from rivulet.storage.postgres.pool import open_pool
from rivulet.storage.postgres.runs import PostgresRunStore
from tests.conftest import database_url

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def record(run_id: str) -> RunRecord:
    return RunRecord(
        id=run_id, flow_id="f", flow_version=1, status="running", trigger="api", owner="dead",
        created_at=datetime.now(UTC),
    )  # fmt: skip


def event(run_id: str, seq: int) -> Event:
    if seq == 1:
        return RunStarted(run_id=run_id, seq=1, ts=time.time(), flow_id="f", flow_version=1)
    if seq % 5 == 0:
        return NodeOutput(run_id=run_id, seq=seq, ts=time.time(), node_id=f"n{seq}", port="p", preview={"v": seq})
    return NodeStarted(run_id=run_id, seq=seq, ts=time.time(), node_id=f"n{seq}")


async def batch_rows(pool: AsyncConnectionPool, run_id: str) -> list[tuple[int, int]]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT seq_from, seq_to FROM run_event_batches WHERE run_id = %s ORDER BY seq_from", (run_id,)
        )
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def test_replay_is_exact_from_any_seq_across_batch_boundaries(pool: AsyncConnectionPool) -> None:
    store = PostgresRunStore(pool)
    await store.create_run(record("a"))
    await store.create_run(record("b"))
    events = [event("a", seq) for seq in range(1, 31)]
    other = [event("b", seq) for seq in range(1, 31)]
    # uneven batches, each write mixing both runs as the writer does
    cuts = [0, 1, 4, 5, 12, 29, 30]
    for lo, hi in itertools.pairwise(cuts):
        await store.append_events(events[lo:hi] + other[lo:hi])
    assert await batch_rows(pool, "a") == [(1, 1), (2, 4), (5, 5), (6, 12), (13, 29), (30, 30)]
    for after in range(31):  # every boundary and every position inside a batch
        assert await store.list_events("a", after_seq=after) == events[after:]
        assert await store.list_events("a", after_seq=after, limit=3) == events[after : after + 3]
    assert await store.last_event("a") == events[-1]
    assert await store.list_events("b") == other


async def test_retried_and_overlapping_batches_keep_each_event_once(pool: AsyncConnectionPool) -> None:
    store = PostgresRunStore(pool)
    await store.create_run(record("r"))
    events = [event("r", seq) for seq in range(1, 13)]
    await store.append_events(events[0:5])  # 1..5 committed, but the writer never saw the acknowledgement
    await store.append_events(events[0:8])  # ...so it retries 1..5 together with 6..8 queued meanwhile
    await store.append_events(events[0:3])  # an older, shorter copy never replaces a longer one
    await store.append_events(events[6:12])  # 7..12 overlaps 7..8
    assert await batch_rows(pool, "r") == [(1, 8), (7, 12)]
    assert await store.list_events("r") == events
    assert await store.list_events("r", after_seq=7, limit=2) == events[7:9]
    assert await store.last_event("r") == events[-1]
    async with pool.connection() as conn:  # the compatibility view: one row per event
        cur = await conn.execute("SELECT seq, type, payload::text FROM run_events WHERE run_id = 'r' ORDER BY seq")
        rows = await cur.fetchall()
    assert [(seq, kind) for seq, kind, _ in rows] == [(e.seq, type(e).__struct_config__.tag) for e in events]
    assert [msgspec.json.decode(payload) for _, _, payload in rows] == [
        msgspec.json.decode(encoder.encode(e)) for e in events
    ]


async def test_a_crash_mid_batch_keeps_every_committed_event(pool: AsyncConnectionPool, db_url: str) -> None:
    store = PostgresRunStore(pool)
    await store.create_run(record("c"))
    events = [event("c", seq) for seq in range(1, 10)]
    await store.append_events(events[:4])
    await store.append_events(events[4:6])
    # The writer process dies while its next batch (7..9) is in flight: its transaction never commits.
    conn = await psycopg.AsyncConnection.connect(db_url)
    await conn.execute(
        "INSERT INTO run_event_batches (run_id, seq_from, seq_to, payload) VALUES ('c', 7, 9, %s)",
        (encoder.encode(events[6:]),),
    )
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError):
        await conn.commit()
    await conn.close()
    assert await store.list_events("c") == events[:6]
    # On restart the run is interrupted; its final event follows the last persisted one, nothing is lost.
    assert await store.interrupt_orphans(owner="me", stale_after_s=0, reason="the server stopped") == ["c"]
    replayed = await store.list_events("c")
    assert replayed[:6] == events[:6]
    assert [e.seq for e in replayed] == [1, 2, 3, 4, 5, 6, 7]
    assert isinstance(replayed[-1], RunFinished)
    assert replayed[-1].status == "interrupted"
    assert await store.list_events("c", after_seq=6) == replayed[6:]


async def test_bus_writes_one_row_per_run_per_flush_and_notifies_in_the_same_transaction(
    pool: AsyncConnectionPool,
) -> None:
    store = PostgresRunStore(pool)
    for run_id in ("x", "y"):
        await store.create_run(record(run_id))
    bus = PostgresEventBus(store, pool, interval_s=60)
    replica = PostgresEventBus(store, pool, interval_s=60)
    await bus.start()
    await replica.start()
    try:
        for seq in range(1, 101):
            bus.publish(event("x", seq))
            if seq <= 10:
                bus.publish(event("y", seq))

        async def follow() -> list[int]:
            return [e.seq async for e in replica.subscribe("x", after_seq=57)]

        follower = asyncio.create_task(follow())
        await asyncio.sleep(0.05)  # subscribed on the replica before anything is written
        await bus.flush()
        assert await batch_rows(pool, "x") == [(1, 100)]
        assert await batch_rows(pool, "y") == [(1, 10)]
        bus.publish(RunFinished(run_id="x", seq=101, ts=time.time(), status="succeeded"))
        await bus.flush()  # the replica learns of both writes only from the notices
        assert await asyncio.wait_for(follower, 10) == list(range(58, 102))
    finally:
        await bus.close()
        await replica.close()


def test_notices_pack_many_runs_under_the_notify_limit() -> None:
    last = {f"run-{i:05d}-{uuid.uuid4().hex}": i for i in range(1000)}
    payloads = notices("origin", last)
    assert 1 < len(payloads) < 20
    assert all(len(p.encode()) <= MAX_INLINE_BYTES for p in payloads)
    merged: dict[str, int] = {}
    for payload in payloads:
        decoded = msgspec.json.decode(payload)
        assert decoded["origin"] == "origin"
        merged.update(decoded["runs"])
    assert merged == last


async def test_migration_moves_existing_events_into_batches(pg_url: str, tmp_path: Path) -> None:
    migrations = load_migrations()
    target = next(m for m in migrations if m.name == "event_batches")
    before = tmp_path / "before"
    before.mkdir()
    for m in migrations:
        if m.version < target.version:
            shutil.copy(MIGRATIONS_DIR / f"{m.version:04d}_{m.name}.sql", before)
    name = f"mig_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    pool = await open_pool(database_url(pg_url, name), min_size=1, max_size=2)
    try:
        await apply_migrations(pool, before)
        events = [event("old", seq) for seq in range(1, 8)]
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO runs (id, flow_id, flow_version, status, trigger)"
                " VALUES ('old', 'f', 1, 'succeeded', 'api')"
            )
            for e in reversed(events):
                await conn.execute(
                    "INSERT INTO run_events (run_id, seq, type, payload, ts) VALUES (%s, %s, %s, %s::jsonb, now())",
                    ("old", e.seq, type(e).__struct_config__.tag, encoder.encode(e).decode()),
                )
        await apply_migrations(pool)
        store = PostgresRunStore(pool)
        assert await store.list_events("old") == events
        assert await store.list_events("old", after_seq=3) == events[3:]
        assert await store.last_event("old") == events[-1]
    finally:
        await pool.close()
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
