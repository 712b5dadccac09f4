"""``ExecutionPlan``: a ``CompiledGraph`` flattened into index-based tables the scheduler walks cheaply.

Built once per graph (the executor memoises it): per node, the operator instance, the timeout, how each
outgoing edge delivers (a value, a live stream, or a collected stream) and how many edges must settle before
the node is decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rivulet.compiler.graph import CompiledEdge, CompiledGraph, CompiledNode
    from rivulet.sdk.operator import Operator
    from rivulet.sdk.ports import PortType

__all__ = ("DELIVER_COLLECT", "DELIVER_STREAM", "DELIVER_VALUE", "EdgePlan", "ExecutionPlan", "NodePlan")

DELIVER_VALUE = 0
DELIVER_STREAM = 1
DELIVER_COLLECT = 2


class EdgePlan:
    """How a value travels along one edge."""

    __slots__ = ("as_text", "edge", "mode", "source_port", "target", "target_port")

    def __init__(self, edge: CompiledEdge, target: NodePlan, mode: int, *, as_text: bool) -> None:
        self.edge = edge
        self.source_port = edge.source_port
        self.target = target
        self.target_port = edge.target_port
        self.mode = mode
        self.as_text = as_text
        """For collect edges: join text items into one string."""


class NodePlan:
    """One node, pre-digested for the scheduler."""

    __slots__ = (
        "cacheable",
        "chain",
        "direct",
        "has_inputs",
        "identity",
        "index",
        "instance",
        "is_output",
        "node",
        "operator_id",
        "out_edges",
        "plain",
        "required",
        "stream_ports",
        "timeout_s",
        "waits_for",
    )

    def __init__(self, node: CompiledNode, index: int, *, is_output: bool) -> None:
        self.node = node
        self.index = index
        self.operator_id = node.spec.id
        self.instance: Operator[Any, Any, Any] = node.operator()
        self.timeout_s = node.policy.timeout_s if node.policy.timeout_s is not None else node.spec.timeout_s
        self.direct = node.spec.concurrency is None and self.timeout_s is None and not node.spec.cpu_bound
        """An attempt is a plain await of the operator in the node's task (no limit, timeout or thread)."""
        self.required = tuple(port.name for port in node.inputs if port.required)
        self.stream_ports = frozenset(port.name for port in node.outputs if port.type.name == "Stream")
        self.cacheable = node.spec.cacheable and node.policy.cache and not self.stream_ports
        self.identity: bytes | None = None
        """``cache.node_identity`` of the node, computed at its first cache lookup (``b""``: not computable)."""
        self.waits_for = len(node.incoming)
        """Incoming edges that must settle (deliver or be known absent) before the node is decided."""
        self.has_inputs = bool(node.incoming)
        self.out_edges: list[EdgePlan] = []
        self.is_output = is_output
        self.plain = self.direct and not self.stream_ports and node.policy.retries == 0
        """One attempt, a plain await and value outputs: what a quiet run executes in its tight loop."""
        self.chain: EdgePlan | None = None
        """The only outgoing edge, when it delivers a value to a node that waits for nothing else (the next node
        of a chain: it is decided as soon as this one succeeds)."""


def _is_text(port_type: PortType) -> bool:
    while port_type.name == "Optional":
        port_type = port_type.args[0]
    return port_type.name == "Text"


def _mode(edge: CompiledEdge, source: CompiledNode, target: CompiledNode) -> tuple[int, bool]:
    source_type = next((p.type for p in source.outputs if p.name == edge.source_port), None)
    target_type = next((p.type for p in target.inputs if p.name == edge.target_port), None)
    if source_type is None or source_type.name != "Stream":
        return DELIVER_VALUE, False
    if edge.coercion == "collect" or (target_type is not None and target_type.name != "Stream"):
        return DELIVER_COLLECT, target_type is not None and _is_text(target_type)
    return DELIVER_STREAM, False


class ExecutionPlan:
    """Every node of a graph as a ``NodePlan`` in topological order, with edges resolved to plans."""

    __slots__ = ("by_id", "graph", "nodes", "output_ids", "waits")

    def __init__(self, graph: CompiledGraph) -> None:
        self.graph = graph
        outputs = set(graph.output_nodes) or {node_id for node_id, node in graph.nodes.items() if not node.outgoing}
        self.output_ids = tuple(node_id for node_id in graph.order if node_id in outputs)
        self.nodes = [
            NodePlan(graph.nodes[node_id], index, is_output=node_id in outputs)
            for index, node_id in enumerate(graph.order)
        ]
        self.by_id = {plan.node.id: plan for plan in self.nodes}
        self.waits = tuple(plan.waits_for for plan in self.nodes)
        """Each node's ``waits_for``, in order (copied into every run)."""
        for plan in self.nodes:
            for edge_id in plan.node.outgoing:
                edge = graph.edges[edge_id]
                target = self.by_id[edge.target]
                mode, as_text = _mode(edge, plan.node, target.node)
                plan.out_edges.append(EdgePlan(edge, target, mode, as_text=as_text))
        for plan in self.nodes:
            if len(plan.out_edges) == 1:
                edge = plan.out_edges[0]
                if edge.mode == DELIVER_VALUE and edge.target.waits_for == 1:
                    plan.chain = edge

    def descendants(self, roots: set[str]) -> set[str]:
        """``roots`` and every node downstream of them."""
        seen = set(roots)
        stack = list(roots)
        while stack:
            for edge in self.by_id[stack.pop()].out_edges:
                node_id = edge.target.node.id
                if node_id not in seen:
                    seen.add(node_id)
                    stack.append(node_id)
        return seen
