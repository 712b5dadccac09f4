"""Property tests: valid random DAGs compile; any mutation compiles or yields diagnostics, never a crash."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rivulet.compiler import CompileError, analyze_flow, compile_flow
from rivulet.compiler.flow import decode_flow, encode_flow
from rivulet.registry import default_registry

REGISTRY = default_registry()
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def valid_flows(draw: st.DrawFn) -> dict[str, Any]:
    """A DAG: node i takes its inputs only from nodes < i, so it is acyclic by construction."""
    size = draw(st.integers(min_value=1, max_value=25))
    nodes: list[dict[str, Any]] = [{"id": "n0", "operator": "core.constant", "params": {"value": draw(st.integers())}}]
    edges: list[dict[str, Any]] = []
    for i in range(1, size):
        kind = draw(st.sampled_from(["constant", "delay", "merge", "output"]))
        node_id = f"n{i}"
        sources = [n["id"] for n in nodes if n["operator"] != "core.output"]
        if kind == "constant":
            nodes.append({"id": node_id, "operator": "core.constant", "params": {"value": i}})
            continue
        ports = ["in_1", "in_2"] if kind == "merge" else ["value"]
        params: dict[str, Any] = {"name": f"out{i}"} if kind == "output" else {}
        nodes.append({"id": node_id, "operator": f"core.{kind}", "params": params})
        for port in ports:
            source = draw(st.sampled_from(sources))
            edges.append({"id": f"e{len(edges)}", "source": source, "source_port": "value",
                          "target": node_id, "target_port": port})  # fmt: skip
    return {"name": "random", "nodes": nodes, "edges": edges}


@PROFILE
@given(valid_flows())
def test_valid_dags_compile(flow: dict[str, Any]) -> None:
    graph = compile_flow(decode_flow(flow), REGISTRY)
    position = {node_id: i for i, node_id in enumerate(graph.order)}
    assert set(position) == {n["id"] for n in flow["nodes"]}
    for edge in graph.edges.values():
        assert position[edge.source] < position[edge.target]


def _mutate(flow: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    nodes = [dict(n) for n in flow["nodes"]]
    edges = [dict(e) for e in flow["edges"]]
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        choice = data.draw(st.sampled_from(["drop_edge", "rewire", "operator", "param", "port", "dup_id", "back"]))
        if choice == "drop_edge" and edges:
            edges.pop(data.draw(st.integers(0, len(edges) - 1)))
        elif choice == "rewire" and edges:
            edge = edges[data.draw(st.integers(0, len(edges) - 1))]
            edge["target"] = data.draw(st.sampled_from([n["id"] for n in nodes] + ["ghost"]))
        elif choice == "operator":
            node = nodes[data.draw(st.integers(0, len(nodes) - 1))]
            node["operator"] = data.draw(
                st.sampled_from(["core.template", "core.join", "core.nope", "x.y", "core.map"])
            )
        elif choice == "param":
            node = nodes[data.draw(st.integers(0, len(nodes) - 1))]
            node["params"] = {data.draw(st.sampled_from(["value", "name", "seconds", "zzz"])): data.draw(
                st.one_of(st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2))
            )}  # fmt: skip
        elif choice == "port" and edges:
            edge = edges[data.draw(st.integers(0, len(edges) - 1))]
            edge["source_port"] = data.draw(st.sampled_from(["value", "text", "nope", "in_1"]))
        elif choice == "dup_id" and len(nodes) > 1:
            nodes[-1]["id"] = nodes[0]["id"]
        elif choice == "back" and len(nodes) > 1:
            edges.append({"id": f"b{len(edges)}", "source": nodes[-1]["id"], "source_port": "value",
                          "target": nodes[0]["id"], "target_port": "value"})  # fmt: skip
    return {**flow, "nodes": nodes, "edges": edges}


@PROFILE
@given(valid_flows(), st.data())
def test_mutations_compile_or_diagnose(flow: dict[str, Any], data: st.DataObject) -> None:
    mutated = decode_flow(_mutate(flow, data))
    diagnostics = analyze_flow(mutated, REGISTRY).diagnostics
    if any(d.severity == "error" for d in diagnostics):
        with pytest.raises(CompileError) as info:
            compile_flow(mutated, REGISTRY)
        assert info.value.diagnostics == diagnostics
        assert all(d.path.startswith("$") for d in diagnostics)
    else:
        assert compile_flow(mutated, REGISTRY).order


@PROFILE
@given(valid_flows())
def test_documents_round_trip(flow: dict[str, Any]) -> None:
    doc = decode_flow(flow)
    assert decode_flow(encode_flow(doc)) == doc
    assert decode_flow(msgspec.to_builtins(doc)) == doc
