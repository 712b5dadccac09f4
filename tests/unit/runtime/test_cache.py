"""The content-addressed node cache and partial re-runs."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rivulet.compiler.flow import NodePolicy
from rivulet.lib.exceptions import NotFoundError
from rivulet.records.events import Event, NodeStarted, NodeSucceeded
from rivulet.runtime.cache import NodeCache, node_key, run_key
from rivulet.runtime.executor import Executor, RunOptions, RunResult
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import (
    AllInputs,
    Clock,
    Counted,
    Flaky,
    ReadInput,
    ReadRunId,
    ReadSecret,
    ReadService,
    ReadVariable,
    Source,
    build_graph,
)

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


def executor_with(cache: NodeCache, **kwargs: Any) -> Executor:
    return Executor(MemoryEventBus(MemoryRunStore()), cache=cache, **kwargs)


def cached_nodes(result: RunResult) -> set[str]:
    return {node_id for node_id, state in result.nodes.items() if state.cached}


async def test_a_node_is_keyed_by_the_run_inputs_it_read() -> None:
    executor = executor_with(NodeCache())
    graph = build_graph(
        [("q", ReadInput, {"name": "q"}), ("all", AllInputs), ("c", Counted, {"value": "p"})], ["q.value -> c.value"]
    )

    async def run(inputs: dict[str, Any]) -> RunResult:
        return await executor.run(graph, options=RunOptions(inputs=inputs, use_cache=True))

    first = await run({"q": "first question"})
    second = await run({"q": "second question"})
    assert second.node_outputs("c") == {"value": ["second question", "p"]}
    assert cached_nodes(second) == set()
    # ``r`` is not read by ``q`` (nor by ``c``): served from the cache; ``all`` read every input: it runs
    third = await run({"q": "second question", "r": 1})
    assert cached_nodes(third) == {"q", "c"}
    assert third.node_outputs("all") == {"value": [["q", "second question"], ["r", 1]]}
    back = await run({"q": "first question"})
    assert back.outputs == first.outputs
    assert cached_nodes(back) == {"q", "all", "c"}


async def test_a_node_is_keyed_by_the_variables_it_read() -> None:
    executor = executor_with(NodeCache())
    graph = build_graph([("v", ReadVariable, {"name": "region"}), ("c", Counted)], ["v.value -> c.value"])
    eu = await executor.run(graph, options=RunOptions(variables={"region": "eu"}, use_cache=True))
    us = await executor.run(graph, options=RunOptions(variables={"region": "us"}, use_cache=True))
    assert (eu.outputs["c"], us.outputs["c"]) == (["eu", None], ["us", None])
    other = await executor.run(graph, options=RunOptions(variables={"region": "us", "x": 1}, use_cache=True))
    assert cached_nodes(other) == {"v", "c"}


async def test_a_secret_is_part_of_the_key_as_a_hash_and_never_stored() -> None:
    secrets = {"api_key": "sk-first-secret-value"}

    async def resolve(name: str) -> str:
        if name not in secrets:
            raise NotFoundError(f"secret {name!r} not found")
        return secrets[name]

    cache = NodeCache()
    executor = executor_with(cache, secrets=resolve)
    graph = build_graph([("s", ReadSecret, {"name": "api_key"}), ("c", Counted)], ["s.value -> c.value"])
    first = await executor.run(graph, options=RunOptions(use_cache=True))
    again = await executor.run(graph, options=RunOptions(use_cache=True))  # resolved again, then a hit
    assert cached_nodes(again) == {"s", "c"}
    secrets["api_key"] = "pk-rotated-secret-value"
    rotated = await executor.run(graph, options=RunOptions(use_cache=True))
    assert (first.outputs["c"], rotated.outputs["c"]) == (["sk", None], ["pk", None])
    assert cached_nodes(rotated) == set()
    del secrets["api_key"]
    missing = await executor.run(graph, options=RunOptions(use_cache=True))
    assert missing.outputs["c"] == [None, None]
    stored = repr(list(cache._entries.items()))  # pyright: ignore[reportPrivateUsage]
    assert "secret-value" not in stored


async def test_nodes_that_read_the_run_id_or_a_service_are_not_cached() -> None:
    cache = NodeCache()
    executor = executor_with(cache, services={Clock: Clock(now=1)})
    graph = build_graph([("id", ReadRunId), ("clock", ReadService)], [])
    first = await executor.run(graph, options=RunOptions(use_cache=True))
    second = await executor.run(graph, options=RunOptions(use_cache=True))
    assert first.outputs["id"] != second.outputs["id"]
    assert cached_nodes(second) == set()
    assert len(cache) == 0


async def test_a_partial_rerun_runs_a_reused_node_again_when_what_it_read_changed() -> None:
    cache = NodeCache()
    executor = executor_with(cache)
    Counted.calls.clear()
    graph = build_graph(
        [("q", ReadInput, {"name": "q"}), ("c1", Counted, {"value": 1}), ("c2", Counted, {"value": 2})],
        ["q.value -> c1.value", "c1.value -> c2.value"],
    )
    await executor.run(graph, run_id="base", options=RunOptions(inputs={"q": "first"}, record_outputs=True))
    reuse = {node: out for node in graph.order if (out := cache.get(run_key("base", node))) is not None}
    rerun = frozenset({"c2"})
    same = await executor.run(graph, options=RunOptions(inputs={"q": "first"}, reuse=reuse, rerun=rerun))
    assert cached_nodes(same) == {"q", "c1"}
    changed = await executor.run(graph, options=RunOptions(inputs={"q": "second"}, reuse=reuse, rerun=rerun))
    assert cached_nodes(changed) == set()
    assert changed.outputs == {"c2": [["second", 1], 2]}


async def test_cache_entries_are_not_shared_between_flows() -> None:
    executor = executor_with(NodeCache())
    nodes: list[Any] = [("q", ReadInput, {"name": "q"}), ("c", Counted, {"value": "p"})]
    mine = build_graph(nodes, ["q.value -> c.value"])
    theirs = msgspec.structs.replace(mine, flow_id="theirs")
    options = RunOptions(inputs={"q": "a private question"}, use_cache=True)
    await executor.run(mine, options=options)
    probe = await executor.run(theirs, options=options)
    assert cached_nodes(probe) == set()
    assert cached_nodes(await executor.run(theirs, options=options)) == {"q", "c"}


async def test_templates_and_expressions_that_use_chance_are_not_cached() -> None:
    from rivulet.compiler import compile_flow
    from rivulet.compiler.flow import decode_flow
    from rivulet.registry import default_registry

    def edge(index: int, source: str, port: str, target: str, target_port: str) -> dict[str, str]:
        return {"id": f"e{index}", "source": source, "source_port": port, "target": target, "target_port": target_port}

    document = {
        "name": "chance",
        "nodes": [
            {"id": "xs", "operator": "core.constant", "params": {"value": list(range(100)), "type": "List[Int]"}},
            {"id": "pick", "operator": "core.template", "params": {"template": "{{ x | random }}"}},
            {"id": "plain", "operator": "core.template", "params": {"template": "{{ x | length }}"}},
            {"id": "map", "operator": "core.map", "params": {"expression": "[item, 1] | random"}},
            {"id": "branch", "operator": "core.branch",
             "params": {"conditions": [{"port": "yes", "expression": "[true, false] | random"}]}},
        ],
        "edges": [edge(1, "xs", "value", "pick", "x"), edge(2, "xs", "value", "plain", "x"),
                  edge(3, "xs", "value", "map", "items"), edge(4, "xs", "value", "branch", "value")],
    }  # fmt: skip
    graph = compile_flow(decode_flow(document), default_registry())
    executor = executor_with(NodeCache())
    await executor.run(graph, options=RunOptions(use_cache=True))
    again = await executor.run(graph, options=RunOptions(use_cache=True))
    assert cached_nodes(again) == {"xs", "plain"}
