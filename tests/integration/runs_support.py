"""Helpers for the run integration tests: flows of core operators, compiling, WebSocket I/O."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rivulet.compiler import compile_flow
from rivulet.compiler.flow import Edge, FlowDocument, Node
from rivulet.registry.loader import default_registry

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledGraph
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
    """Compile with the real compiler and the default registry."""
    return compile_flow(document, registry or default_registry())


def use_test_compiler(server: LiveServer) -> None:
    """The live app already compiles with ``rivulet.compiler``; kept as the one seam to swap it in tests."""
    assert server.app.state["services"].runs is not None


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
