"""Pass 5: connected ports have compatible types; generic ports (``T``) get their concrete types inferred.

A type variable binds to the type of the first connection into it (in topological, then document order) and
the binding flows to the node's outputs. ``Stream[T]`` into a ``T`` port is accepted through a collect step,
recorded on the edge and reported as an info note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import DiagnosticCode
from rivulet.compiler.passes._graph import adjacency, kahn_order
from rivulet.sdk.ports import PortType, check_compatible

if TYPE_CHECKING:
    from rivulet.compiler.flow import Edge
    from rivulet.compiler.passes._state import CompileState

__all__ = ("check_types", "substitute", "unify")

ANY = PortType("Any")


def substitute(tp: PortType, bindings: dict[str, PortType]) -> PortType:
    """Replace bound variables; unbound ones stay variables."""
    if tp.var:
        return bindings.get(tp.name, tp)
    if not tp.args:
        return tp
    return PortType(tp.name, tuple(substitute(a, bindings) for a in tp.args))


def unify(pattern: PortType, concrete: PortType, bindings: dict[str, PortType]) -> None:
    """Bind the variables of ``pattern`` from ``concrete`` (first binding wins)."""
    if pattern.var:
        bindings.setdefault(pattern.name, concrete)
    elif pattern.name == "Optional" and concrete.name != "Optional":
        unify(pattern.args[0], concrete, bindings)
    elif pattern.args and pattern.name == concrete.name and len(pattern.args) == len(concrete.args):
        for p, c in zip(pattern.args, concrete.args, strict=True):
            unify(p, c, bindings)
    elif pattern.args and concrete.name == "Stream" and pattern.name != "Stream":
        unify(pattern, concrete.args[0], bindings)


def _erase(tp: PortType) -> PortType:
    """Unbound variables become ``Any``."""
    if tp.var:
        return ANY
    if not tp.args:
        return tp
    return PortType(tp.name, tuple(_erase(a) for a in tp.args))


def _check_edge(state: CompileState, index: int, edge: Edge, bindings: dict[str, dict[str, PortType]]) -> None:
    source_type = state.resolved_outputs[edge.source][edge.source_port]
    pattern = state.inputs[edge.target][edge.target_port].type
    unify(pattern, source_type, bindings[edge.target])
    target_type = _erase(substitute(pattern, bindings[edge.target]))
    verdict = check_compatible(source_type, target_type)
    if not verdict.ok:
        state.add(
            DiagnosticCode.TYPE_MISMATCH,
            f"edge {edge.id!r}: {edge.source}.{edge.source_port} gives {source_type} but "
            f"{edge.target}.{edge.target_port} expects {target_type}",
            f"$.edges[{index}]",
            node_id=edge.target,
            expected=str(target_type),
            got=str(source_type),
        )
        return
    state.edge_types[edge.id] = (source_type if verdict.coercion is None else target_type, verdict.coercion)
    if verdict.coercion == "collect":
        note = f"edge {edge.id!r}: the {source_type} stream is collected into {target_type} before {edge.target} runs"
        state.notes.append(note)
        state.add(DiagnosticCode.STREAM_COLLECTED, note, f"$.edges[{index}]", node_id=edge.target, severity="info")


def check_types(state: CompileState) -> None:
    order, stuck = kahn_order(state, adjacency(state))
    incoming: dict[str, list[tuple[int, Edge]]] = {}
    for index, edge in state.edges:
        incoming.setdefault(edge.target, []).append((index, edge))
    bindings: dict[str, dict[str, PortType]] = {node_id: {} for node_id in order + stuck}
    for node_id in order + stuck:
        for index, edge in incoming.get(node_id, ()):
            if edge.source in state.resolved_outputs:
                _check_edge(state, index, edge, bindings)
        state.resolved_inputs[node_id] = {
            name: _erase(substitute(p.type, bindings[node_id])) for name, p in state.inputs[node_id].items()
        }
        state.resolved_outputs[node_id] = {
            name: _erase(substitute(p.type, bindings[node_id])) for name, p in state.outputs[node_id].items()
        }
