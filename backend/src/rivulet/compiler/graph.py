"""``CompiledGraph``: the frozen, typed program the runtime executes. The runtime never reads canvas JSON."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from rivulet.compiler.flow import NodePolicy, Variable
from rivulet.sdk.operator import Operator, OperatorSpec, PortSpec
from rivulet.sdk.ports import PortType

__all__ = ("CompiledEdge", "CompiledGraph", "CompiledNode")


class CompiledEdge(msgspec.Struct, frozen=True, kw_only=True):
    """A type-checked connection."""

    id: str
    source: str
    source_port: str
    target: str
    target_port: str
    type: PortType
    """The concrete type flowing on the edge (generics resolved)."""
    coercion: Literal["collect"] | None = None
    """``collect``: the runtime gathers a ``Stream`` into a value before delivering it."""


class CompiledNode(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved node: operator class, validated params, concrete ports, policy."""

    id: str
    label: str
    spec: OperatorSpec
    operator: type[Operator[Any, Any, Any]]
    params: Any
    """An instance of ``operator.params_type`` (validated)."""
    inputs: tuple[PortSpec, ...]
    outputs: tuple[PortSpec, ...]
    policy: NodePolicy
    disabled: bool = False
    incoming: tuple[str, ...] = ()
    """Ids of edges into this node."""
    outgoing: tuple[str, ...] = ()
    """Ids of edges out of this node."""


class CompiledGraph(msgspec.Struct, frozen=True, kw_only=True):
    """The whole program, in topological ``order``."""

    flow_id: str
    flow_version: int
    name: str
    nodes: dict[str, CompiledNode]
    edges: dict[str, CompiledEdge]
    order: tuple[str, ...]
    """Node ids, each after all its upstream nodes."""
    variables: tuple[Variable, ...] = ()
    input_nodes: tuple[str, ...] = ()
    """Nodes of ``core.input`` / trigger operators (where run inputs enter)."""
    output_nodes: tuple[str, ...] = ()
    """Nodes of ``core.output`` (what a run returns)."""
    notes: tuple[str, ...] = ()
    """Informational messages from the compiler (e.g. collect steps it inserted)."""
