"""Pass 3: edges join existing ports, each input has one writer, required inputs are connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import DiagnosticCode, truncate_choices

if TYPE_CHECKING:
    from rivulet.compiler.flow import Edge
    from rivulet.compiler.passes._state import CompileState

__all__ = ("check_ports",)


def _endpoint_ok(state: CompileState, index: int, edge: Edge, side: str) -> bool:
    node_id, port = (edge.source, edge.source_port) if side == "source" else (edge.target, edge.target_port)
    path = f"$.edges[{index}]"
    if node_id not in state.node_index:
        state.add(
            DiagnosticCode.UNKNOWN_NODE,
            f"edge {edge.id!r}: {side} node {node_id!r} does not exist",
            f"{path}.{side}",
            got=node_id,
            choices=truncate_choices(list(state.node_index)),
        )
        return False
    if node_id in state.broken:
        return False
    ports = state.outputs[node_id] if side == "source" else state.inputs[node_id]
    if port not in ports:
        kind = "output" if side == "source" else "input"
        state.add(
            DiagnosticCode.UNKNOWN_PORT,
            f"edge {edge.id!r}: node {node_id!r} has no {kind} port {port!r}",
            f"{path}.{side}_port",
            node_id=node_id,
            got=port,
            choices=sorted(ports),
        )
        return False
    return True


def check_ports(state: CompileState) -> None:
    seen_edges: dict[str, int] = {}
    writers: dict[tuple[str, str], int] = {}
    for index, edge in enumerate(state.document.edges):
        path = f"$.edges[{index}]"
        if edge.id in seen_edges:
            state.add(
                DiagnosticCode.DUPLICATE_EDGE_ID,
                f"edge id {edge.id!r} is used twice (first at $.edges[{seen_edges[edge.id]}])",
                f"{path}.id",
            )
            continue
        seen_edges[edge.id] = index
        source_ok = _endpoint_ok(state, index, edge, "source")
        target_ok = _endpoint_ok(state, index, edge, "target")
        if not (source_ok and target_ok):
            continue
        key = (edge.target, edge.target_port)
        if key in writers:
            state.add(
                DiagnosticCode.MULTIPLE_WRITERS,
                f"input {edge.target}.{edge.target_port} already has a connection ($.edges[{writers[key]}]);"
                " an input takes exactly one edge (use core.join or core.merge to combine values)",
                path,
                node_id=edge.target,
            )
            continue
        writers[key] = index
        state.edges.append((index, edge))
    for index, node in state.nodes():
        for port in state.inputs[node.id].values():
            if port.required and (node.id, port.name) not in writers:
                state.add(
                    DiagnosticCode.MISSING_REQUIRED_INPUT,
                    f"node {node.id!r}: required input {port.name!r} ({port.type}) is not connected",
                    f"$.nodes[{index}]",
                    node_id=node.id,
                    expected=str(port.type),
                )
