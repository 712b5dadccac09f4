"""Property: the node cache is invisible. A cached run gives exactly what the same run gives uncached.

Random DAGs of deterministic core operators (compiled by the real compiler), plus operators that read flow
variables, the whole run-input mapping and a secret, are run several times with one shared cache while run
inputs, variables, secrets and params change between runs, and two different flows share nodes with the same
params. Every cached run is compared with the same run on an executor without a cache: status, outputs, and
each node's status, outputs and error. Repeating a run unchanged must serve every node from the cache (so a
cache that never hits cannot pass either).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rivulet.compiler import compile_flow
from rivulet.compiler.flow import decode_flow
from rivulet.lib.exceptions import NotFoundError
from rivulet.registry import default_registry
from rivulet.registry.registry import OperatorEntry, OperatorRegistry
from rivulet.runtime.cache import NodeCache
from rivulet.runtime.executor import Executor, RunOptions, RunResult
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import AllInputs, ReadSecret, ReadVariable

pytestmark = pytest.mark.timeout(600)

PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


EXTRA = (ReadVariable, AllInputs, ReadSecret)
REGISTRY = OperatorRegistry(
    [*default_registry().entries(), *(OperatorEntry(operator=op, source="test") for op in EXTRA)]
)

VALUES: list[Any] = [
    "first question",
    "second question",
    1,
    1.0,
    True,
    None,
    [1, 2],
    {"a": 1, "b": 2},
    {"b": 2, "a": 1},
    {"a": {"x": [1]}},
]
"""Run-input, variable and constant values: equal-looking ones (1, 1.0, True; key orders) included."""
NAMES = ("q", "r", "s")
TEMPLATES = ("Q: {{ x }}", "{{ x }} / {{ y }}", "{{ x | tojson }}", "Q: {{ x }}!")
SECRETS = ("sk-one", "sk-two", None)

# node kinds and how many inputs each takes (ports in order)
KINDS: dict[str, tuple[str, ...]] = {
    "input": (),
    "constant": (),
    "variable": (),
    "all_inputs": (),
    "secret": (),
    "template": ("x", "y"),
    "merge": ("in_1", "in_2"),
    "convert": ("value",),
    "branch": ("value",),
    "output": ("value",),
}
SOURCES = ("input", "constant", "variable", "all_inputs", "secret")


def _params(kind: str, choice: int, node_index: int, taken: set[str]) -> tuple[str, dict[str, Any]]:
    """Operator and params of a node; ``choice`` picks among a few variants (the params that change)."""
    match kind:
        case "input":  # run input names are unique in a flow
            free = [name for name in (*NAMES, *NAMES[choice % len(NAMES) :]) if name not in taken]
            name = free[choice % len(free)] if free else f"in{node_index}"
            taken.add(name)
            return "core.input", {"name": name, "type": "Json", "required": False, "default": choice}
        case "constant":
            return "core.constant", {"value": VALUES[choice % len(VALUES)]}
        case "variable":
            return "test.read_variable", {"name": NAMES[choice % len(NAMES)]}
        case "all_inputs":
            return "test.all_inputs", {"name": "all"}
        case "secret":
            return "test.read_secret", {"name": ("api_key", "other_key")[choice % 2]}
        case "template":
            text = TEMPLATES[choice % len(TEMPLATES)]
            return "core.template", {"template": text if "y" in text else text + "{{ y }}"}
        case "merge":
            return "core.merge", {"count": 2, "deep": bool(choice % 2)}
        case "convert":
            return "core.convert", {"to": ("text", "json")[choice % 2]}
        case "branch":  # the untaken port skips what it feeds
            expression = ("value", "value == 1", "value is string", "value is mapping")[choice % 4]
            return "core.branch", {"conditions": [{"port": "yes", "expression": expression}]}
        case _:
            return "core.output", {"name": f"out{node_index}"}


Structure = list[tuple[str, list[tuple[int, bool]]]]
"""Per node: its kind and, per input port, the index of the node it reads from (and, from a branch, whether
from its ``yes`` or its ``default`` port)."""


@st.composite
def structures(draw: st.DrawFn) -> Structure:
    size = draw(st.integers(min_value=2, max_value=10))
    nodes: Structure = [(draw(st.sampled_from(SOURCES)), [])]
    for _ in range(1, size):
        kind = draw(st.sampled_from(list(KINDS)))
        candidates = [i for i, (k, _) in enumerate(nodes) if k != "output"]
        sources = [(draw(st.sampled_from(candidates)), draw(st.booleans())) for _ in KINDS[kind]]
        nodes.append((kind, sources))
    return nodes


def document(flow: str, structure: Structure, choices: list[int]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    taken: set[str] = set()
    for index, (kind, sources) in enumerate(structure):
        operator, params = _params(kind, choices[index % len(choices)], index, taken)
        # ``continue``: a failing node skips its downstream only, so every node ends the same way whatever the
        # timing (under ``fail`` which nodes got to run before the run stopped depends on the schedule)
        policy = {"on_error": "continue"}
        nodes.append({"id": f"n{index}", "operator": operator, "params": params, "policy": policy})
        for port, (source, yes) in zip(KINDS[kind], sources, strict=True):
            out = _out(structure[source][0], yes)
            edges.append({"id": f"e{len(edges)}", "source": f"n{source}", "source_port": out,
                          "target": f"n{index}", "target_port": port})  # fmt: skip
    return {"id": flow, "name": flow, "nodes": nodes, "edges": edges}


def _out(kind: str, yes: bool) -> str:
    if kind == "branch":
        return "yes" if yes else "default"
    return "text" if kind == "template" else "value"


class Run(msgspec.Struct, frozen=True):
    flow: int
    choices: list[int]
    inputs: dict[str, Any]
    variables: dict[str, Any]
    secret: str | None


runs = st.builds(
    Run,
    flow=st.integers(0, 1),
    choices=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    inputs=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=2),
    variables=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=2),
    secret=st.sampled_from(SECRETS),
)


def observed(result: RunResult) -> Any:
    """Everything a run shows: status, outputs, and every node's status, outputs and error."""
    nodes = {
        node_id: (state.status, state.outputs, None if state.error is None else (state.error.code, state.error.message))
        for node_id, state in result.nodes.items()
    }
    return result.status, result.outputs, nodes


