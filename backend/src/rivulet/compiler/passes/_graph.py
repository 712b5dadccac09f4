"""Graph helpers shared by passes: adjacency and a stable Kahn ordering (iterative, no recursion)."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rivulet.compiler.passes._state import CompileState

__all__ = ("adjacency", "kahn_order")


def adjacency(state: CompileState) -> dict[str, list[str]]:
    """Node id → downstream node ids over the valid edges (self-loops excluded)."""
    out: dict[str, list[str]] = {node.id: [] for _, node in state.nodes()}
    for _, edge in state.edges:
        if edge.source != edge.target and edge.source in out and edge.target in out:
            out[edge.source].append(edge.target)
    return out


def kahn_order(state: CompileState, out: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Topological order, ties broken by document position; second item: nodes left in or behind cycles."""
    indegree = dict.fromkeys(out, 0)
    for targets in out.values():
        for target in targets:
            indegree[target] += 1
    position = state.node_index
    ready = [(position[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for target in out[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (position[target], target))
    stuck = sorted((n for n, d in indegree.items() if d > 0), key=position.__getitem__)
    return order, stuck
