"""The content-addressed node cache and partial re-runs."""

from __future__ import annotations

import pytest

from rivulet.compiler.flow import NodePolicy
from rivulet.runtime.cache import NodeCache, node_key, run_key
from rivulet.runtime.events import Event, NodeStarted, NodeSucceeded
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import Counted, Flaky, Source, build_graph

pytestmark = pytest.mark.timeout(60)


def test_lru_eviction_keeps_the_total_size_bounded() -> None:
    cache = NodeCache(max_bytes=1000)
    for i in range(20):
        assert cache.put(f"k{i}", {"value": "x" * 100})
    assert cache.size_bytes <= 1000
    assert cache.get("k0") is None
    assert cache.get("k19") == {"value": "x" * 100}


def test_recently_used_entries_survive_eviction() -> None:
    cache = NodeCache(max_bytes=700)
    for i in range(4):
        cache.put(f"k{i}", {"value": "x" * 100})
    cache.get("k0")
    for i in range(4, 7):
        cache.put(f"k{i}", {"value": "x" * 100})
    assert cache.get("k0") is not None
    assert cache.get("k1") is None


def test_oversized_or_unencodable_values_are_not_stored() -> None:
    cache = NodeCache(max_bytes=1000)
    assert not cache.put("big", {"value": "x" * 600})
    assert not cache.put("odd", {"value": object()})
    assert len(cache) == 0


def test_node_key_is_deterministic_and_exact() -> None:
    graph = build_graph([("a", Counted, {"value": {"x": 1, "y": 2}}), ("b", Counted, {"value": {"y": 2, "x": 1}})], [])
    a, b = graph.nodes["a"], graph.nodes["b"]
    again = build_graph([("a", Counted, {"value": {"x": 1, "y": 2}})], []).nodes["a"]
    assert node_key(a, {"value": [1, {"p": 1, "q": 2}]}) == node_key(again, {"value": [1, {"p": 1, "q": 2}]})
    assert node_key(a, {"value": 1}) != node_key(a, {"value": 2})
    # what an operator can observe is in the key: key order (JSON, templates render it), list vs tuple, int vs
    # float vs bool; params included
    assert node_key(a, {"value": {"p": 1, "q": 2}}) != node_key(a, {"value": {"q": 2, "p": 1}})
    assert node_key(a, {"value": [1, 2]}) != node_key(a, {"value": (1, 2)})
    assert len({node_key(a, {"value": v}) for v in (1, 1.0, True)}) == 3
    assert node_key(a, {"value": 1}) != node_key(b, {"value": 1})
    other = build_graph([("a", Counted, {"value": {"x": 1, "y": 3}})], []).nodes["a"]
    assert node_key(a, {"value": 1}) != node_key(other, {"value": 1})
    assert node_key(a, {"value": object()}) is None


def pipeline(seed: int) -> object:
    return build_graph(
        [("src", Source, {"value": seed}), ("c1", Counted, {"value": "p"}), ("c2", Counted, {"value": "q"})],
        ["src.value -> c1.value", "c1.value -> c2.value"],
    )


async def test_unchanged_nodes_are_served_from_the_cache() -> None:
    bus = MemoryEventBus(MemoryRunStore())
    executor = Executor(bus, cache=NodeCache())
    Counted.calls.clear()
    first = await executor.run(pipeline(1), options=RunOptions(use_cache=True))  # type: ignore[arg-type]
    assert Counted.calls == ["c1", "c2"]
    second = await executor.run(pipeline(1), run_id="again", options=RunOptions(use_cache=True))  # type: ignore[arg-type]
    assert Counted.calls == ["c1", "c2"]
    assert second.outputs == first.outputs
    await bus.flush()
    events: list[Event] = await bus.read("again")
    assert not [e for e in events if isinstance(e, NodeStarted)]
    assert all(e.cached for e in events if isinstance(e, NodeSucceeded))
    third = await executor.run(pipeline(2), options=RunOptions(use_cache=True))  # type: ignore[arg-type]
    assert Counted.calls == ["c1", "c2", "c1", "c2"]
    assert third.outputs != first.outputs


async def test_cache_is_off_unless_asked_for() -> None:
    executor = Executor(MemoryEventBus(MemoryRunStore()), cache=NodeCache())
    Counted.calls.clear()
    await executor.run(pipeline(1))  # type: ignore[arg-type]
    await executor.run(pipeline(1))  # type: ignore[arg-type]
    assert Counted.calls == ["c1", "c2", "c1", "c2"]


async def test_non_cacheable_operators_and_opted_out_nodes_always_run() -> None:
    cache = NodeCache()
    executor = Executor(MemoryEventBus(MemoryRunStore()), cache=cache)
    Flaky.calls.pop("nc", None)
    Counted.calls.clear()
    graph = build_graph(
        [("f", Flaky, {"failures": 0, "key": "nc"}), ("c", Counted)],
        ["f.value -> c.value"],
        policies={"c": NodePolicy(cache=False)},
    )
    for _ in range(2):
        await executor.run(graph, options=RunOptions(use_cache=True))
    assert len(Flaky.calls["nc"]) == 2
    assert Counted.calls == ["c", "c"]
    assert len(cache) == 0


async def test_partial_rerun_reuses_recorded_outputs_of_unselected_nodes() -> None:
    cache = NodeCache()
    executor = Executor(MemoryEventBus(MemoryRunStore()), cache=cache)
    Flaky.calls.pop("llm", None)
    Counted.calls.clear()
    graph = build_graph(
        [("llm", Flaky, {"failures": 0, "key": "llm"}), ("c1", Counted, {"value": 1}), ("c2", Counted, {"value": 2})],
        ["llm.value -> c1.value", "c1.value -> c2.value"],
    )
    await executor.run(graph, run_id="base", options=RunOptions(record_outputs=True))
    reuse = {node: out for node in graph.order if (out := cache.get(run_key("base", node))) is not None}
    assert set(reuse) == {"llm", "c1", "c2"}
    result = await executor.run(graph, options=RunOptions(reuse=reuse, rerun=frozenset({"c2"}), use_cache=True))
    assert len(Flaky.calls["llm"]) == 1  # the non-cacheable "LLM" was not called again
    assert Counted.calls == ["c1", "c2", "c2"]
    assert result.nodes["llm"].cached
    assert result.nodes["c1"].cached
    assert not result.nodes["c2"].cached
    assert result.outputs == {"c2": [[1, 1], 2]}
