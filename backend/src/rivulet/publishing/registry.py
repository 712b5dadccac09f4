"""``EndpointRegistry``: slug → live endpoint (record, compiled graph, trigger params), cached per replica.

The cache is dropped on every ``endpoints`` change notice (any replica), so route lookups never restart the
server and never read a stale endpoint for longer than a notice takes to arrive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.graph import CompiledGraph
from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.triggers import HttpTriggerParams, ScheduleTriggerParams, body_struct
from rivulet.storage.base import EndpointRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.storage.base import EndpointStore, FlowStore

__all__ = ("HTTP_TRIGGER", "SCHEDULE_TRIGGER", "EndpointRegistry", "LiveEndpoint", "find_trigger")

_MAX_CACHED = 10_000
HTTP_TRIGGER = "trigger.http"
SCHEDULE_TRIGGER = "trigger.schedule"


@dataclass(frozen=True, slots=True)
class LiveEndpoint:
    """Everything a call needs, resolved once."""

    record: EndpointRecord
    graph: CompiledGraph
    params: HttpTriggerParams
    body_type: type[msgspec.Struct]
    owner_id: str | None = None
    """The published flow's owner (users other than the owner, its workspace and admins may not call it)."""
    workspace_id: str | None = None

    @property
    def streams(self) -> bool:
        """Responds with Server-Sent Events."""
        return self.params.response == "sse"


def find_trigger(graph: CompiledGraph, operator_id: str) -> tuple[str, Any] | None:
    """The (node id, params) of the graph's only enabled ``operator_id`` node, if any.

    Raises:
        ValidationError: More than one such node; the error names them.
    """
    found = [(n.id, n.params) for n in graph.nodes.values() if n.spec.id == operator_id and not n.disabled]
    if len(found) > 1:
        ids = ", ".join(node_id for node_id, _ in found)
        raise ValidationError(
            f"a flow can have one {operator_id} node, found {len(found)}: {ids}",
            extra={"errors": [{"node_id": node_id, "path": f"$.nodes[{node_id}]"} for node_id, _ in found]},
        )
    return found[0] if found else None


class EndpointRegistry:
    """Resolves ``/f/{slug}`` to a ``LiveEndpoint`` (``None`` when not published)."""

    def __init__(
        self, store: EndpointStore, flows: FlowStore, compile_graph: Callable[[FlowDocument], CompiledGraph]
    ) -> None:
        self._store = store
        self._flows = flows
        self._compile = compile_graph
        self._cache: dict[str, LiveEndpoint | None] = {}
        self._generation = 0

    def invalidate(self) -> None:
        """Forget every resolved endpoint."""
        self._cache.clear()
        self._generation += 1

    async def resolve(self, slug: str) -> LiveEndpoint | None:
        """The live endpoint at ``/f/{slug}``."""
        if slug in self._cache:
            return self._cache[slug]
        generation = self._generation
        live = await self._load(slug)
        if generation == self._generation:  # no change notice arrived while loading
            if len(self._cache) >= _MAX_CACHED:  # unknown slugs are cached too; keep the map bounded
                self._cache.clear()
            self._cache[slug] = live
        return live

    async def _load(self, slug: str) -> LiveEndpoint | None:
        record = await self._store.get(slug)
        if record is None:
            return None
        document = (await self._flows.get_version(record.flow_id, record.flow_version)).document
        graph = await asyncio.to_thread(self._compile, document)  # off the event loop: big templates take seconds
        node = graph.nodes.get(record.trigger_node_id)
        if node is None or not isinstance(node.params, HttpTriggerParams):
            return None
        summary = (await self._flows.get(record.flow_id)).summary
        return LiveEndpoint(
            record=record,
            graph=graph,
            params=node.params,
            body_type=body_struct(node.params),
            owner_id=summary.owner_id,
            workspace_id=summary.workspace_id,
        )


def schedule_params(graph: CompiledGraph) -> tuple[str, ScheduleTriggerParams] | None:
    """The graph's schedule trigger node and its params."""
    found = find_trigger(graph, SCHEDULE_TRIGGER)
    if found is None or not isinstance(found[1], ScheduleTriggerParams):
        return None
    return found[0], found[1]
