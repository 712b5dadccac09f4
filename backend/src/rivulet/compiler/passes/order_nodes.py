"""Pass 8: a stable topological order (ties broken by position in the document)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.compiler.passes._graph import adjacency, kahn_order

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("order_nodes",)


def order_nodes(state: CompileState) -> None:
    order, _ = kahn_order(state, adjacency(state))
    state.order = order
