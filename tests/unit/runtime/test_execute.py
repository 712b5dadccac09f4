"""``RunService.execute``: runs in the caller's task, recorded at their end (summary or full), going live."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from rivulet.records.events import RunFinished, RunStarted
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunRequest, RunService, RunServiceConfig
from rivulet.storage.memory import MemoryFlowStore, MemoryRunStore
from tests.unit.runtime.fakes import Boom, Echo, Sleep, Source, build_graph

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from rivulet.records.runs import FinishedRun

pytestmark = pytest.mark.timeout(30)

CHAIN = build_graph(
    [("src", Source, {"value": "hi"}), ("a", Echo), ("b", Echo)], ["src.value -> a.value", "a.value -> b.value"]
)
SLOW = build_graph([("src", Source, {"value": 1}), ("slow", Sleep, {"seconds": 0.6})], ["src.value -> slow.value"])


class GatedRunStore(MemoryRunStore):
    """A memory store whose ``record_runs`` waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()

    async def record_runs(self, runs: Sequence[FinishedRun]) -> None:
        await self.gate.wait()
        await super().record_runs(runs)


@pytest.fixture
async def service() -> AsyncIterator[RunService]:
    runs = GatedRunStore()
    bus = MemoryEventBus(runs)
    svc = RunService(
        flows=MemoryFlowStore(),
        runs=runs,
        bus=bus,
        executor=Executor(bus),
        compile_graph=lambda _: CHAIN,
        config=RunServiceConfig(stale_after_s=0, live_after_s=0.1),
    )
    await svc.start()
    yield svc
    await svc.close()


async def test_summary_keeps_the_run_and_its_start_and_end(service: RunService) -> None:
    result = await service.execute(CHAIN, RunRequest(inputs={"q": 1}), history="summary")
    assert result.status == "succeeded"
    stored = await service.runs.get_run(result.run_id)
    assert (stored.status, stored.trigger, stored.inputs) == ("succeeded", "api", {"q": 1})
    assert stored.finished_at is not None
    assert await service.runs.list_node_runs(result.run_id) == []
    events = await service.events(result.run_id)
    assert [type(e) for e in events] == [RunStarted, RunFinished]
    assert [e.seq for e in events] == [1, 2]
    assert events[-1].status == "succeeded"


async def test_full_keeps_every_node_state_and_event(service: RunService) -> None:
    result = await service.execute(CHAIN, RunRequest(inputs={}), history="full")
    nodes = await service.runs.list_node_runs(result.run_id)
    assert {n.node_id: n.status for n in nodes} == {"src": "succeeded", "a": "succeeded", "b": "succeeded"}
    events = await service.events(result.run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) > 2
    assert isinstance(events[-1], RunFinished)


async def test_a_failed_run_is_kept_in_full_even_under_summary(service: RunService) -> None:
    graph = build_graph([("boom", Boom), ("after", Echo)], ["boom.value -> after.value"])
    result = await service.execute(graph, RunRequest(inputs={}), history="summary")
    assert result.status == "failed"
    stored = await service.runs.get_run(result.run_id)
    assert stored.status == "failed"
    assert stored.error is not None
    assert stored.error.node_id == "boom"
    assert {n.node_id: n.status for n in await service.runs.list_node_runs(result.run_id)}["boom"] == "failed"
    assert len(await service.events(result.run_id)) > 2


async def test_not_durable_returns_before_the_write_and_reads_come_from_memory(service: RunService) -> None:
    store = service.runs
    assert isinstance(store, GatedRunStore)
    store.gate.clear()
    result = await service.execute(CHAIN, RunRequest(inputs={}), history="full", durable=False)
    with pytest.raises(Exception, match="not found"):
        await store.get_run(result.run_id)  # not written yet
    detail = await service.get(result.run_id)
    assert detail.run.status == "succeeded"
    assert {n.node_id for n in detail.nodes} == {"src", "a", "b"}
    assert isinstance((await service.events(result.run_id))[-1], RunFinished)
    replay = [event async for event in await service.subscribe(result.run_id)]
    assert isinstance(replay[-1], RunFinished)
    store.gate.set()
    await service.recorder.close()
    assert (await store.get_run(result.run_id)).status == "succeeded"


async def test_a_run_still_going_after_live_after_s_is_recorded_live(service: RunService) -> None:
    call = asyncio.create_task(service.execute(SLOW, RunRequest(inputs={}), history="summary"))
    await asyncio.sleep(0.35)  # live_after_s is 0.1, checked every 0.05 s
    assert not call.done()
    live = await service.runs.get_run(next(iter(service.active_run_ids)))
    assert live.status == "running"
    result = await call
    assert result.status == "succeeded"
    assert (await service.runs.get_run(result.run_id)).status == "succeeded"
    nodes = await service.runs.list_node_runs(result.run_id)  # recorded live: in full, whatever the history
    assert {n.node_id for n in nodes} == {"src", "slow"}
    events = await service.events(result.run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_subscribing_to_a_running_call_makes_it_live(service: RunService) -> None:
    call = asyncio.create_task(service.execute(SLOW, RunRequest(inputs={}), history="summary"))
    while not service.active_run_ids:
        await asyncio.sleep(0.005)
    run_id = service.active_run_ids[0]
    events = [event async for event in await service.subscribe(run_id)]
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert (await call).status == "succeeded"


async def test_a_running_call_can_be_cancelled(service: RunService) -> None:
    call = asyncio.create_task(service.execute(SLOW, RunRequest(inputs={}), history="summary"))
    while not service.active_run_ids:
        await asyncio.sleep(0.005)
    await service.cancel(service.active_run_ids[0], "enough")
    result = await call
    assert result.status == "cancelled"
    assert (await service.runs.get_run(result.run_id)).status == "cancelled"


async def test_shutdown_interrupts_a_running_call_and_records_it() -> None:
    runs = MemoryRunStore()
    bus = MemoryEventBus(runs)
    service = RunService(
        flows=MemoryFlowStore(), runs=runs, bus=bus, executor=Executor(bus), compile_graph=lambda _: SLOW
    )
    await service.start()
    call = asyncio.create_task(service.execute(SLOW, RunRequest(inputs={}), history="summary"))
    while not service.active_run_ids:
        await asyncio.sleep(0.005)
    await service.close()
    result = await call
    assert result.status == "interrupted"
    assert (await runs.get_run(result.run_id)).status == "interrupted"


async def test_a_run_being_written_never_goes_live_as_well(service: RunService) -> None:
    store = service.runs
    assert isinstance(store, GatedRunStore)
    store.gate.clear()  # the write takes longer than live_after_s (0.1 s)
    call = asyncio.create_task(service.execute(CHAIN, RunRequest(inputs={}), history="summary", durable=True))
    await asyncio.sleep(0.4)
    assert not call.done()
    assert service.active_run_ids == ()  # ended: only the recorder holds it, the sweeper leaves it alone
    store.gate.set()
    result = await asyncio.wait_for(call, 5)  # a second insert (going live) would be a ConflictError here
    assert (await store.get_run(result.run_id)).status == "succeeded"
