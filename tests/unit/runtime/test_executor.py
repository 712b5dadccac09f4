"""The scheduler: ordering, overlap, branches and skips, streams, collect, outputs and events."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from rivulet.records.events import (
    Event,
    NodeChunk,
    NodeOutput,
    NodeProgress,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
)
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import (
    AddOne,
    Branch,
    Count,
    CpuBound,
    Echo,
    Join,
    Limited,
    Output,
    ReadInput,
    ReadStream,
    Sleep,
    SleepSource,
    Source,
    Tokens,
    Upper,
    build_graph,
    chain,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def bus() -> MemoryEventBus:
    return MemoryEventBus(MemoryRunStore())


async def events_of(bus: MemoryEventBus, run_id: str) -> list[Event]:
    await bus.flush()
    return await bus.read(run_id)


async def test_chain_runs_in_order_and_events_are_gap_free(bus: MemoryEventBus) -> None:
    result = await Executor(bus).run(chain(5), run_id="r1")
    assert result.status == "succeeded"
    assert result.outputs == {"n4": 4}
    events = await events_of(bus, "r1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert isinstance(events[0], RunStarted)
    assert events[0].node_ids == ("n0", "n1", "n2", "n3", "n4")
    assert isinstance(events[-1], RunFinished)
    assert events[-1].status == "succeeded"
    assert events[-1].outputs == {"n4": 4}
    started = [e.node_id for e in events if isinstance(e, NodeStarted)]
    assert started == ["n0", "n1", "n2", "n3", "n4"]
    outputs = [(e.node_id, e.preview) for e in events if isinstance(e, NodeOutput)]
    assert outputs == [("n0", 0), ("n1", 1), ("n2", 2), ("n3", 3), ("n4", 4)]
    succeeded = [e for e in events if isinstance(e, NodeSucceeded)]
    assert len(succeeded) == 5
    assert all(not e.cached and e.duration_ms >= 0 for e in succeeded)


async def test_ten_thousand_node_chain_runs_without_recursion(bus: MemoryEventBus) -> None:
    result = await Executor(bus).run(chain(10_000))
    assert result.status == "succeeded"
    assert result.outputs == {"n9999": 9999}


async def test_independent_branches_overlap(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": 1})] + [(f"s{i}", Sleep, {"seconds": 0.1}) for i in range(20)] + [("out", Output)],
        [f"src.value -> s{i}.value" for i in range(20)] + ["s0.value -> out.value"],
        output_nodes=("out",),
    )
    began = time.perf_counter()
    result = await Executor(bus).run(graph)
    assert result.status == "succeeded"
    assert time.perf_counter() - began < 1.0  # sequential would take 2 s
    assert result.outputs == {"out": 1}


async def test_a_node_starts_as_soon_as_its_own_inputs_are_ready(bus: MemoryEventBus) -> None:
    Sleep.log.clear()
    graph = build_graph(
        [("fast", SleepSource, {"seconds": 0.01}), ("slow", SleepSource, {"seconds": 0.3}),
         ("after_fast", Sleep, {"seconds": 0.0}), ("after_slow", Sleep, {"seconds": 0.0})],
        ["fast.value -> after_fast.value", "slow.value -> after_slow.value"],
    )  # fmt: skip
    began = time.perf_counter()
    await Executor(bus).run(graph)
    start_fast = next(t for node, what, t in Sleep.log if node == "after_fast" and what == "start")
    assert start_fast - began < 0.2


async def test_fan_out_delivers_one_value_to_every_consumer(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": 41})] + [(f"c{i}", AddOne) for i in range(50)],
        [f"src.value -> c{i}.value" for i in range(50)],
    )
    result = await Executor(bus).run(graph)
    assert result.outputs == {f"c{i}": 42 for i in range(50)}


async def test_untaken_branch_is_skipped_transitively_and_join_runs(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": "x"}), ("br", Branch, {"take": "b"}), ("a1", Echo), ("a2", Echo),
         ("b1", Echo), ("join", Join), ("out", Output)],
        ["src.value -> br.value", "br.a -> a1.value", "a1.value -> a2.value", "br.b -> b1.value",
         "a2.value -> join.a", "b1.value -> join.b", "join.value -> out.value"],
        output_nodes=("out",),
    )  # fmt: skip
    result = await Executor(bus).run(graph, run_id="br")
    assert result.status == "succeeded"
    assert result.outputs == {"out": "x"}
    events = await events_of(bus, "br")
    skipped = {e.node_id: e.reason for e in events if isinstance(e, NodeSkipped)}
    assert skipped == {"a1": "required input 'value' was not produced", "a2": "required input 'value' was not produced"}
    assert result.nodes["join"].status == "succeeded"


async def test_join_with_nothing_produced_is_skipped(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": 1}), ("br", Branch, {"take": "a"}), ("b1", Echo), ("join", Join)],
        ["src.value -> br.value", "br.b -> b1.value", "b1.value -> join.b"],
    )
    result = await Executor(bus).run(graph)
    assert result.nodes["join"].status == "skipped"


async def test_disabled_node_and_its_dependents_are_skipped(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": 1}), ("mid", AddOne), ("end", AddOne)],
        ["src.value -> mid.value", "mid.value -> end.value"],
        disabled=frozenset({"mid"}),
    )
    result = await Executor(bus).run(graph)
    assert result.nodes["mid"].status == "skipped"
    assert result.nodes["end"].status == "skipped"
    assert result.status == "succeeded"


async def test_stream_fans_out_to_two_consumers_without_loss(bus: MemoryEventBus) -> None:
    tokens = [f"t{i}" for i in range(30)]
    graph = build_graph(
        [("llm", Tokens, {"tokens": tokens, "delay": 0.002}), ("r1", ReadStream), ("r2", ReadStream)],
        ["llm.tokens -> r1.tokens", "llm.tokens -> r2.tokens"],
    )
    ReadStream.first_item_at.clear()
    result = await Executor(bus).run(graph, run_id="st")
    assert result.status == "succeeded"
    assert result.outputs == {"r1": "|".join(tokens), "r2": "|".join(tokens)}
    # stream-aware consumers started while the producer was still streaming
    assert ReadStream.first_item_at["r1"] < Tokens.finished_at
    assert ReadStream.first_item_at["r2"] < Tokens.finished_at
    events = await events_of(bus, "st")
    chunks = [e for e in events if isinstance(e, NodeChunk)]
    assert [c.data for c in chunks] == tokens
    assert [c.index for c in chunks] == list(range(30))
    output = next(e for e in events if isinstance(e, NodeOutput) and e.node_id == "llm")
    assert output.preview == "".join(tokens)


async def test_collect_coercion_joins_text_and_gathers_lists(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("llm", Tokens, {"tokens": ["he", "llo"]}), ("up", Upper), ("n", Count)],
        ["llm.tokens -> up.text", "llm.tokens -> n.items"],
    )
    assert graph.edges["e0"].coercion == "collect"
    result = await Executor(bus).run(graph)
    assert result.outputs == {"up": "HELLO", "n": 2}


async def test_failing_stream_fails_its_node_and_its_readers(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("llm", Tokens, {"tokens": ["a", "b", "c"], "fail_after": 2}), ("r", ReadStream)],
        ["llm.tokens -> r.tokens"],
    )
    result = await Executor(bus).run(graph)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.node_id in {"llm", "r"}
    assert result.nodes["llm"].status in {"failed", "cancelled"}


async def test_run_inputs_and_progress_reach_the_operator(bus: MemoryEventBus) -> None:
    graph = build_graph([("in", ReadInput, {"name": "question"})], [])
    result = await Executor(bus).run(graph, run_id="in", options=RunOptions(inputs={"question": "why?"}))
    assert result.outputs == {"question": "why?"}  # keyed by the node's ``name`` param
    progress = [e for e in await events_of(bus, "in") if isinstance(e, NodeProgress)]
    assert [(p.node_id, p.value, p.max) for p in progress] == [("in", 1, 2)]


async def test_cpu_bound_operator_runs_off_the_event_loop(bus: MemoryEventBus) -> None:
    graph = build_graph([("cpu", CpuBound, {"n": 1000})], [])
    result = await Executor(bus).run(graph, run_id="cpu")
    assert result.outputs == {"cpu": [sum(range(1000)), False]}
    await asyncio.sleep(0.01)  # progress from the worker thread arrives through call_soon_threadsafe
    events = await events_of(bus, "cpu")
    assert any(isinstance(e, NodeProgress) for e in events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_operator_concurrency_limit_is_enforced(bus: MemoryEventBus) -> None:
    Limited.peak = 0
    graph = build_graph([(f"l{i}", Limited, {"seconds": 0.02}) for i in range(8)], [])
    result = await Executor(bus).run(graph)
    assert result.status == "succeeded"
    assert Limited.peak == 2


async def test_node_records_have_bounded_previews(bus: MemoryEventBus) -> None:
    graph = build_graph([("src", Source, {"value": "x" * 100_000}), ("e", Echo)], ["src.value -> e.value"])
    result = await Executor(bus).run(graph)
    records = {r.node_id: r for r in result.node_records()}
    assert records["e"].status == "succeeded"
    assert records["e"].attempts == 1
    assert len(records["e"].inputs_preview["value"]) <= 2049
    assert records["e"].duration_ms is not None


async def test_concurrent_runs_keep_separate_sequences(bus: MemoryEventBus) -> None:
    executor = Executor(bus)
    graph = chain(20)
    results = await asyncio.gather(*(executor.run(graph, run_id=f"c{i}") for i in range(30)))
    assert all(r.status == "succeeded" for r in results)
    for i in range(30):
        events = await events_of(bus, f"c{i}")
        assert [e.seq for e in events] == list(range(1, len(events) + 1))


def _value(events: list[Event], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
