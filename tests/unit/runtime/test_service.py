"""``RunService`` on the memory stores: recording, cancel, orphan recovery, partial re-runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import pytest

from rivulet.compiler.flow import FlowDocument, Variable
from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.records.events import NodeSucceeded, RunFinished
from rivulet.records.runs import RunQuery, RunRecord
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.service import RunRequest, RunService, RunServiceConfig
from rivulet.storage.memory import MemoryFlowStore, MemoryRunStore
from tests.unit.runtime.fakes import Counted, ReadInput, SleepSource, Source, build_graph

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from rivulet.compiler.graph import CompiledGraph

pytestmark = pytest.mark.timeout(60)

GRAPHS: dict[str, CompiledGraph] = {}


def compile_graph(document: FlowDocument) -> CompiledGraph:
    return msgspec.structs.replace(GRAPHS[document.name], flow_id=document.id, flow_version=document.version)


@pytest.fixture
async def service() -> AsyncIterator[RunService]:
    runs = MemoryRunStore()
    bus = MemoryEventBus(runs)
    svc = RunService(
        flows=MemoryFlowStore(),
        runs=runs,
        bus=bus,
        executor=Executor(bus, cache=NodeCache()),
        compile_graph=compile_graph,
        config=RunServiceConfig(stale_after_s=0),
    )
    await svc.start()
    yield svc
    await svc.close()


async def make_flow(service: RunService, name: str, graph: CompiledGraph) -> str:
    GRAPHS[name] = graph
    record = await service.flows.create(FlowDocument(name=name))
    return record.summary.id


async def test_a_run_is_recorded_with_nodes_events_and_outputs(service: RunService) -> None:
    graph = build_graph([("in", ReadInput, {"name": "q"}), ("c", Counted, {"value": 1})], ["in.value -> c.value"])
    flow_id = await make_flow(service, "basic", graph)
    record = await service.start_flow_run(flow_id, RunRequest(inputs={"q": "hello"}))
    assert record.status == "running"
    assert record.owner == service.owner
    result = await service.wait(record.id)
    assert result.status == "succeeded"
    detail = await service.get(record.id)
    assert detail.run.status == "succeeded"
    assert detail.run.outputs == {"c": ["hello", 1]}
    assert detail.run.inputs == {"q": "hello"}
    assert detail.run.finished_at is not None
    assert {n.node_id: n.status for n in detail.nodes} == {"in": "succeeded", "c": "succeeded"}
    events = await service.events(record.id)
    assert detail.last_seq == events[-1].seq == len(events)
    assert isinstance(events[-1], RunFinished)
    assert [e.seq for e in await service.events(record.id, after_seq=3)] == list(range(4, len(events) + 1))
    assert [r.id for r in await service.list(RunQuery(flow_id=flow_id))] == [record.id]
    assert await service.list(RunQuery(status="failed")) == []


async def test_unknown_flow_and_run_are_not_found(service: RunService) -> None:
    with pytest.raises(NotFoundError):
        await service.start_flow_run("nope", RunRequest(inputs={}))
    with pytest.raises(NotFoundError):
        await service.get("nope")
    with pytest.raises(NotFoundError):
        await service.subscribe("nope")


async def test_cancel_an_active_run_and_refuse_a_finished_one(service: RunService) -> None:
    flow_id = await make_flow(service, "slow", build_graph([("s", SleepSource, {"seconds": 30})], []))
    record = await service.start_flow_run(flow_id, RunRequest(inputs={}))
    await asyncio.sleep(0.02)
    live = await service.get(record.id)
    assert [n.status for n in live.nodes] == ["running"]
    await service.cancel(record.id)
    result = await service.wait(record.id)
    assert result.status == "cancelled"
    assert (await service.get(record.id)).run.status == "cancelled"
    with pytest.raises(ConflictError, match="already ended"):
        await service.cancel(record.id)


async def test_orphaned_runs_become_interrupted_and_keep_their_events() -> None:
    runs = MemoryRunStore()
    await runs.create_run(
        RunRecord(id="old", flow_id="f", flow_version=1, status="running", trigger="api", owner="dead:1",
                  created_at=datetime.now(UTC))
    )  # fmt: skip
    bus = MemoryEventBus(runs)
    from rivulet.records.events import RunStarted

    bus.publish(RunStarted(run_id="old", seq=1, ts=0.0, flow_id="f", flow_version=1))
    await bus.flush()
    service = RunService(
        flows=MemoryFlowStore(), runs=runs, bus=bus, executor=Executor(bus), compile_graph=compile_graph,
        config=RunServiceConfig(stale_after_s=0),
    )  # fmt: skip
    assert await service.start() == ["old"]
    run = await runs.get_run("old")
    assert run.status == "interrupted"
    assert run.error is not None
    assert run.error.code == "interrupted"
    events = await runs.list_events("old")
    assert [e.seq for e in events] == [1, 2]
    assert isinstance(events[-1], RunFinished)
    assert events[-1].status == "interrupted"
    # a subscriber to an interrupted run gets the replay and an end
    assert [e.seq async for e in await service.subscribe("old")] == [1, 2]
    await service.close()


async def test_partial_rerun_from_node_reuses_the_latest_run(service: RunService) -> None:
    graph = build_graph(
        [("src", Source, {"value": 5}), ("c1", Counted, {"value": 1}), ("c2", Counted, {"value": 2})],
        ["src.value -> c1.value", "c1.value -> c2.value"],
    )
    flow_id = await make_flow(service, "partial", graph)
    Counted.calls.clear()
    first = await service.start_flow_run(flow_id, RunRequest(inputs={}))
    await service.wait(first.id)
    second = await service.start_flow_run(flow_id, RunRequest(inputs={}, from_node="c2"))
    result = await service.wait(second.id)
    assert second.reuse_from == first.id
    assert Counted.calls == ["c1", "c2", "c2"]
    events = await service.events(second.id)
    cached = {e.node_id for e in events if isinstance(e, NodeSucceeded) and e.cached}
    assert cached == {"src", "c1"}
    assert result.outputs == {"c2": [[5, 1], 2]}
    with pytest.raises(ValidationError, match="from_node"):
        await service.start_flow_run(flow_id, RunRequest(inputs={}, from_node="ghost"))
    with pytest.raises(ValidationError) as info:
        await service.start_flow_run(flow_id, RunRequest(inputs={}, only_nodes=["c1", "ghost"]))
    assert info.value.extra["errors"][0]["path"] == "$.only_nodes[1]"


async def test_required_variables_are_checked_before_the_run_is_recorded(service: RunService) -> None:
    graph = msgspec.structs.replace(
        build_graph([("src", Source, {"value": 1})], []),
        variables=(Variable(name="region", required=True), Variable(name="key", type="secret")),
    )
    flow_id = await make_flow(service, "vars", graph)
    with pytest.raises(ValidationError, match=r"\$\.variables\.region"):
        await service.start_flow_run(flow_id, RunRequest(inputs={}))
    with pytest.raises(ValidationError, match="secret store"):
        await service.start_flow_run(flow_id, RunRequest(inputs={}, variables={"region": "eu", "key": "x"}))
    assert await service.list(RunQuery(flow_id=flow_id)) == []
    record = await service.start_flow_run(flow_id, RunRequest(inputs={}, variables={"region": "eu"}))
    assert (await service.wait(record.id)).status == "succeeded"


async def test_close_interrupts_active_runs(service: RunService) -> None:
    flow_id = await make_flow(service, "long", build_graph([("s", SleepSource, {"seconds": 30})], []))
    record = await service.start_flow_run(flow_id, RunRequest(inputs={}))
    await asyncio.sleep(0.02)
    await service.close()
    assert (await service.runs.get_run(record.id)).status == "interrupted"
    await service.bus.start()


async def test_wait_after_a_quick_run_has_ended_returns_its_result(service: RunService) -> None:
    graph = build_graph([("in", ReadInput, {"name": "q"}), ("c", Counted, {"value": 1})], ["in.value -> c.value"])
    flow_id = await make_flow(service, "quick", graph)
    record = await service.start_flow_run(flow_id, RunRequest(inputs={"q": "hi"}))
    while record.id in service.active_run_ids:  # the run ends and leaves the active set before anyone waits
        await asyncio.sleep(0.01)
    result = await asyncio.wait_for(service.wait(record.id), 5)
    assert result.status == "succeeded"
    assert result.run_id == record.id
