"""A node task continues with the node its outputs make ready: chains run in one task, fan-outs still overlap."""

from __future__ import annotations

import asyncio

import pytest

from rivulet.runtime import _nodes
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import Sleep, Source, WhichTask, build_graph, chain

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def executor() -> Executor:
    return Executor(MemoryEventBus(MemoryRunStore()))


async def test_a_chain_runs_in_one_node_task(executor: Executor) -> None:
    WhichTask.log.clear()
    graph = build_graph(
        [("src", Source, {"value": 7}), ("a", WhichTask), ("b", WhichTask), ("c", WhichTask)],
        ["src.value -> a.value", "a.value -> b.value", "b.value -> c.value"],
    )
    result = await executor.run(graph)
    assert result.status == "succeeded"
    assert result.node_outputs("c") == {"value": 7}
    tasks = set(WhichTask.log.values())
    assert len(tasks) == 1
    assert None not in tasks


async def test_a_fan_out_gives_every_branch_but_one_its_own_task_and_they_overlap(executor: Executor) -> None:
    Sleep.log.clear()
    graph = build_graph(
        [("src", Source, {"value": 1}), ("s1", Sleep, {"seconds": 0.2}), ("s2", Sleep, {"seconds": 0.2})],
        ["src.value -> s1.value", "src.value -> s2.value"],
    )
    result = await executor.run(graph)
    assert result.status == "succeeded"
    starts = {node: at for node, what, at in Sleep.log if what == "start"}
    ends = {node: at for node, what, at in Sleep.log if what == "end"}
    assert set(starts) == {"s1", "s2"}
    assert max(starts.values()) < min(ends.values())  # both were running at once


async def test_cancelling_a_chain_stops_the_node_running_and_runs_nothing_after_it(executor: Executor) -> None:
    Sleep.log.clear()
    WhichTask.log.clear()
    graph = build_graph(
        [("src", Source, {"value": 1}), ("slow", Sleep, {"seconds": 30}), ("after", WhichTask)],
        ["src.value -> slow.value", "slow.value -> after.value"],
    )
    handle = executor.start(graph)
    while not any(what == "start" for _, what, _ in Sleep.log):
        await asyncio.sleep(0.01)
    assert handle.cancel("stop")
    result = await handle.result()
    assert result.status == "cancelled"
    assert result.nodes["slow"].status == "cancelled"
    assert "after" not in result.nodes
    assert WhichTask.log == {}


async def test_a_long_chain_of_quick_nodes_lets_other_tasks_run(executor: Executor) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    background = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    result = await executor.run(chain(_nodes._YIELD_EVERY * 4), options=RunOptions())
    background.cancel()
    assert result.status == "succeeded"
    assert ticks - before >= 3  # the chain yielded to the loop at least once per _YIELD_EVERY nodes


async def test_a_finished_run_is_freed_without_the_cycle_collector(executor: Executor) -> None:
    # a run left in a reference cycle is only freed by a full GC pass: on a busy endpoint that is most of the
    # cycle collector's work (its state, values and events all wait for it)
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        handle = executor.start(chain(4))
        assert (await handle.result()).status == "succeeded"
        state = weakref.ref(handle._state)  # pyright: ignore[reportPrivateUsage]
        del handle
        await asyncio.sleep(0)
        assert state() is None
    finally:
        gc.enable()
