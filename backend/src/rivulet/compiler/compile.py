"""``compile_flow``: run the passes, raise every error at once, or return the frozen ``CompiledGraph``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import CompileError, Diagnostic
from rivulet.compiler.graph import CompiledEdge, CompiledGraph, CompiledNode
from rivulet.compiler.passes import PASSES
from rivulet.compiler.passes._state import CompileState
from rivulet.compiler.passes.resolve_variables import INPUT_OPERATORS, OUTPUT_OPERATORS
from rivulet.sdk.operator import PortSpec

if TYPE_CHECKING:
    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.passes._state import OperatorLookup

__all__ = ("analyze_flow", "compile_flow")


def analyze_flow(document: FlowDocument, registry: OperatorLookup) -> CompileState:
    """Run every pass and return the state with all diagnostics (never raises for a bad flow)."""
    state = CompileState(document=document, registry=registry)
    for compiler_pass in PASSES:
        compiler_pass(state)
    return state


def _ports(specs: dict[str, PortSpec], resolved: dict[str, object]) -> tuple[PortSpec, ...]:
    return tuple(
        PortSpec(name=p.name, type=resolved.get(p.name, p.type), required=p.required, description=p.description)  # type: ignore[arg-type]
        for p in specs.values()
    )


def _build(state: CompileState) -> CompiledGraph:
    doc = state.document
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    edges: dict[str, CompiledEdge] = {}
    for _, edge in state.edges:
        tp, coercion = state.edge_types[edge.id]
        edges[edge.id] = CompiledEdge(
            id=edge.id,
            source=edge.source,
            source_port=edge.source_port,
            target=edge.target,
            target_port=edge.target_port,
            type=tp,
            coercion="collect" if coercion == "collect" else None,
        )
        incoming.setdefault(edge.target, []).append(edge.id)
        outgoing.setdefault(edge.source, []).append(edge.id)
    nodes: dict[str, CompiledNode] = {}
    for node_id in state.order:
        node = doc.nodes[state.node_index[node_id]]
        operator = state.operators[node_id]
        nodes[node_id] = CompiledNode(
            id=node_id,
            label=node.label or operator.spec.title,
            spec=operator.spec,
            operator=operator,
            params=state.params[node_id],
            inputs=_ports(state.inputs[node_id], dict(state.resolved_inputs[node_id])),
            outputs=_ports(state.outputs[node_id], dict(state.resolved_outputs[node_id])),
            policy=node.policy,
            disabled=node.disabled,
            incoming=tuple(incoming.get(node_id, ())),
            outgoing=tuple(outgoing.get(node_id, ())),
        )
    triggers = _triggers(nodes)
    return CompiledGraph(
        flow_id=doc.id,
        flow_version=doc.version,
        name=doc.name,
        nodes=nodes,
        edges=edges,
        order=tuple(state.order),
        variables=tuple(doc.variables),
        input_nodes=tuple(n for n in state.order if nodes[n].spec.id in INPUT_OPERATORS or n in triggers),
        output_nodes=tuple(n for n in state.order if nodes[n].spec.id in OUTPUT_OPERATORS),
        notes=tuple(state.notes),
    )


def _triggers(nodes: dict[str, CompiledNode]) -> set[str]:
    return {n.id for n in nodes.values() if n.spec.category == "trigger"}


def errors_of(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Only the diagnostics of severity ``error``."""
    return [d for d in diagnostics if d.severity == "error"]


def compile_flow(document: FlowDocument, registry: OperatorLookup) -> CompiledGraph:
    """Compile a flow document against an operator registry.

    Raises:
        CompileError: One or more errors; ``diagnostics`` holds all of them (and any notes).
    """
    state = analyze_flow(document, registry)
    if errors_of(state.diagnostics):
        raise CompileError(state.diagnostics)
    return _build(state)
