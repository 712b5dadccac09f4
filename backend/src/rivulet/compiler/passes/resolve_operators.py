"""Pass 1: every node names an operator (and version) that the registry has; node ids are unique."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.diagnostics import DiagnosticCode, truncate_choices
from rivulet.lib.exceptions import NotFoundError

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("resolve_operators",)


def resolve_operators(state: CompileState) -> None:
    for index, node in enumerate(state.document.nodes):
        path = f"$.nodes[{index}]"
        if node.id in state.node_index:
            first = state.node_index[node.id]
            state.add(
                DiagnosticCode.DUPLICATE_NODE_ID,
                f"node id {node.id!r} is used twice (first at $.nodes[{first}])",
                f"{path}.id",
                node_id=node.id,
            )
            continue
        state.node_index[node.id] = index
        try:
            state.operators[node.id] = state.registry.get(node.operator, node.operator_version)
        except NotFoundError as exc:
            versions: list[int] = list(exc.extra.get("versions") or [])
            suggestions: list[str] = list(exc.extra.get("suggestions") or [])
            state.broken.add(node.id)
            if versions:
                state.add(
                    DiagnosticCode.UNKNOWN_OPERATOR_VERSION,
                    f"node {node.id!r}: {exc.detail}",
                    f"{path}.operator_version",
                    node_id=node.id,
                    got=str(node.operator_version),
                    choices=[str(v) for v in versions],
                )
            else:
                state.add(
                    DiagnosticCode.UNKNOWN_OPERATOR,
                    f"node {node.id!r}: {exc.detail}",
                    f"{path}.operator",
                    node_id=node.id,
                    got=node.operator,
                    choices=truncate_choices(suggestions) or None,
                )
