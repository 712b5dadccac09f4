"""Publishing logic: compile the version, mount its HTTP trigger and/or schedule, describe what is live."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rivulet.domain.endpoints.schemas import EndpointRead, PublishRequest, PublishResult, ScheduleRead
from rivulet.lib.exceptions import ConfigError, ValidationError
from rivulet.publishing.registry import HTTP_TRIGGER, find_trigger, schedule_params
from rivulet.publishing.schedules import next_fire_after
from rivulet.sdk.triggers import HttpTriggerParams
from rivulet.storage.base import EndpointRecord, EndpointStats

if TYPE_CHECKING:
    from rivulet.runtime.service import RunService
    from rivulet.security import Principal
    from rivulet.server.services import Services
    from rivulet.storage.base import ScheduleRecord

__all__ = ("describe_endpoint", "describe_schedule", "publish_flow", "set_schedule_enabled", "unpublish_flow")


def _runs(services: Services) -> RunService:
    if services.runs is None:
        raise ConfigError("the runtime is not configured in this process")
    return services.runs


def describe_endpoint(record: EndpointRecord, params: HttpTriggerParams, stats: EndpointStats | None) -> EndpointRead:
    """The API view of an endpoint."""
    return EndpointRead(
        endpoint=record,
        path=f"/f/{record.slug}",
        response=params.response,
        fields=list(params.fields),
        description=params.description,
        stats=stats or EndpointStats(),
    )


def describe_schedule(record: ScheduleRecord, missed: int = 0) -> ScheduleRead:
    """The API view of a schedule with its next five fire times."""
    upcoming: list[str] = []
    current = record.next_fire_at if record.enabled else None
    while current is not None and len(upcoming) < 5:
        upcoming.append(current.isoformat())
        current = next_fire_after(record, current)
    return ScheduleRead(schedule=record, upcoming=upcoming, missed=missed)


async def publish_flow(
    services: Services, flow_id: str, request: PublishRequest, principal: Principal
) -> PublishResult:
    """Publish a flow version.

    Its ``trigger.http`` node becomes ``METHOD /f/{slug}``, its ``trigger.schedule`` node a schedule.
    Republishing replaces what the flow had published. The version is compiled first: a flow with compile
    errors (an unmet input rule included) publishes nothing and its diagnostics come back in the 422.

    Raises:
        NotFoundError: No such flow or version.
        CompileError: The version does not compile.
        ValidationError: The flow has no trigger node.
        ConflictError: The slug belongs to another flow.
    """
    runs = _runs(services)
    if request.version is None:
        document = (await services.flows.get(flow_id)).document
    else:
        document = (await services.flows.get_version(flow_id, request.version)).document
    graph = await asyncio.to_thread(runs.compile_graph, document)  # big templates: seconds of CPU
    http = find_trigger(graph, HTTP_TRIGGER)
    schedule = schedule_params(graph)
    if http is None and schedule is None:
        raise ValidationError(
            "nothing to publish: add a trigger.http node (an endpoint) or a trigger.schedule node (a schedule)",
            extra={"errors": [{"path": "$.nodes", "message": "no trigger.http or trigger.schedule node"}]},
        )
    result = PublishResult(flow_id=flow_id, version=graph.flow_version)
    if http is not None and isinstance(http[1], HttpTriggerParams):
        node_id, params = http
        record = await services.endpoints.publish(
            EndpointRecord(
                slug=params.slug,
                method=params.method,
                flow_id=flow_id,
                flow_version=graph.flow_version,
                trigger_node_id=node_id,
                concurrency_limit=request.concurrency_limit,
                published_by=principal.username,
            )
        )
        result.endpoint = describe_endpoint(record, params, None)
    else:
        await services.endpoints.unpublish(flow_id)
    await services.changes.notify("endpoints")
    if schedule is not None:
        node_id, params = schedule
        draft = await services.schedules.upsert(flow_id, graph.flow_version, node_id, params, None)
        first = next_fire_after(draft, datetime.now(UTC))
        stored = await services.schedules.upsert(flow_id, graph.flow_version, node_id, params, first)
        result.schedule = describe_schedule(stored)
    else:
        await services.schedules.delete_for_flow(flow_id)
    return result


async def set_schedule_enabled(services: Services, schedule_id: str, enabled: bool) -> ScheduleRead:
    """Enable or disable a schedule; enabling compiles its flow version again (it may predate a rule).

    Raises:
        NotFoundError: No such schedule (or its flow version is gone).
        CompileError: Enabling a schedule whose flow version does not compile.
    """
    current = await services.schedules.get(schedule_id)
    if enabled:
        document = (await services.flows.get_version(current.flow_id, current.flow_version)).document
        await asyncio.to_thread(_runs(services).compile_graph, document)
    next_fire = next_fire_after(current, datetime.now(UTC)) if enabled else None
    updated = await services.schedules.set_enabled(schedule_id, enabled, next_fire)
    return describe_schedule(updated, await services.schedules.missed_count(schedule_id))


async def unpublish_flow(services: Services, flow_id: str) -> list[str]:
    """Remove the flow's endpoint and schedule; returns the unpublished slugs."""
    slugs = await services.endpoints.unpublish(flow_id)
    await services.schedules.delete_for_flow(flow_id)
    await services.changes.notify("endpoints")
    return slugs
