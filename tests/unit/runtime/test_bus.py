"""The in-memory bus: replay + live without gaps or duplicates, batching, retries."""

from __future__ import annotations

import asyncio
import time

import pytest

from rivulet.records.events import Event, NodeStarted, RunFinished, RunStarted
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore

pytestmark = pytest.mark.timeout(60)


def started(run_id: str, seq: int) -> Event:
    if seq == 1:
        return RunStarted(run_id=run_id, seq=1, ts=time.time(), flow_id="f", flow_version=1)
    return NodeStarted(run_id=run_id, seq=seq, ts=time.time(), node_id=f"n{seq}")


def finished(run_id: str, seq: int) -> Event:
    return RunFinished(run_id=run_id, seq=seq, ts=time.time(), status="succeeded")


async def collect(bus: MemoryEventBus, run_id: str, after_seq: int = 0) -> list[int]:
    return [event.seq async for event in bus.subscribe(run_id, after_seq)]


async def test_subscriber_sees_every_event_once_across_the_replay_boundary() -> None:
    store = MemoryRunStore()
    bus = MemoryEventBus(store, interval_s=0.001, max_batch=7)
    for seq in range(1, 51):
        bus.publish(started("r", seq))
    await bus.flush()
    for seq in range(51, 81):  # queued, not yet written
        bus.publish(started("r", seq))
    task = asyncio.create_task(collect(bus, "r"))
    for seq in range(81, 301):
        bus.publish(started("r", seq))
        if seq % 13 == 0:
            await asyncio.sleep(0)
        if seq % 29 == 0:
            await asyncio.sleep(0.002)
    bus.publish(finished("r", 301))
    assert await asyncio.wait_for(task, 5) == list(range(1, 302))
    await bus.close()
    assert [e.seq for e in await store.list_events("r")] == list(range(1, 302))


async def test_resume_after_seq_receives_exactly_the_missed_events_then_live_ones() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    for seq in range(1, 11):
        bus.publish(started("r", seq))
    task = asyncio.create_task(collect(bus, "r", after_seq=7))
    await asyncio.sleep(0.01)
    bus.publish(started("r", 11))
    bus.publish(finished("r", 12))
    assert await asyncio.wait_for(task, 5) == [8, 9, 10, 11, 12]
    await bus.close()


async def test_two_observers_both_see_every_event() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    bus.publish(started("r", 1))
    first = asyncio.create_task(collect(bus, "r"))
    second = asyncio.create_task(collect(bus, "r"))
    await asyncio.sleep(0.005)
    for seq in range(2, 20):
        bus.publish(started("r", seq))
    bus.publish(finished("r", 20))
    assert await asyncio.wait_for(first, 5) == list(range(1, 21))
    assert await asyncio.wait_for(second, 5) == list(range(1, 21))
    await bus.close()


async def test_subscribing_to_a_finished_run_replays_and_ends() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    bus.publish(started("r", 1))
    bus.publish(finished("r", 2))
    await bus.flush()
    assert await asyncio.wait_for(collect(bus, "r"), 1) == [1, 2]
    assert await asyncio.wait_for(collect(bus, "r", after_seq=2), 1) == []
    await bus.close()


async def test_runs_do_not_leak_into_each_other() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    task = asyncio.create_task(collect(bus, "a"))
    await asyncio.sleep(0)
    bus.publish(started("b", 1))
    bus.publish(started("a", 1))
    bus.publish(finished("b", 2))
    bus.publish(finished("a", 2))
    assert await asyncio.wait_for(task, 1) == [1, 2]
    await bus.close()


async def test_gaps_and_hints_from_another_transport_are_filled_from_storage() -> None:
    store = MemoryRunStore()
    bus = MemoryEventBus(store)
    task = asyncio.create_task(collect(bus, "r"))
    await asyncio.sleep(0.005)
    # another replica wrote 1..5 and announced only 5 (and later a bare hint)
    await store.append_events([started("r", s) for s in range(1, 6)])
    bus._deliver("r", [started("r", 5)])
    await asyncio.sleep(0.005)
    await store.append_events([started("r", 6), finished("r", 7)])
    bus._deliver("r", None)
    assert await asyncio.wait_for(task, 1) == [1, 2, 3, 4, 5, 6, 7]
    await bus.close()


class FlakyStore(MemoryRunStore):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 2
        self.batches: list[int] = []

    async def append_events(self, events: list[Event]) -> None:  # type: ignore[override]
        if self.failures:
            self.failures -= 1
            raise OSError("database unavailable")
        self.batches.append(len(events))
        await super().append_events(events)


async def test_writer_keeps_events_queued_until_the_store_accepts_them() -> None:
    store = FlakyStore()
    bus = MemoryEventBus(store, interval_s=0.001)
    for seq in range(1, 6):
        bus.publish(started("r", seq))
    with pytest.raises(OSError, match="unavailable"):
        await bus.flush()
    # still readable while queued
    assert [e.seq for e in await bus.read("r")] == [1, 2, 3, 4, 5]
    deadline = time.monotonic() + 5
    while len(await store.list_events("r")) < 5 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert [e.seq for e in await store.list_events("r")] == [1, 2, 3, 4, 5]
    await bus.close()


async def test_events_are_written_in_batches_not_one_by_one() -> None:
    store = FlakyStore()
    store.failures = 0
    bus = MemoryEventBus(store, interval_s=0.05, max_batch=100)
    for seq in range(1, 251):
        bus.publish(started("r", seq))
    await asyncio.sleep(0.01)
    await bus.flush()
    assert sum(store.batches) == 250
    assert len(store.batches) <= 3
    await bus.close()
