"""Publishing a flow version: compile it, mount its HTTP trigger and/or schedule, and undo that.

The HTTP layer (``rivulet.domain.endpoints``) checks who may publish and shapes the answers; this is the logic.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rivulet.lib.exceptions import ValidationError
from rivulet.publishing.registry import HTTP_TRIGGER, find_trigger, schedule_params
from rivulet.publishing.schedules import next_fire_after
from rivulet.sdk.triggers import HttpTriggerParams
from rivulet.storage.base import EndpointRecord, ScheduleRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.storage.base import ChangeNotifier, EndpointStore, FlowStore, ScheduleStore

__all__ = ("Publication", "Publisher")


@dataclass(frozen=True, slots=True)
class Publication:
    """What publishing a flow version mounted: its endpoint (with the trigger's params) and/or its schedule."""

    flow_id: str
    version: int
    endpoint: tuple[EndpointRecord, HttpTriggerParams] | None = None
    schedule: ScheduleRecord | None = None


class Publisher:
    """Publishes and unpublishes flow versions; every change is announced on the ``endpoints`` topic.

    Args:
        flows: Where the versions are read from.
        endpoints: Published endpoints.
        schedules: Published schedules.
        changes: Tells every replica to drop its cached endpoints.
        compile_graph: ``document → CompiledGraph`` (run in a worker thread: big templates take seconds).
    """

    def __init__(
        self,
        *,
        flows: FlowStore,
        endpoints: EndpointStore,
        schedules: ScheduleStore,
        changes: ChangeNotifier,
        compile_graph: Callable[[FlowDocument], CompiledGraph],
    ) -> None:
        self._flows = flows
        self._endpoints = endpoints
        self._schedules = schedules
        self._changes = changes
        self._compile_graph = compile_graph

    async def publish(
        self, flow_id: str, *, version: int | None, concurrency_limit: int | None, published_by: str | None
    ) -> Publication:
        """Publish a flow version (the latest when ``version`` is ``None``).

        Its ``trigger.http`` node becomes ``METHOD /f/{slug}``, its ``trigger.schedule`` node a schedule.
        Republishing replaces what the flow had published. The version is compiled first: a flow with compile
        errors (an unmet input rule included) publishes nothing.

        Raises:
            NotFoundError: No such flow or version.
            CompileError: The version does not compile.
            ValidationError: The flow has no trigger node.
            ConflictError: The slug belongs to another flow.
        """
        if version is None:
            document = (await self._flows.get(flow_id)).document
        else:
            document = (await self._flows.get_version(flow_id, version)).document
        graph = await asyncio.to_thread(self._compile_graph, document)  # big templates: seconds of CPU
        http = find_trigger(graph, HTTP_TRIGGER)
        schedule = schedule_params(graph)
        if http is None and schedule is None:
            raise ValidationError(
                "nothing to publish: add a trigger.http node (an endpoint) or a trigger.schedule node (a schedule)",
                extra={"errors": [{"path": "$.nodes", "message": "no trigger.http or trigger.schedule node"}]},
            )
        endpoint: tuple[EndpointRecord, HttpTriggerParams] | None = None
        if http is not None and isinstance(http[1], HttpTriggerParams):
            node_id, params = http
            record = await self._endpoints.publish(
                EndpointRecord(
                    slug=params.slug,
                    method=params.method,
                    flow_id=flow_id,
                    flow_version=graph.flow_version,
                    trigger_node_id=node_id,
                    concurrency_limit=concurrency_limit,
                    published_by=published_by,
                )
            )
            endpoint = (record, params)
        else:
            await self._endpoints.unpublish(flow_id)
        await self._changes.notify("endpoints")
        stored: ScheduleRecord | None = None
        if schedule is not None:
            node_id, params = schedule
            draft = await self._schedules.upsert(flow_id, graph.flow_version, node_id, params, None)
            first = next_fire_after(draft, datetime.now(UTC))
            stored = await self._schedules.upsert(flow_id, graph.flow_version, node_id, params, first)
        else:
            await self._schedules.delete_for_flow(flow_id)
        return Publication(flow_id=flow_id, version=graph.flow_version, endpoint=endpoint, schedule=stored)

    async def set_schedule_enabled(self, schedule_id: str, enabled: bool) -> ScheduleRecord:
        """Enable or disable a schedule; enabling compiles its flow version again (it may predate a rule).

        Raises:
            NotFoundError: No such schedule (or its flow version is gone).
            CompileError: Enabling a schedule whose flow version does not compile.
        """
        current = await self._schedules.get(schedule_id)
        if enabled:
            document = (await self._flows.get_version(current.flow_id, current.flow_version)).document
            await asyncio.to_thread(self._compile_graph, document)
        next_fire = next_fire_after(current, datetime.now(UTC)) if enabled else None
        return await self._schedules.set_enabled(schedule_id, enabled, next_fire)

    async def unpublish(self, flow_id: str) -> list[str]:
        """Remove the flow's endpoint and schedule; returns the unpublished slugs."""
        slugs = await self._endpoints.unpublish(flow_id)
        await self._schedules.delete_for_flow(flow_id)
        await self._changes.notify("endpoints")
        return slugs
