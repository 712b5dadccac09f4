"""The state the compiler passes share. Passes read the document and append findings; nothing else mutates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rivulet.compiler.diagnostics import Diagnostic, DiagnosticCode, Severity
from rivulet.compiler.flow import Edge, FlowDocument
from rivulet.sdk.operator import Operator, PortSpec
from rivulet.sdk.ports import PortType

if TYPE_CHECKING:
    from rivulet.compiler.flow import Node

__all__ = ("CompileState", "OperatorLookup")


class OperatorLookup(Protocol):
    """What the compiler needs from the registry."""

    def get(self, operator_id: str, version: int | None = None) -> type[Operator[Any, Any, Any]]: ...


@dataclass(slots=True)
class CompileState:
    """Findings accumulated by the passes, keyed by node/edge id."""

    document: FlowDocument
    registry: OperatorLookup
    diagnostics: list[Diagnostic] = field(default_factory=list[Diagnostic])
    node_index: dict[str, int] = field(default_factory=dict[str, int])
    """Node id → position in ``document.nodes`` (first occurrence)."""
    operators: dict[str, type[Operator[Any, Any, Any]]] = field(default_factory=dict[str, Any])
    params: dict[str, Any] = field(default_factory=dict[str, Any])
    inputs: dict[str, dict[str, PortSpec]] = field(default_factory=dict[str, Any])
    outputs: dict[str, dict[str, PortSpec]] = field(default_factory=dict[str, Any])
    edges: list[tuple[int, Edge]] = field(default_factory=list[tuple[int, Any]])
    """Edges whose ends exist (document index, edge)."""
    edge_types: dict[str, tuple[PortType, str | None]] = field(default_factory=dict[str, Any])
    """Edge id → (concrete type, coercion)."""
    resolved_inputs: dict[str, dict[str, PortType]] = field(default_factory=dict[str, Any])
    resolved_outputs: dict[str, dict[str, PortType]] = field(default_factory=dict[str, Any])
    order: list[str] = field(default_factory=list[str])
    broken: set[str] = field(default_factory=set[str])
    """Nodes that an earlier pass could not resolve; later passes skip their internals."""
    notes: list[str] = field(default_factory=list[str])

    def node_path(self, node_id: str) -> str:
        return f"$.nodes[{self.node_index[node_id]}]"

    def add(
        self,
        code: DiagnosticCode,
        message: str,
        path: str,
        *,
        node_id: str | None = None,
        severity: Severity = "error",
        expected: str | None = None,
        got: str | None = None,
        choices: list[str] | None = None,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                code=code,
                message=message,
                path=path,
                node_id=node_id,
                severity=severity,
                expected=expected,
                got=got,
                choices=choices,
            )
        )

    def nodes(self) -> list[tuple[int, Node]]:
        """Resolvable nodes (first occurrence of each id, not broken) with their document index."""
        return [
            (i, n)
            for i, n in enumerate(self.document.nodes)
            if self.node_index.get(n.id) == i and n.id not in self.broken
        ]
