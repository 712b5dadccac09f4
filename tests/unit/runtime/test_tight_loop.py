"""The tight loop of quiet runs (``_nodes._run_plain``): plain nodes of a chain run with less machinery.

Whatever the graph does (fail, skip, branch, report progress, defer an output, fan out, retry, get cancelled),
a quiet run must end exactly as a plain run of the same graph: same status, outputs, node states and, once its
events are built, the same events with the same seqs.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from rivulet.compiler.flow import NodePolicy
from rivulet.runtime import _nodes
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.sdk import NoParams, Operator, RunContext
from rivulet.sdk.operator import Deferred
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import (
    AddOne,
    Branch,
    Echo,
    Join,
    ReadInput,
    Sleep,
    Source,
    ValueIn,
    ValueOut,
    build_graph,
    chain,
    spec,
)

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event
    from rivulet.runtime.executor import RunResult

pytestmark = pytest.mark.timeout(30)


class Fail(Operator[NoParams, ValueIn, ValueOut]):
    spec = spec("test.fail")
    inputs_type, outputs_type = ValueIn, ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: ValueIn) -> ValueOut:
        raise ValueError(f"cannot take {inputs.value!r}")


class Later(Operator[NoParams, ValueIn, ValueOut]):
    """Its output is a ``Deferred`` (resolved before it is delivered)."""

    spec = spec("test.later")
    inputs_type, outputs_type = ValueIn, ValueOut

    @classmethod
    def output_values(cls, outputs: Any) -> dict[str, Any]:
        value = outputs.value

        async def resolve() -> Any:
            await asyncio.sleep(0)
            return [value, "late"]

        return {"value": Deferred(resolve())}

    async def run(self, ctx: RunContext, params: NoParams, inputs: ValueIn) -> ValueOut:
        return ValueOut(value=inputs.value)


class Reporting(Operator[NoParams, ValueIn, ValueOut]):
    """Reports progress (an event that wakes a quiet run) in the middle of a chain."""

    spec = spec("test.reporting")
    inputs_type, outputs_type = ValueIn, ValueOut

    async def run(self, ctx: RunContext, params: NoParams, inputs: ValueIn) -> ValueOut:
        await ctx.progress(1, 1)
        return ValueOut(value=inputs.value)


def _line(*ops: tuple[Any, ...], **kw: Any) -> CompiledGraph:
    nodes: list[Any] = [("src", Source, {"value": 1}), *ops]
    names = ["src", *(op[0] for op in ops)]
    edges = [f"{a}.value -> {b}.value" for a, b in itertools.pairwise(names)]
    return build_graph(nodes, edges, **kw)


GRAPHS: dict[str, CompiledGraph] = {
    "chain": chain(6),
    "failure mid-chain": _line(("a", Echo), ("f", Fail), ("b", Echo)),
    "failure continued": _line(("a", Echo), ("f", Fail), ("b", Echo), policies={"f": NodePolicy(on_error="continue")}),
    "failure routed": build_graph(
        [("src", Source, {"value": 1}), ("f", Fail), ("h", Echo)],
        ["src.value -> f.value", "f.error -> h.value"],
        policies={"f": NodePolicy(on_error="route")},
    ),
    "disabled node": _line(("a", Echo), ("off", Echo), ("b", Echo), disabled=frozenset({"off"})),
    "untaken branch": build_graph(
        [("src", Source, {"value": 1}), ("br", Branch, {"take": "b"}), ("a", Echo), ("after", Echo)],
        ["src.value -> br.value", "br.a -> a.value", "a.value -> after.value"],
    ),
    "progress mid-chain": _line(("a", Echo), ("p", Reporting), ("b", Echo)),
    "progress at the root": build_graph(
        [("r", ReadInput, {"name": "x"}), ("a", Echo), ("b", Echo)], ["r.value -> a.value", "a.value -> b.value"]
    ),
    "deferred output": _line(("a", Echo), ("late", Later), ("b", Echo)),
    "fan-out and join": build_graph(
        [("src", Source, {"value": 1}), ("a", AddOne), ("b", AddOne), ("j", Join), ("c", AddOne)],
        ["src.value -> a.value", "src.value -> b.value", "a.value -> j.a", "b.value -> j.b", "j.value -> c.value"],
    ),
    "retrying node": _line(("a", Echo), ("r", Echo), ("b", Echo), policies={"r": NodePolicy(retries=2)}),
    "timed node": _line(("a", Echo), ("t", Echo), ("b", Echo), policies={"t": NodePolicy(timeout_s=5)}),
    "sleeping node": _line(("a", Echo), ("s", Sleep), ("b", Echo)),
}


def _shape(events: list[Event]) -> list[tuple[Any, ...]]:
    """What must match between a quiet run and a plain one: the events, each with its fields (not timestamps
    or durations), in any order (a quiet node's ``node_succeeded`` may come before the events its outputs
    caused), under seqs that run 1, 2, 3, ... without a gap."""
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    shape: list[tuple[Any, ...]] = []
    for event in events:
        body = msgspec.to_builtins(event)
        for volatile in ("ts", "duration_ms", "run_id", "seq"):
            body.pop(volatile, None)
        shape.append((type(event).__name__, repr(sorted(body.items()))))
    return sorted(shape)


def _states(result: RunResult) -> dict[str, tuple[Any, ...]]:
    return {
        node_id: (state.status, state.attempts, state.inputs, state.outputs, state.error)
        for node_id, state in result.nodes.items()
    }


async def _run(graph: CompiledGraph, *, quiet: bool, executor: Executor) -> tuple[RunResult, list[Event]]:
    events: list[Event] = []
    options = RunOptions(inputs={"x": 1}, defer_node_events=quiet)
    handle = executor.open(graph, options=options, publish=events.append)
    handle.attach(asyncio.current_task())  # type: ignore[arg-type]
    result = await handle.execute()
    handle.materialize()  # a no-op for a run that ended quietly; the events are built from the states below
    return result, events


@pytest.fixture
def executor() -> Executor:
    return Executor(MemoryEventBus(MemoryRunStore()), cache=NodeCache())


@pytest.fixture
def entered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The node ids the tight loop is entered at, in order."""
    nodes: list[str] = []
    original = _nodes._run_plain  # pyright: ignore[reportPrivateUsage]

    async def spy(run: Any, node: Any, state: Any, turns: int) -> Any:
        nodes.append(node.node.id)
        return await original(run, node, state, turns)

    monkeypatch.setattr(_nodes, "_run_plain", spy)
    return nodes


