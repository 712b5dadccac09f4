"""Helpers for the run integration tests: flows of core operators, compiling, WebSocket I/O."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import Edge, FlowDocument, Node
from rivulet.compiler.graph import CompiledEdge, CompiledGraph, CompiledNode
from rivulet.registry.loader import default_registry

if TYPE_CHECKING:
    from rivulet.registry.registry import OperatorRegistry
    from tests.conftest import LiveServer


def delay_flow(seconds: float, name: str = "delay") -> FlowDocument:
    """``core.input(text) -> core.delay(seconds) -> core.output(answer)``."""
    return FlowDocument(
        name=name,
        nodes=[
            Node(id="in", operator="core.input", params={"name": "text", "type": "Text"}),
            Node(id="wait", operator="core.delay", params={"seconds": seconds}),
            Node(id="out", operator="core.output", params={"name": "answer"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="wait", target_port="value"),
            Edge(id="e2", source="wait", source_port="value", target="out", target_port="value"),
        ],
    )


def compile_document(document: FlowDocument, registry: OperatorRegistry | None = None) -> CompiledGraph:
    """The real compiler when it is available, else a minimal stand-in (resolve, validate params, order)."""
    registry = registry or default_registry()
    real = getattr(importlib.import_module("rivulet.compiler"), "compile_flow", None)
    if real is not None:
        graph: CompiledGraph = real(document, registry)
        return graph
    ops = {n.id: registry.get(n.operator, n.operator_version) for n in document.nodes}
    params = {n.id: msgspec.convert(n.params, ops[n.id].params_type) for n in document.nodes}
    outputs = {n: ops[n].output_ports(params[n]) for n in ops}
    edges = {
        e.id: CompiledEdge(
            id=e.id, source=e.source, source_port=e.source_port, target=e.target, target_port=e.target_port,
            type=next(p.type for p in outputs[e.source] if p.name == e.source_port),
        )
        for e in document.edges
    }  # fmt: skip
    nodes = {
        n.id: CompiledNode(
            id=n.id, label=n.label or n.id, spec=ops[n.id].spec, operator=ops[n.id], params=params[n.id],
            inputs=ops[n.id].input_ports(params[n.id]), outputs=outputs[n.id], policy=n.policy, disabled=n.disabled,
            incoming=tuple(e.id for e in edges.values() if e.target == n.id),
            outgoing=tuple(e.id for e in edges.values() if e.source == n.id),
        )
        for n in document.nodes
    }  # fmt: skip
    order: list[str] = []
    pending = dict(nodes)
    while pending:
        ready = [i for i, n in pending.items() if all(edges[e].source in order for e in n.incoming)]
        order.extend(ready)
        for i in ready:
            del pending[i]
    kinds = {i: n.spec.id for i, n in nodes.items()}
    return CompiledGraph(
        flow_id=document.id, flow_version=document.version, name=document.name, nodes=nodes, edges=edges,
        order=tuple(order), input_nodes=tuple(i for i in order if kinds[i] == "core.input"),
        output_nodes=tuple(i for i in order if kinds[i] == "core.output"),
    )  # fmt: skip


def use_test_compiler(server: LiveServer) -> None:
    """Make the live app compile with ``compile_document`` (the real compiler when present)."""
    services = server.app.state["services"]
    services.runs.compile_graph = lambda document: compile_document(document, services.registry)


async def create_flow(server: LiveServer, document: FlowDocument) -> str:
    record = await server.app.state["services"].flows.create(document)
    return str(record.summary.id)


async def receive(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    import asyncio

    raw = await asyncio.wait_for(ws.recv(), timeout)
    message: dict[str, Any] = json.loads(raw)
    return message


async def receive_until_finished(ws: Any, run_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Frames of ``run_id`` up to and including its ``run_finished`` (other frames are dropped)."""
    events: list[dict[str, Any]] = []
    while True:
        message = await receive(ws, timeout)
        if message.get("run_id") == run_id and "seq" in message:
            events.append(message)
            if message["type"] == "run_finished":
                return events
