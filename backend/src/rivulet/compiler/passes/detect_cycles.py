"""Pass 6: the graph is acyclic. Each cycle is reported once with its nodes in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import DiagnosticCode
from rivulet.compiler.passes._graph import adjacency, kahn_order

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("detect_cycles",)


def _find_cycle(start: str, out: dict[str, list[str]], allowed: set[str]) -> list[str]:
    """Walk from ``start`` inside ``allowed`` (nodes that all sit in or behind cycles) until a node repeats."""
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(t for t in out[node] if t in allowed)
    return path[seen[node] :]


def _trim(nodes: set[str], out: dict[str, list[str]]) -> set[str]:
    """Drop nodes without an edge into the set until none is left: what remains lies on or between cycles."""
    while True:
        kept = {n for n in nodes if any(t in nodes for t in out[n])}
        if kept == nodes:
            return kept
        nodes = kept


def detect_cycles(state: CompileState) -> None:
    for index, edge in state.edges:
        if edge.source == edge.target:
            state.add(
                DiagnosticCode.SELF_LOOP,
                f"edge {edge.id!r} connects node {edge.source!r} to itself",
                f"$.edges[{index}]",
                node_id=edge.source,
            )
    out = adjacency(state)
    _, stuck = kahn_order(state, out)
    remaining = _trim(set(stuck), out)
    edge_index = {(e.source, e.target): i for i, e in state.edges}
    while remaining:
        start = next(n for n in stuck if n in remaining)
        cycle = _find_cycle(start, out, remaining)
        closing = edge_index[(cycle[-1], cycle[0])]
        state.add(
            DiagnosticCode.CYCLE,
            "cycle: " + " → ".join([*cycle, cycle[0]]) + "; flows must be acyclic",
            f"$.edges[{closing}]",
            node_id=cycle[0],
            got=" → ".join(cycle),
        )
        remaining = _trim(remaining - set(cycle), out)
