"""A node task continues with the node its outputs make ready: chains run in one task, fan-outs still overlap."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

import pytest

from rivulet.compiler.flow import NodePolicy
from rivulet.runtime import _nodes
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.sdk import NoParams, Operator, RunContext
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import (
    Echo,
    IntIn,
    IntOut,
    NodeSpec,
    Sleep,
    Source,
    WhichTask,
    build_graph,
    chain,
    spec,
)

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph

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


class SeeTicks(Operator[NoParams, IntIn, IntOut]):
    """``AddOne`` that notes how often the background ticker has run so far (``TICKS``) when it runs."""

    spec = spec("test.see_ticks")
    inputs_type, outputs_type = IntIn, IntOut
    seen: ClassVar[list[int]] = []

    async def run(self, ctx: RunContext, params: NoParams, inputs: IntIn) -> IntOut:
        SeeTicks.seen.append(TICKS[0])
        return IntOut(value=inputs.value + 1)


TICKS = [0]


def _ticking_chain(length: int, *, retry_every: int | None = None) -> CompiledGraph:
    """``Source`` then ``SeeTicks`` nodes; every ``retry_every``-th one may retry (not plain: a quiet run goes in
    and out of its tight loop there)."""
    nodes: list[NodeSpec] = [("n0", Source, {"value": 0}), *((f"n{i}", SeeTicks) for i in range(1, length))]
    edges = [f"n{i - 1}.value -> n{i}.value" for i in range(1, length)]
    retrying = range(retry_every, length, retry_every) if retry_every else ()
    return build_graph(nodes, edges, policies={f"n{i}": NodePolicy(retries=1) for i in retrying})


@pytest.mark.parametrize(
    ("retry_every", "quiet"),
    [(None, False), (None, True), (16, True)],
    ids=["eager", "quiet", "quiet, in and out of the tight loop"],
)
async def test_a_long_chain_of_quick_nodes_lets_other_tasks_run(
    executor: Executor, retry_every: int | None, quiet: bool
) -> None:
    length = _nodes._YIELD_EVERY * 4  # pyright: ignore[reportPrivateUsage]

    async def ticker() -> None:
        while True:
            TICKS[0] += 1
            await asyncio.sleep(0)

    SeeTicks.seen.clear()
    background = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    result = await executor.run(
        _ticking_chain(length, retry_every=retry_every), options=RunOptions(defer_node_events=quiet)
    )
    background.cancel()
    assert result.status == "succeeded"
    assert len(SeeTicks.seen) == length - 1
    # the ticker ran between the chain's nodes at least once per _YIELD_EVERY nodes (without yielding, every node
    # would see the same count)
    assert len(set(SeeTicks.seen)) >= length // _nodes._YIELD_EVERY  # pyright: ignore[reportPrivateUsage]


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


@pytest.mark.parametrize("first", ["runs", "cached"])
async def test_a_node_served_from_the_cache_while_deciding_keeps_the_hand_off_of_the_deciding_task(
    first: str,
) -> None:
    """``src`` makes two nodes ready at once: one runs (handed to the deciding task), one is served from the
    cache (it succeeds in the middle of the decisions, and must not take or drop that hand-off)."""
    executor = Executor(MemoryEventBus(MemoryRunStore()), cache=NodeCache())
    targets = ["runs", "cached"] if first == "runs" else ["cached", "runs"]
    graph = build_graph(
        [("src", Source, {"value": 1}), ("runs", Echo), ("cached", Echo)],
        [f"src.value -> {target}.value" for target in targets],
        policies={"src": NodePolicy(cache=False), "runs": NodePolicy(cache=False)},
    )
    options = RunOptions(use_cache=True)
    await executor.run(graph, options=options)
    again = await executor.run(graph, options=options)
    assert again.status == "succeeded"
    assert {node_id: state.cached for node_id, state in again.nodes.items()} == {
        "src": False,
        "runs": False,
        "cached": True,
    }
