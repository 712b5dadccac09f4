"""The API views of what is published: an endpoint with its call statistics, a schedule with its next fires."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.domain.endpoints.schemas import EndpointRead, PublishResult, ScheduleRead
from rivulet.publishing.schedules import next_fire_after
from rivulet.storage.base import EndpointStats

if TYPE_CHECKING:
    from rivulet.publishing.service import Publication
    from rivulet.sdk.triggers import HttpTriggerParams
    from rivulet.storage.base import EndpointRecord, ScheduleRecord

__all__ = ("describe_endpoint", "describe_publication", "describe_schedule")


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


def describe_publication(publication: Publication) -> PublishResult:
    """The API view of what publishing mounted."""
    result = PublishResult(flow_id=publication.flow_id, version=publication.version)
    if publication.endpoint is not None:
        result.endpoint = describe_endpoint(*publication.endpoint, None)
    if publication.schedule is not None:
        result.schedule = describe_schedule(publication.schedule)
    return result
