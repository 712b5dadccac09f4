"""The API views of what is published: an endpoint with its call statistics, a schedule with its next fires."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.domain.endpoints.schemas import EndpointRead, PublishResult, ScheduleRead
from rivulet.publishing.schedules import next_fire_after
from rivulet.storage.base import EndpointStats

if TYPE_CHECKING:
    from rivulet.publishing.service import Publication
    from rivulet.sdk.triggers import HttpTriggerParams
    from rivulet.storage.base import EndpointRecord, FlowSummary, ScheduleRecord

__all__ = ("describe_endpoint", "describe_publication", "describe_schedule")


def describe_endpoint(
    record: EndpointRecord, params: HttpTriggerParams, stats: EndpointStats | None, flow: FlowSummary | None = None
) -> EndpointRead:
    """The API view of an endpoint (with its flow's name when ``flow`` is given)."""
    return EndpointRead(
        endpoint=record,
        path=f"/f/{record.slug}",
        response=params.response,
        fields=list(params.fields),
        description=params.description,
        stats=stats or EndpointStats(),
        flow_name=flow.name if flow else None,
        flow_updated_at=flow.updated_at if flow else None,
    )


def describe_schedule(record: ScheduleRecord, missed: int = 0, flow: FlowSummary | None = None) -> ScheduleRead:
    """The API view of a schedule with its next five fire times (and its flow's name when ``flow`` is given)."""
    upcoming: list[str] = []
    current = record.next_fire_at if record.enabled else None
    while current is not None and len(upcoming) < 5:
        upcoming.append(current.isoformat())
        current = next_fire_after(record, current)
    if flow is None:
        return ScheduleRead(schedule=record, upcoming=upcoming, missed=missed)
    return ScheduleRead(
        schedule=record, upcoming=upcoming, missed=missed, flow_name=flow.name, flow_updated_at=flow.updated_at
    )


def describe_publication(publication: Publication) -> PublishResult:
    """The API view of what publishing mounted."""
    result = PublishResult(flow_id=publication.flow_id, version=publication.version)
    if publication.endpoint is not None:
        result.endpoint = describe_endpoint(*publication.endpoint, None)
    if publication.schedule is not None:
        result.schedule = describe_schedule(publication.schedule)
    return result