async def _scenario(flows: list[Structure], sequence: list[Run]) -> None:
    secrets: dict[str, str] = {}

    async def resolve(name: str) -> str:
        if name not in secrets:
            raise NotFoundError(f"secret {name!r} not found")
        return secrets[name]

    buses = [MemoryEventBus(MemoryRunStore()), MemoryEventBus(MemoryRunStore())]
    cached = Executor(buses[0], cache=NodeCache(), secrets=resolve)
    plain = Executor(buses[1], secrets=resolve)
    try:
        await _compare(cached, plain, flows, sequence, secrets)
    finally:
        for bus in buses:
            await bus.close()


async def _compare(
    cached: Executor, plain: Executor, flows: list[Structure], sequence: list[Run], secrets: dict[str, str]
) -> None:
    for step in sequence:
        secrets.clear()
        if step.secret is not None:
            secrets["api_key"] = step.secret
        graph = compile_flow(decode_flow(document(f"flow{step.flow}", flows[step.flow], step.choices)), REGISTRY)
        options = RunOptions(inputs=step.inputs, variables=step.variables, trigger="editor")
        expected = observed(await plain.run(graph, options=options))
        got = await cached.run(graph, options=msgspec.structs.replace(options, use_cache=True))
        assert observed(got) == expected, (step, graph.order)
        again = await cached.run(graph, options=msgspec.structs.replace(options, use_cache=True))
        assert observed(again) == expected
        succeeded = [node_id for node_id, state in again.nodes.items() if state.status == "succeeded"]
        assert all(again.nodes[node_id].cached for node_id in succeeded), step


@PROFILE
@given(flows=st.lists(structures(), min_size=2, max_size=2), sequence=st.lists(runs, min_size=2, max_size=6))
def test_a_cached_run_equals_an_uncached_run(flows: list[Structure], sequence: list[Run]) -> None:
    asyncio.run(_scenario(flows, sequence))
