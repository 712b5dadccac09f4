"""``RunOptions.defer_node_events``: node events of successful nodes are built only when somebody needs them.

Whatever happens, the events a deferring run publishes are the ones a plain run publishes: same types, same
nodes, gap-free seqs in order. A run that succeeds quietly publishes only ``run_started`` and ``run_finished``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.records.events import NodeFailed, NodeOutput, NodeStarted, NodeSucceeded, RunFinished, RunStarted
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import Boom, Echo, Join, Sleep, Source, build_graph

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event

pytestmark = pytest.mark.timeout(30)

CHAIN = build_graph(
    [("src", Source, {"value": "hi"}), ("a", Echo), ("b", Echo)], ["src.value -> a.value", "a.value -> b.value"]
)


@pytest.fixture
def executor() -> Executor:
    return Executor(MemoryEventBus(MemoryRunStore()))


def _shape(events: list[Event]) -> list[tuple[Any, ...]]:
    """What must match between a deferring run and a plain one (not timestamps or durations)."""
    shape: list[tuple[Any, ...]] = []
    for event in events:
        node = getattr(event, "node_id", None)
        extra = (event.port, event.preview) if isinstance(event, NodeOutput) else ()
        shape.append((type(event).__name__, event.seq, node, *extra))
    return shape


async def _run(executor: Executor, graph: CompiledGraph, *, defer: bool) -> list[Event]:
    events: list[Event] = []
    handle = executor.open(graph, options=RunOptions(defer_node_events=defer), publish=events.append)
    handle.attach(asyncio.current_task())  # type: ignore[arg-type]
    await handle.execute()
    return events


async def test_a_quiet_success_publishes_only_its_start_and_end(executor: Executor) -> None:
    plain = await _run(executor, CHAIN, defer=False)
    quiet = await _run(executor, CHAIN, defer=True)
    assert [type(e) for e in quiet] == [RunStarted, RunFinished]
    assert quiet[-1].seq == plain[-1].seq  # the node events' seqs were reserved all the same
    assert isinstance(quiet[-1], RunFinished)
    assert quiet[-1].status == "succeeded"
    assert quiet[-1].outputs == plain[-1].outputs  # type: ignore[union-attr]


async def test_a_failure_publishes_the_deferred_events_first_as_a_plain_run_would(executor: Executor) -> None:
    graph = build_graph(
        [("src", Source, {"value": "x"}), ("a", Echo), ("boom", Boom), ("j", Join)],
        ["src.value -> a.value", "a.value -> j.a", "boom.value -> j.b"],
    )
    plain = await _run(executor, graph, defer=False)
    quiet = await _run(executor, graph, defer=True)
    assert any(isinstance(e, NodeFailed) for e in quiet)
    assert [e.seq for e in quiet] == list(range(1, len(quiet) + 1))
    assert sorted(_shape(quiet)) == sorted(_shape(plain))


async def test_materialize_mid_run_gives_the_events_so_far_then_each_as_it_comes(executor: Executor) -> None:
    graph = build_graph(
        [("src", Source, {"value": 1}), ("a", Echo), ("slow", Sleep, {"seconds": 0.2}), ("b", Echo)],
        ["src.value -> a.value", "a.value -> slow.value", "slow.value -> b.value"],
    )
    events: list[Event] = []
    handle = executor.open(graph, options=RunOptions(defer_node_events=True), publish=events.append)
    run = asyncio.create_task(handle.execute())
    handle.attach(run)
    await asyncio.sleep(0.1)
    assert [type(e) for e in events] == [RunStarted]
    handle.materialize()  # what going live or reading the events of a running call does
    so_far = [(type(e), getattr(e, "node_id", None)) for e in events]
    assert (NodeSucceeded, "a") in so_far
    assert (NodeStarted, "slow") in so_far
    assert (await run).status == "succeeded"
    assert _shape(events) == _shape(await _run(executor, graph, defer=False))


async def test_going_live_before_the_run_starts_defers_nothing(executor: Executor) -> None:
    events: list[Event] = []
    handle = executor.open(CHAIN, options=RunOptions(defer_node_events=True))
    handle.redirect(events.append)
    handle.attach(asyncio.current_task())  # type: ignore[arg-type]
    await handle.execute()
    assert _shape(events) == _shape(await _run(executor, CHAIN, defer=False))