@pytest.mark.parametrize("name", list(GRAPHS))
async def test_a_quiet_run_ends_as_a_plain_run(name: str, executor: Executor) -> None:
    graph = GRAPHS[name]
    plain, plain_events = await _run(graph, quiet=False, executor=executor)
    quiet, quiet_events = await _run(graph, quiet=True, executor=executor)
    assert (quiet.status, quiet.outputs, quiet.error) == (plain.status, plain.outputs, plain.error)
    assert _states(quiet) == _states(plain)
    assert quiet_events[-1].seq == plain_events[-1].seq  # every node event's seq was reserved all the same
    if len(quiet_events) > 2:  # something woke the run: it published what a plain run publishes
        assert _shape(quiet_events) == _shape(plain_events)


async def test_the_events_of_a_quiet_chain_built_on_demand_are_those_of_a_plain_run(executor: Executor) -> None:
    graph = _line(("a", AddOne), ("b", AddOne), ("c", AddOne), ("s", Sleep, {"seconds": 0.1}))
    _, plain_events = await _run(graph, quiet=False, executor=executor)
    events: list[Event] = []
    handle = executor.open(graph, options=RunOptions(defer_node_events=True), publish=events.append)
    task = asyncio.create_task(handle.execute())
    handle.attach(task)
    await asyncio.sleep(0.05)  # the chain ran in the tight loop up to the sleeping node: nothing published yet
    assert len(events) == 1
    handle.materialize()  # what reading the events of a running call does
    await task
    assert _shape(events) == _shape(plain_events)


async def test_a_chain_of_plain_nodes_runs_in_the_tight_loop(executor: Executor, entered: list[str]) -> None:
    result, _ = await _run(GRAPHS["chain"], quiet=True, executor=executor)
    assert result.outputs == {"n5": 5}
    assert entered == ["n0"]  # entered once, at the root: the rest of the chain ran inside it
    entered.clear()
    await _run(GRAPHS["retrying node"], quiet=True, executor=executor)
    assert entered == ["src", "b"]  # left for the node with retries, entered again after it
    entered.clear()
    await _run(GRAPHS["chain"], quiet=False, executor=executor)
    assert entered == []  # a run that publishes as it goes takes the ordinary path


async def test_cancelling_a_quiet_chain_stops_it_where_a_plain_run_stops(executor: Executor) -> None:
    graph = _line(("a", Echo), ("s", Sleep), ("b", Echo))
    outcomes: list[dict[str, str]] = []
    for quiet in (False, True):
        handle = executor.open(graph, options=RunOptions(defer_node_events=quiet), publish=lambda _: None)
        task = asyncio.create_task(handle.execute())
        handle.attach(task)
        await asyncio.sleep(0.05)
        assert handle.cancel("stop")
        result = await task
        assert result.status == "cancelled"
        outcomes.append({node_id: state.status for node_id, state in result.nodes.items()})
    assert outcomes[0] == outcomes[1] == {"src": "succeeded", "a": "succeeded", "s": "cancelled"}


async def test_runs_that_use_the_cache_take_the_ordinary_path(executor: Executor, entered: list[str]) -> None:
    first = await executor.run(GRAPHS["chain"], options=RunOptions(defer_node_events=True, use_cache=True))
    again = await executor.run(GRAPHS["chain"], options=RunOptions(defer_node_events=True, use_cache=True))
    assert entered == []
    assert first.outputs == again.outputs == {"n5": 5}
    assert all(state.cached for state in again.nodes.values())
