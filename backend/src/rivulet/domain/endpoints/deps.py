"""What the publishing API uses, handed to its handlers as one dependency (``deps``)."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.publishing.audit import AuditLog
from rivulet.publishing.registry import EndpointRegistry
from rivulet.publishing.service import Publisher
from rivulet.storage.base import AuthStore, ChangeNotifier, EndpointStore, FlowStore, ScheduleStore

__all__ = ("PublishingDeps",)


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishingDeps:
    """Publishing, the published endpoints and schedules, the call audit, API keys, and the flows (access checks)."""

    publisher: Publisher
    endpoints: EndpointStore
    schedules: ScheduleStore
    published: EndpointRegistry
    audit: AuditLog
    auth: AuthStore
    changes: ChangeNotifier
    flows: FlowStore
